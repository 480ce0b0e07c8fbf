"""Observability: Prometheus metrics at /metrics, a request id, and JSON log lines.

Metrics (prometheus_client): requests and their latency by endpoint name (never the raw
path), method and status; WIP refusals by the scope of the limit (lane, column, person);
pulls; WIP overrides; cards created by severity; intake requests by severity. The card
figures come from the history events a transaction commits (session hooks that
tracker.subscribers lists), so a rolled-back change counts nothing.

Logs: one JSON object per line on the "tracker" logger (stderr): time, level, event,
request_id and ids only (board_id, card_id, actor_id, kind, ...), never titles, names,
emails, usernames or reasons. A line for every committed change (card.<kind> for history
events, <table>.created/updated/deleted for other rows), every login, failed login and
logout, every request (the live board's unchanged polls at debug level only, and out of
the development server's log too: quiet_polls), and every error answer (4xx at info level,
5xx at error level, with the exception's type).

Several gunicorn workers: set PROMETHEUS_MULTIPROC_DIR to an empty folder the workers
share (gunicorn.conf.py empties it at start and marks dead workers); /metrics then adds up
every worker's figures.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import re
import sys
import time
import traceback
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    g,
    has_request_context,
    request,
)
from flask.logging import default_handler
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from tracker.domain.errors import WipLimitExceeded
from tracker.domain.vocabulary import EventKind
from tracker.extensions import db
from tracker.models import Card, User

bp = Blueprint("observability", __name__)
log = logging.getLogger("tracker")

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
LOOPBACK = frozenset({"127.0.0.1", "::1"})
# Rows whose changes are logged as card.<kind> history events, or not at all: a card's own
# row changes with every event, and the board row only bumps its version with them.
_QUIET_TABLES = frozenset({"card", "card_event"})


# The live board's poll answered "nothing changed" (tracker.web.board.live).
POLL_UNCHANGED = ("board.live", 204)

_HTTP_METHODS = frozenset(
    ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE")
)


@dataclass(frozen=True)
class Metrics:
    requests: Counter
    latency: Histogram
    wip_refusals: Counter
    pulls: Counter
    wip_overrides: Counter
    cards_created: Counter
    intake_requests: Counter


@cache
def metrics() -> Metrics:
    """The process's metrics, made once on first use (prometheus_client's default registry)."""
    return Metrics(
        requests=Counter(
            "tracker_http_requests",
            "HTTP requests answered, by endpoint name, method and status.",
            ["endpoint", "method", "status"],
        ),
        latency=Histogram(
            "tracker_http_request_duration_seconds",
            "Time to answer a request, by endpoint name and method.",
            ["endpoint", "method"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
        ),
        wip_refusals=Counter(
            "tracker_wip_refusals",
            "Moves, pulls or assignments refused by a WIP limit, by the limit's scope.",
            ["scope"],
        ),
        pulls=Counter("tracker_pulls", "Cards pulled (Pull next)."),
        wip_overrides=Counter("tracker_wip_overrides", "WIP limits exceeded with a reason."),
        cards_created=Counter("tracker_cards_created", "Cards created, by severity.", ["severity"]),
        intake_requests=Counter(
            "tracker_intake_requests",
            "Requests filed by support staff through intake, by severity.",
            ["severity"],
        ),
    )


def register(app: Flask) -> None:
    """Read the settings, then add the request hooks, /metrics and logs (the session and
    login hooks are in tracker.subscribers).

    Register before the other extensions, so every request has its id and start time even
    when a later hook (CSRF, login) answers early. The settings (METRICS, METRICS_TOKEN,
    LOG_LEVEL, METRICS_MULTIPROCESS_DIR) come from tracker.config.
    """
    metrics()
    app.before_request(_start_request)
    app.after_request(_finish_request)
    if app.config["METRICS"]:
        app.register_blueprint(bp)
    if not app.testing or app.config.get("LOG_JSON"):
        configure_logging(app.config["LOG_LEVEL"])
    quiet_polls(app)


# --- requests ---------------------------------------------------------------------------


def request_id() -> str | None:
    """The current request's id (None outside a request)."""
    return g.get("request_id") if has_request_context() else None


