"""One place that turns refusals into HTTP answers a person can act on."""

from __future__ import annotations

from flask import current_app, g, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from tracker import database, observability
from tracker.domain.errors import DomainError, StaleCard, WipLimitExceeded
from tracker.extensions import db, htmx

PLAIN = {
    400: "That request was not understood. Reload the page and try again.",
    401: "Please log in first.",
    403: "Your role on this board does not allow that.",
    404: "There is nothing here. The link may be old, or you may not have access.",
    405: "That action is not available this way.",
    409: "Someone changed this while you were working on it.",
    413: "That is more text than this form takes.",
    422: "That could not be done.",
    500: "Something went wrong on our side. Nothing was changed; try again in a moment.",
}


def register(app) -> None:
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)


def message_page(status: int, message: str):
    """A plain message: a small fragment for htmx, a page otherwise.

    The page's header names the person logged in, read from the database. When the
    database is away that read fails, and the same message is shown without the header
    (rendered without Flask's context processors, which would read the person too)."""
    template = "errors/_message.html" if htmx else "errors/page.html"
    try:
        return render_template(template, status=status, message=message), status
    except database.AWAY:
        database.abandon(db.session)
        bare = current_app.jinja_env.get_template(
            "errors/_message.html" if htmx else "errors/bare.html"
        )
        return bare.render(status=status, message=message), status


def handle_http_error(error: HTTPException):
    # A 500 stands for the exception no handler answered: its type is the one to log.
    observability.note_error(getattr(error, "original_exception", None) or error)
    status = error.code or 500
    return message_page(status, PLAIN.get(status, error.description or "That did not work."))


def handle_csrf_error(error: CSRFError):
    observability.note_error(error)
    return message_page(
        400,
        "This form has expired (its security token is missing or old). "
        "Reload the page and try again; nothing was changed.",
    )


def handle_domain_error(error: DomainError):
    """Refused by a rule: nothing changed. Re-render what the person was looking at."""
    from tracker.web import board as board_views
    from tracker.web.forms import EditCardForm

    db.session.rollback()
    observability.note_error(error)
    observability.count_refusal(error)
    board, actor = g.get("board"), g.get("actor")
    if board is None or error.status in (403, 404):
        return message_page(error.status, error.message)
    card_id = (request.view_args or {}).get("card_id")
    if isinstance(error, StaleCard):
        card = db.session.get(type(error.current), error.current.id)
        yours = {k: request.form.get(k, "") for k in ("title", "description")}
        return board_views.panel_error(
            board,
            actor,
            card,
            EditCardForm(obj=card, formdata=None),
            error.message,
            status=409,
            yours=yours,
        )
    override = None
    if isinstance(error, WipLimitExceeded) and error.overridable and card_id:
        override = {
            "card_id": card_id,
            "action": request.endpoint,
            "fields": {k: v for k, v in request.form.items() if k not in ("csrf_token", "reason")},
        }
    return board_views.render_board(
        board, actor, status=error.status, error={"message": error.message, "override": override}
    )
