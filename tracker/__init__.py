"""Weatherboard: a Kanban tracker with support and feature swimlanes and WIP limits."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: config, extensions, database hooks, blueprints, CLI, error handlers."""
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    from tracker import config

    config.load(app, test_config)
    register_proxy_fix(app)
    register_observability(app)
    register_extensions(app)
    register_access(app)
    register_database_hooks(app)
    register_host(app)
    register_subscribers(app)
    register_converters(app)
    register_blueprints(app)
    register_rate_limits(app)
    register_cli(app)
    register_error_handlers(app)
    register_template_helpers(app)
    return app


def register_proxy_fix(app: Flask) -> None:
    """Behind N proxies, take client address, scheme and host from their forwarded headers."""
    count = app.config.get("PROXY_COUNT", 0)
    if count:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)


def register_observability(app: Flask) -> None:
    """Request ids, JSON log lines and /metrics; first, so every request is timed and named."""
    from tracker import observability

    observability.register(app)


def register_extensions(app: Flask) -> None:
    from tracker.extensions import compress, csrf, db, htmx, login_manager, migrate
    from tracker.web import auth

    compress.init_app(app)  # (unless COMPRESS_REGISTER is off) its after_request runs last
    # of those registered from here on, so it compresses the final body
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    htmx.init_app(app)
    login_manager.init_app(app)
    auth.configure_login(login_manager)
    auth.configure_sessions(app)


def register_access(app: Flask) -> None:
    """Every request passes the permission table (tracker.web.access.ROUTES) before its view."""
    from tracker.web import access

    app.before_request(access.guard_request)


def register_database_hooks(app: Flask) -> None:
    from tracker import database
    from tracker.extensions import db

    with app.app_context():
        database.configure_engine(db.engine)
    database.attach_search_index(db.metadata)
    # Runs before Flask-SQLAlchemy's own teardown (they run in reverse order), which then
    # finds the session closed.
    app.teardown_appcontext(lambda _error: database.end_session(db.session))


def register_host(app: Flask) -> None:
    """The services ask the running app for its config, links and mail templates here."""
    from tracker.services import host
    from tracker.web.host import FlaskHost

    host.install(FlaskHost())


def register_subscribers(app: Flask) -> None:
    """Log, metrics, the audit guard and mail follow changes: tracker.subscribers lists how."""
    from tracker import subscribers

    subscribers.register_subscribers(app)


def register_converters(app: Flask) -> None:
    """Every <int:...> in a URL is an id the database can hold (else 404 from routing);
    before the blueprints, whose rules take their converters when they are added."""
    from tracker.web.params import IdConverter

    app.url_map.converters["int"] = IdConverter


def register_blueprints(app: Flask) -> None:
    from tracker.extensions import csrf
    from tracker.web import (
        account,
        admin,
        alerts,
        audit,
        auth,
        board,
        boards,
        conversation,
        desk,
        emergency,
        flow,
        incidents,
        intake,
        notifications,
        ops,
        reports,
        rotation,
        settings,
        webhooks,
    )
    from tracker.web.api import views as api

    for module in (
        auth,
        boards,
        board,
        conversation,
        incidents,
        settings,
        ops,
        emergency,
        reports,
        flow,
        rotation,
        intake,
        admin,
        account,
        audit,
        notifications,
        webhooks,
        alerts,
        api,
        desk,
    ):
        app.register_blueprint(module.bp)
    # Alertmanager authenticates with a board's alert token, never a session: no CSRF token.
    csrf.exempt(alerts.bp)
    # The API takes bearer tokens only, never the session cookie (tracker.web.access), so
    # no cross-site form can act through it: it needs no CSRF token.
    csrf.exempt(api.bp)


def register_rate_limits(app: Flask) -> None:
    """Login attempts limited per address and per account (after the login view exists)."""
    from tracker.web import ratelimit

    ratelimit.register(app)


def register_cli(app: Flask) -> None:
    from tracker import cli

    cli.register(app)


def register_error_handlers(app: Flask) -> None:
    from tracker.web import errors, ops, security
    from tracker.web.api import answers

    errors.register(app)
    answers.register_app(app)
    ops.register(app)
    security.register(app)


def register_template_helpers(app: Flask) -> None:
    from tracker.web import presenters

    presenters.register(app)


def compile_templates(app: Flask) -> int:
    """Compile every page template of the app now, not on the first request that renders
    it: gunicorn.conf.py does this in the master before it forks the workers, so no
    worker's first page pays for it (the board page's first render took about 45 ms more
    than the next ones, in process). Returns how many templates were compiled."""
    names = app.jinja_env.list_templates(filter_func=lambda name: name.endswith(".html"))
    for name in names:
        app.jinja_env.get_template(name)
    return len(names)
