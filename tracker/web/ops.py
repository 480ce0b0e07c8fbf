"""Operations: health checks for load balancers, the favicon, and a plain 503 while the
database is away."""

from __future__ import annotations

import functools
import logging
from pathlib import Path

from flask import Blueprint, Response, current_app, request
from sqlalchemy.exc import InterfaceError, OperationalError

from tracker import database, observability
from tracker.extensions import db, htmx
from tracker.services import health
from tracker.web.api import answers

bp = Blueprint("ops", __name__)
log = logging.getLogger(__name__)
UNAVAILABLE = (
    "Weatherboard cannot reach its database right now. Nothing was changed. "
    "It usually comes back within a few seconds: try again in a moment."
)
RETRY_AFTER_SECONDS = 5


@bp.get("/healthz")
def healthz():
    """The process is alive and answering (no database access)."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    """Ready for traffic: the database answers a trivial query."""
    if not health.database_answers():
        return {"status": "database unavailable"}, 503
    return {"status": "ready"}


@bp.get("/favicon.ico")
def favicon():
    """The site's icon (static/favicon.ico), where every browser asks for it: without it
    each page would log a 404. Public, like the static files; 116 bytes, sent from memory."""
    return Response(
        _icon(current_app.static_folder),
        mimetype="image/vnd.microsoft.icon",
        headers={"Cache-Control": "public, max-age=86400"},
    )


@functools.cache
def _icon(static_folder: str) -> bytes:
    return (Path(static_folder) / "favicon.ico").read_bytes()


def database_unavailable(error: Exception):
    """503 with a plain message and a retry hint; the transaction is rolled back whole."""
    log.warning("database unavailable: %s", type(error).__name__)
    observability.note_error(error)
    database.abandon(db.session)
    retry = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if request.path.startswith(answers.PREFIX):  # a program: the API's JSON error shape
        return answers.error(503, "unavailable", UNAVAILABLE), 503, retry
    # Rendered without Flask's context processors: they would load the person from the very
    # database that is away.
    template = current_app.jinja_env.get_template(
        "errors/_message.html" if htmx else "errors/unavailable.html"
    )
    body = template.render(status=503, message=UNAVAILABLE, request=request)
    return body, 503, retry


def register(app) -> None:
    app.register_error_handler(OperationalError, database_unavailable)
    app.register_error_handler(InterfaceError, database_unavailable)
