"""Refusals as HTTP answers a person can act on: the status each kind of domain error
answers (STATUSES), the plain message page, and the app-wide handlers.

A blueprint whose pages can show a refusal in place answers domain errors itself
(`answer_refusals(bp, REFUSED_PAGES)`: a small mapping of its endpoints to the page each
shows again, or its own `@bp.errorhandler(DomainError)` calling `answer_refusal`); the
app-wide handler here answers the rest with the plain message page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from flask import Blueprint, current_app, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from tracker import database, observability
from tracker.domain.errors import DomainError, NotAllowed, NotFound, StaleCard
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

# The status each kind of refusal answers, in every blueprint. Any other domain error (a
# broken rule, input that cannot be done) is 422: the page again with the message.
REFUSED = 422
STATUSES: dict[type[DomainError], int] = {NotFound: 404, NotAllowed: 403, StaleCard: 409}
# Refusals that never show the page again: it is not there, or not for this person.
PLAIN_ONLY = frozenset({403, 404})

# A page shown again with a refusal's message: (the error, the status) -> the answer.
Refusal = Callable[[DomainError, int], object]


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


def status_of(error: DomainError) -> int:
    """The HTTP status a refusal answers (STATUSES, by its class or the nearest base)."""
    for kind in type(error).__mro__:
        if kind in STATUSES:
            return STATUSES[kind]
    return REFUSED


def refusal(error: DomainError) -> int:
    """Undo what the refused request began (none of it may be committed), note and count the
    refusal, and give the status to answer with."""
    db.session.rollback()
    observability.note_error(error)
    observability.count_refusal(error)
    return status_of(error)


def answer_refusal(error: DomainError, page: Refusal | None):
    """A blueprint's answer to a refusal: `page` (the one its endpoint shows again, with the
    message), or the plain message page when there is none, or when the thing is not found
    or not allowed (PLAIN_ONLY)."""
    status = refusal(error)
    if page is None or status in PLAIN_ONLY:
        return message_page(status, error.message)
    return page(error, status)


def answer_refusals(bp: Blueprint, pages: Mapping[str, Refusal]) -> None:
    """Register the blueprint's refusal handler: the page its endpoint shows again (pages),
    else the plain message page."""

    def refused(error: DomainError):
        return answer_refusal(error, pages.get(request.endpoint or ""))

    bp.register_error_handler(DomainError, refused)


def handle_domain_error(error: DomainError):
    """A refusal in a view whose blueprint does not answer it: the plain message page."""
    return message_page(refusal(error), error.message)