def _start_request() -> None:
    g.request_started = time.perf_counter()
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = incoming if _SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex


def method_label(method: str) -> str:
    """The request's method as a metrics label: the client chooses it, so any method HTTP
    does not define is counted as "other" (each new label value would be a new series)."""
    return method if method in _HTTP_METHODS else "other"


def _finish_request(response):
    endpoint = request.endpoint or "none"
    status = response.status_code
    method = method_label(request.method)
    m = metrics()
    m.requests.labels(endpoint, method, str(status)).inc()
    started = g.get("request_started")
    seconds = time.perf_counter() - started if started is not None else None
    if seconds is not None:
        m.latency.labels(endpoint, method).observe(seconds)
    rid = g.get("request_id")
    if rid:
        response.headers[REQUEST_ID_HEADER] = rid
    if endpoint == "auth.login" and request.method == "POST" and status == 422:
        log_event("auth.login_failed", user_id=_user_id_for_failed_login())
    # One line per request, by endpoint: never the path or query string (a status link's
    # token, an email searched for erasure, a board filter's text).
    view_args = request.view_args or {}
    ids = {
        "status": status,
        "endpoint": endpoint,
        "method": request.method,
        "board_id": view_args.get("board_id"),
        "actor_id": _current_user_id(),
    }
    if status >= 400:
        log_event(
            "http.error" if status >= 500 else "http.refused",
            level=logging.ERROR if status >= 500 else logging.INFO,
            error=g.get("error_type"),
            card_id=view_args.get("card_id"),
            **ids,
        )
    elif seconds is not None:
        # An open board asks every 2 s whether it changed: "no" (204) is logged at debug
        # level only, so the log shows what people did (TRACKER_LOG_LEVEL=debug: every poll).
        level = logging.DEBUG if (endpoint, status) == POLL_UNCHANGED else logging.INFO
        log_event("http.request", level=level, ms=round(seconds * 1000, 1), **ids)
    return response


def note_error(error: BaseException) -> None:
    """Note the type of the exception a request's answer stands for, for its error log line.

    Flask's error handlers (domain refusals, 404s, the 503 while the database is away)
    receive the exception but leave no trace of it on the response, so each of them calls
    this; Flask's got_request_exception signal notes the ones no handler answered (500):
    remember_unhandled, subscribed in tracker.subscribers.
    """
    g.error_type = type(error).__name__


def remember_unhandled(sender, exception, **extra) -> None:
    """A request raised an exception no handler took: note its type for the log line."""
    note_error(exception)


def _current_user_id() -> int | None:
    """The logged-in person's id if Flask-Login loaded them in this request (no query)."""
    return _id_of(g.get("_login_user"))


def _id_of(user) -> int | None:
    """A person's id from the identity map: never a query, even after a rollback expired it."""
    state = sa_inspect(user, raiseerr=False) if user is not None else None
    if state is None or state.identity is None:
        return None
    return state.identity[0]


def _user_id_for_failed_login() -> int | str:
    """The id of the account someone failed to log in to, or "unknown"; never the name."""
    typed = (request.form.get("username") or "").strip().lower()
    if not typed:
        return "unknown"
    try:
        found = db.session.execute(select(User.id).where(User.username == typed)).scalar()
    except SQLAlchemyError:
        db.session.rollback()
        return "unknown"
    return found if found is not None else "unknown"


# --- /metrics ----------------------------------------------------------------------------


