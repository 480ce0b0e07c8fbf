"""Security headers on every response: a strict Content-Security-Policy and friends;
`Cache-Control: no-store` on whatever a logged-in person is answered and on every export;
and no bidirectional control character in any text a template prints."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, g, request, session

from tracker.domain.text import strip_bidi

# No inline script, no inline event handler, no inline style attribute: htmx is configured
# through its meta tag, and the one script (static/app.js) is a file.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


# Exports carry a board's data whoever asks: never kept by a browser or a shared cache.
PRIVATE_TYPES = {"text/csv"}


def _logged_in() -> bool:
    """Whether the request came from a logged-in person, without a database read: the user
    Flask-Login loaded for the view, or else the session's user id (an error page answered
    before any view ran, even with the database away)."""
    user = g.get("_login_user")
    if user is not None:
        return bool(user.is_authenticated)
    return "_user_id" in session


def add_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.endpoint != "static" and (response.mimetype in PRIVATE_TYPES or _logged_in()):
        # A board, a request, a report, an export: not for the browser's disk cache, the
        # back button after logout or a proxy in between. Static files keep their caching.
        response.headers["Cache-Control"] = "no-store"
    return response


def printable(value: Any) -> Any:
    """Jinja's finalize: every value a template prints loses its bidirectional controls,
    which could make a title, a name or a heading read backwards (U+202E) or hide a part
    of it. Markup stays Markup (removing these characters cannot make a tag)."""
    return strip_bidi(value) if isinstance(value, str) else value


def register(app: Flask) -> None:
    app.after_request(add_headers)
    app.jinja_env.finalize = printable
