"""Logging in and out. Sessions carry a per-person token checked on every request."""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

from flask import Blueprint, Flask, flash, redirect, render_template, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, current_user, login_user, logout_user
from sqlalchemy import Select, bindparam, select

from tracker import ratelimit
from tracker.extensions import db, htmx
from tracker.forms import EmptyForm, LoginForm
from tracker.models import User
from tracker.services import users

bp = Blueprint("auth", __name__)


@functools.cache
def _person_by_token() -> Select:
    """The active person a session token belongs to: every signed-in request reads it, so
    the statement is composed once."""
    return select(User).where(User.session_token == bindparam("token"), User.active.is_(True))


def configure_login(manager: LoginManager) -> None:
    """Load people by session token; send anonymous htmx requests a 401 with HX-Redirect."""
    manager.login_view = "auth.login"
    manager.login_message = "Please log in to see that page."
    manager.session_protection = "basic"

    @manager.user_loader
    def load_user(token: str) -> User | None:
        return db.session.execute(_person_by_token(), {"token": token}).scalar_one_or_none()

    @manager.unauthorized_handler
    def unauthorized():
        login_url = url_for("auth.login", next=request.full_path.rstrip("?"))
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


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.netloc and not parts.scheme:
            return target
    return url_for("boards.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the login form; on valid credentials start a session."""
    if current_user.is_authenticated:
        return redirect(url_for("boards.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = users.log_in(form.username.data, form.password.data)
        if user is not None:
            start_session(user)
            return redirect_after_new_session(_safe_next(request.args.get("next")))
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