@bp.get("/metrics")
def show_metrics():
    """The Prometheus exposition: to loopback clients, or to anyone with the bearer token."""
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), token.encode()
        ):
            return "A valid bearer token is needed.\n", 401, {"WWW-Authenticate": "Bearer"}
    elif request.remote_addr not in LOOPBACK:
        abort(404)
    return generate_latest(_registry()), 200, {"Content-Type": CONTENT_TYPE_LATEST}


def _registry():
    """Every worker's figures when PROMETHEUS_MULTIPROC_DIR is set, else this process's."""
    folder = current_app.config.get("METRICS_MULTIPROCESS_DIR")
    if folder:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=folder)
        return registry
    return REGISTRY


def count_refusal(error: Exception) -> None:
    """Count a WIP refusal once per limit it hit (called by the domain-error handlers)."""
    if isinstance(error, WipLimitExceeded):
        for breach in error.breaches:
            metrics().wip_refusals.labels(breach.scope).inc()


# --- committed changes --------------------------------------------------------------------

_PENDING = "observability_pending"


def collect_flushed(session, _flush_context) -> None:
    """Note what a flush wrote, as plain values (after the commit nothing may be loaded)."""
    pending = session.info.setdefault(_PENDING, [])
    for obj in session.new:
        if isinstance(obj, Card):
            pending.append(("card", (obj.severity, getattr(obj, "filed_by_id", None))))
        else:
            pending.append(("row", _row_change(obj, "created")))
    for obj in session.dirty:
        if getattr(obj, "__tablename__", "") not in _QUIET_TABLES and session.is_modified(obj):
            change = _row_change(obj, "updated")
            if change["fields"] != ["version"]:
                pending.append(("row", change))
    for obj in session.deleted:
        pending.append(("row", _row_change(obj, "deleted")))


_EVENT_IDS = ("card_id", "board_id", "actor_id", "from_column_id", "to_column_id")


def note_event(session, event_id: int, values: dict[str, Any]) -> None:
    """Report a card history event when its transaction commits (tracker.store.append_event
    writes events with Core, so no flush shows them): its kind and ids only, never its
    reason or changes, which may quote a card's text."""
    event = {"kind": values["kind"], "event_id": event_id}
    event |= {key: values[key] for key in _EVENT_IDS}
    session.info.setdefault(_PENDING, []).append(("event", event))


def _row_change(obj, verb: str) -> dict[str, Any]:
    state = sa_inspect(obj)
    mapper = state.mapper
    identity = state.identity or tuple(  # a new row's key is in its attributes after the flush
        state.dict.get(mapper.get_property_by_column(column).key) for column in mapper.primary_key
    )
    fields = sorted(
        attr.key
        for attr in state.attrs
        if verb == "updated" and attr.history.has_changes() and attr.key in state.mapper.columns
    )
    return {
        "table": getattr(obj, "__tablename__", type(obj).__name__.lower()),
        "verb": verb,
        "id": identity[0] if len(identity) == 1 else list(identity),
        "fields": fields,
    }


def report_committed(session) -> None:
    """Count and log what the transaction committed. Outside a request: debug lines only."""
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    in_request = has_request_context()
    level = logging.INFO if in_request else logging.DEBUG
    m = metrics()
    for what, values in pending:
        if what == "event":
            log_event(f"card.{values['kind']}", level=level, **values)
            if in_request and values["kind"] == EventKind.PULLED:
                m.pulls.inc()
            elif in_request and values["kind"] == EventKind.WIP_OVERRIDE:
                m.wip_overrides.inc()
        elif what == "card":
            if in_request:
                severity, filed_by_id = values
                m.cards_created.labels(severity or "none").inc()
                if filed_by_id is not None:
                    m.intake_requests.labels(severity or "none").inc()
        else:
            table, verb = values.pop("table"), values.pop("verb")
            if not values["fields"]:
                values.pop("fields")
            log_event(f"{table}.{verb}", level=level, **values)


def forget_uncommitted(session, transaction) -> None:
    if transaction.parent is None:  # the outermost transaction ended: rolled back or closed
        session.info.pop(_PENDING, None)


