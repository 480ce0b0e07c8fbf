"""The layers hold: services and the domain read no Flask request globals (they take the
actor, its address and the app's values as arguments or through services.host), and every
side effect that follows a change is subscribed in tracker/subscribers.py, nowhere else."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from flask import got_request_exception
from flask_login import user_logged_in, user_logged_out
from sqlalchemy import event
from sqlalchemy.orm import Session

from tracker import store, subscribers
from tracker.extensions import db

ROOT = Path(__file__).resolve().parent.parent
# Modules that hand out the request, the logged-in person or the running app.
FORBIDDEN = ("flask", "flask_login", "flask_wtf", "flask_htmx", "werkzeug.local")
# And the layer above: a service never reaches into the web adapters.
ABOVE = ("tracker.web", "tracker.subscribers")


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.append(node.module or "")
    return names


def _under(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == package or name.startswith(package + ".") for package in packages)


def test_services_and_the_domain_import_no_request_globals():
    offenders = [
        (str(path.relative_to(ROOT)), name)
        for folder in ("tracker/services", "tracker/domain")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for name in _imports(path)
        if _under(name, FORBIDDEN + ABOVE)
    ]
    assert offenders == []


def test_the_walk_sees_the_services_it_checks():
    """The walk above covers the packages inside services too (mail)."""
    walked = {p.relative_to(ROOT).as_posix() for p in (ROOT / "tracker/services").rglob("*.py")}
    assert {"tracker/services/mail/outbox.py", "tracker/services/intake.py"} <= walked
    assert _under("flask.globals", FORBIDDEN) and not _under("flasky", FORBIDDEN)


SUBSCRIBING = re.compile(r"event\.listen\(|listens_for\(|\.connect\(")


def test_only_the_subscribers_module_subscribes_to_events():
    """Session hooks and signals are subscribed in tracker/subscribers.py; the engine's
    connection set-up in tracker/database.py is configuration, not a side effect."""
    allowed = {"tracker/subscribers.py", "tracker/database.py"}
    offenders = [
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "tracker").rglob("*.py")
        if path.relative_to(ROOT).as_posix() not in allowed and SUBSCRIBING.search(path.read_text())
    ]
    assert offenders == []


def test_every_subscription_in_the_table_is_live_in_the_app(app):
    signals = {
        "user_logged_in": user_logged_in,
        "user_logged_out": user_logged_out,
        "got_request_exception": got_request_exception,
    }
    assert subscribers.SUBSCRIPTIONS
    for subscription in subscribers.SUBSCRIPTIONS:
        assert subscription.why, subscription
        if subscription.source == subscribers.APP_SESSION:
            assert event.contains(db.session, subscription.event, subscription.handler)
        elif subscription.source == subscribers.EVERY_SESSION:
            assert event.contains(Session, subscription.event, subscription.handler)
        elif subscription.source == subscribers.STORE:
            assert subscription.handler in store._EVENT_LISTENERS, subscription
        else:
            receivers = signals[subscription.event].receivers.values()
            assert subscription.handler in receivers, subscription
