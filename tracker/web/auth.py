"""Logging in and out. Sessions carry a per-person token checked on every request."""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote, urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, current_user, login_user, logout_user
from werkzeug.exceptions import HTTPException

from tracker.extensions import htmx
from tracker.models import User
from tracker.services import boards, users
from tracker.web import access, ratelimit
from tracker.web.forms import EmptyForm, LoginForm

bp = Blueprint("auth", __name__)


def configure_login(manager: LoginManager) -> None:
    """Load people by session token; send anonymous htmx requests a 401 with HX-Redirect."""
    manager.login_view = "auth.login"
    manager.login_message = "Please log in to see that page."
    manager.session_protection = "basic"

    @manager.user_loader
    def load_user(token: str) -> User | None:
        return access.load_person(token)

    @manager.unauthorized_handler
    def unauthorized():
        login_url = url_for("auth.login", next=return_page())
        if htmx:
            return "", 401, {"HX-Redirect": login_url}
        flash(manager.login_message, "info")
        return redirect(login_url)


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, Secure whenever the request came over https (directly
    or through a trusted proxy), not only when TRACKER_SECURE_COOKIES says so."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


def configure_sessions(app: Flask) -> None:
    app.session_interface = SessionInterface()


def start_session(user: User) -> None:
    """Log a person in on a fresh session: nothing from before (the CSRF secret, a next
    page, anything an attacker planted in a fixated cookie) survives, so the session
    cookie's content changes entirely at login."""
    session.clear()
    login_user(user)


def redirect_after_new_session(target: str):
    """Go on after start_session. A boosted (htmx) form gets HX-Redirect, a full page load:
    a boosted swap would keep the old page's <body hx-headers> CSRF token, which the new
    session no longer accepts."""
    if htmx:
        return "", 200, {"HX-Redirect": target}
    return redirect(target)


MAX_NEXT_LENGTH = 2000


def local_path(target: str | None) -> str | None:
    """`target` when it is a path on this site ("/b/1?q=x"), else None.

    Plain Python, no app needed. Refused: a scheme or a host ("//evil", "http:evil"); a
    backslash anywhere, plain or percent-encoded (browsers read "/\\evil" as "//evil"); a
    path that decodes to "//"; any character outside printable ASCII (browsers percent-encode
    what they send, so a space, tab, CR/LF, NUL or non-ASCII character here was put there by
    hand) and control characters once decoded; anything longer than MAX_NEXT_LENGTH.
    """
    if not target or len(target) > MAX_NEXT_LENGTH:
        return None
    if not all("!" <= ch <= "~" for ch in target) or "\\" in target:
        return None
    parts = urlsplit(target)
    decoded = unquote(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    if target.startswith("//") or decoded.startswith("//") or "\\" in decoded:
        return None
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in decoded):
        return None
    return target


def landing_page(target: str | None) -> str | None:
    """A local path a person may land on after logging in: a GET page of this site. A
    board's fragment poll (access.FRAGMENT_ONLY) stands for its board's page; other
    answers that are not pages (access.NOT_PAGES) and unknown paths give None."""
    path = local_path(target)
    if path is None:
        return None
    try:
        endpoint, args = current_app.url_map.bind("localhost").match(
            urlsplit(path).path, method="GET"
        )
    except HTTPException:  # no such page, not a GET, or a redirect to another spelling
        return None
    if endpoint in access.FRAGMENT_ONLY:
        return url_for("board.show", board_id=args["board_id"])
    if endpoint in access.NOT_PAGES:
        return None
    return path


def return_page() -> str | None:
    """Where a person asked to log in should come back to: for htmx, the page they are on
    (HX-Current-URL, when it is a page of this site), never the fragment asked for; else the
    page asked for when it is one; else the board the request was about; else nothing (the
    home page)."""
    if htmx:
        page = landing_page(_same_site_path(request.headers.get("HX-Current-URL")))
    elif request.method == "GET":
        page = landing_page(request.full_path.rstrip("?"))
    else:
        page = None
    if page is None:
        board_id = (request.view_args or {}).get("board_id")
        if isinstance(board_id, int):
            page = url_for("board.show", board_id=board_id)
    return page


def _same_site_path(url: str | None) -> str | None:
    """The path and query of an absolute URL on this very host, else None."""
    if not url or len(url) > MAX_NEXT_LENGTH:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or parts.netloc != request.host:
        return None
    return parts.path + ("?" + parts.query if parts.query else "")


def home_page(user: User) -> str:
    """Where a person lands when they asked for no page in particular: straight on their
    board when they are on exactly one, else the list of their boards (always, for a site
    admin: that page is where boards are made)."""
    if not user.is_admin:
        rows = boards.boards_of(user)
        if len(rows) == 1:
            return url_for("board.show", board_id=rows[0][0].id)
    return url_for("boards.index")


def _safe_next(target: str | None, user: User) -> str:
    """The page asked for when it is one; else (nothing, the home page, or something that
    is no page of this site) the person's home_page."""
    page = landing_page(target)
    if page is None or page == url_for("boards.index"):
        return home_page(user)
    return page


@bp.route("/login", methods=["GET", "POST"])
@ratelimit.login_limits
def login():
    """Show the login form; on valid credentials start a session."""
    if current_user.is_authenticated:
        return redirect(home_page(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        user = users.log_in(form.username.data, form.password.data, address=access.client_address())
        if user is not None:
            start_session(user)
            return redirect_after_new_session(_safe_next(request.args.get("next"), user))
        ratelimit.note_wrong_credentials()
        form.password.errors.append("That username and password do not match.")
    status = 422 if form.errors else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout():
    """End this person's sessions everywhere (the token rotates) and go to the login page."""
    form = EmptyForm()
    if form.validate_on_submit():
        users.end_sessions(current_user._get_current_object())
        logout_user()
        flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))