# --- logins -------------------------------------------------------------------------------


def logged_in(sender, user, **extra) -> None:
    log_event("auth.login", user_id=_id_of(user))


def logged_out(sender, user, **extra) -> None:
    log_event("auth.logout", user_id=_id_of(user))


# --- JSON log lines -----------------------------------------------------------------------


def log_event(event: str, level: int = logging.INFO, **ids: Any) -> None:
    """One structured line: the event's name and ids only (no titles, names, emails)."""
    ids = {key: value for key, value in ids.items() if value is not None}
    log.log(level, event, extra={"event": event, "ids": ids, "request_id": request_id()})


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, event, request_id, then the event's ids.

    An exception shows as its type and the frames it passed (file:line function), never
    its message, which may quote the data that caused it.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "event": getattr(record, "event", None) or record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        if record.name != log.name:
            entry["logger"] = record.name
        entry.update(getattr(record, "ids", None) or {})
        if record.exc_info and record.exc_info[0] is not None:
            entry["exception"] = record.exc_info[0].__name__
            entry["frames"] = [
                f"{os.path.basename(f.filename)}:{f.lineno} {f.name}"
                for f in traceback.extract_tb(record.exc_info[2])[-12:]
            ]
        return json.dumps(entry, default=str, separators=(",", ":"))


class RequestIdFilter(logging.Filter):
    """Give every record logged during a request that request's id."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id()
        return True


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (as logging's last-resort handler does)."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr


def json_handler(stream=None) -> logging.Handler:
    """A handler writing JSON lines to stream (stderr by default)."""
    handler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    handler.observability = True  # type: ignore[attr-defined]
    return handler


class QuietPolls(logging.Filter):
    """Drops the development server's line (the "werkzeug" logger's) for each unchanged
    live poll (POLL_UNCHANGED): an open board asks every 2 s, and the line said nothing
    that the app's own debug line does not. Any other request's line is kept."""

    _LINE = re.compile(r'"([A-Z]+) (\S+) HTTP/[^"]*" (\d{3}) ')
    _ANSI = re.compile(r"\x1b\[[0-9;]*m")

    def __init__(self, app: Flask) -> None:
        super().__init__()
        self.url_map = app.url_map  # bound when a line is read: the rules come after this

    def filter(self, record: logging.LogRecord) -> bool:
        found = self._LINE.search(self._ANSI.sub("", record.getMessage()))
        if found is None or int(found.group(3)) != POLL_UNCHANGED[1]:
            return True
        method, target = found.group(1), found.group(2)
        try:
            urls = self.url_map.bind("localhost")
            endpoint, _args = urls.match(target.partition("?")[0], method=method)
        except HTTPException:
            return True
        return endpoint != POLL_UNCHANGED[0]


def quiet_polls(app: Flask) -> None:
    """Keep unchanged live polls out of the development server's log, unless the log level
    (TRACKER_LOG_LEVEL) is debug. Only `flask run` logs through the "werkzeug" logger;
    gunicorn keeps no access log unless asked (gunicorn.conf.py)."""
    logger = logging.getLogger("werkzeug")
    for old in [f for f in logger.filters if isinstance(f, QuietPolls)]:
        logger.removeFilter(old)
    if str(app.config["LOG_LEVEL"]).upper() != "DEBUG":
        logger.addFilter(QuietPolls(app))


def configure_logging(level: str = "INFO") -> None:
    """Send the "tracker" logger (the app's logger) to stderr as JSON lines, once.

    Replaces Flask's plain default handler; the logger still propagates, so a host that
    configures the root logger (or pytest's caplog) sees the records too.
    """
    logger = logging.getLogger("tracker")
    logger.removeHandler(default_handler)
    for handler in list(logger.handlers):
        if getattr(handler, "observability", False):
            logger.removeHandler(handler)
    logger.addHandler(json_handler())
    logger.setLevel(level)
