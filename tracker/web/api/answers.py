"""The API's answers to what went wrong, as JSON (schemas.Error): a domain refusal by its
kind (the same table as the pages: tracker.web.errors.STATUSES; a WIP refusal and a stale
version are 409 here, with what a program needs to act on them), bad input 422 with a
message per field, and every HTTP error (401, 403, 404, 405, 429 ...) in the same shape."""

from __future__ import annotations

from flask import Blueprint, Flask, request
from werkzeug.exceptions import HTTPException

from tracker import observability
from tracker.domain.errors import DomainError, StaleCard, WipLimitExceeded
from tracker.web import errors
from tracker.web.api import present
from tracker.web.api.schemas import Error, Limit
from tracker.web.api.spec import Invalid, as_json

PREFIX = "/api/"
# HTTP status -> the error code the body names.
CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "invalid",
    429: "rate_limited",
}
MESSAGES = errors.PLAIN | {
    401: "Send a valid API token: Authorization: Bearer <token> (make one on your account page).",
    403: "Your role on this board, or your token's scope, does not allow that.",
    404: "There is no such thing here, or it is not yours to know of.",
    429: "Too many requests with this token. Wait a little, then try again.",
}


def error(status: int, code: str, message: str, **more) -> object:
    return as_json(Error(error=code, message=message, **more), status, terse=True)


def refused(failure: DomainError):
    """A domain refusal (nothing was changed: the transaction is rolled back)."""
    status = errors.refusal(failure)
    if isinstance(failure, WipLimitExceeded):
        limits = [Limit.model_validate(breach) for breach in failure.breaches]
        return error(
            409,
            "wip_limit",
            failure.message,
            limits=limits,
            overridable=failure.overridable,
        )
    if isinstance(failure, StaleCard):
        card = present.card(failure.current)
        return error(409, "stale_version", failure.message, card=card)
    code = CODES.get(status, "refused")
    return error(status, "refused" if status == 422 else code, failure.message)


def invalid(failure: Invalid):
    observability.note_error(failure)
    return error(422, "invalid", "Check the fields named.", fields=failure.fields)


def http_error(failure: HTTPException):
    observability.note_error(getattr(failure, "original_exception", None) or failure)
    status = failure.code or 500
    if status >= 500:
        message = errors.PLAIN[500]
    else:
        message = MESSAGES.get(status, failure.description or "That did not work.")
    response = error(status, CODES.get(status, "error"), message)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="weatherboard"'
    allow = dict(failure.get_headers()).get("Allow")
    if allow:  # 405: the methods the path takes
        response.headers["Allow"] = allow
    return response


def register(bp: Blueprint) -> None:
    """The blueprint's own handlers: every refusal in its views (and in the guard before
    them) answers JSON."""
    bp.register_error_handler(DomainError, refused)
    bp.register_error_handler(Invalid, invalid)
    bp.register_error_handler(HTTPException, http_error)


def register_app(app: Flask) -> None:
    """A path under /api/ that no rule matches (404), or a method it does not take (405),
    answers JSON too (no blueprint's handler hears those)."""

    def unrouted(failure: HTTPException):
        if request.path.startswith(PREFIX):
            return http_error(failure)
        return errors.handle_http_error(failure)

    app.register_error_handler(404, unrouted)
    app.register_error_handler(405, unrouted)
