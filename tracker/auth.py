"""Logging in and out. Sessions carry a per-person token checked on every request."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from sqlalchemy import select

from tracker.extensions import db, htmx
from tracker.forms import EmptyForm, LoginForm
from tracker.models import User
from tracker.services import users

bp = Blueprint("auth", __name__)


def configure_login(manager: LoginManager) -> None:
    """Load people by session token; send anonymous htmx requests a 401 with HX-Redirect."""
    manager.login_view = "auth.login"
    manager.login_message = "Please log in to see that page."
    manager.session_protection = "basic"

    @manager.user_loader
    def load_user(token: str) -> User | None:
        return db.session.execute(
            select(User).where(User.session_token == token, User.active.is_(True))
        ).scalar_one_or_none()

    @manager.unauthorized_handler
    def unauthorized():
        login_url = url_for("auth.login", next=request.full_path.rstrip("?"))
        if htmx:
            return "", 401, {"HX-Redirect": login_url}
        flash(manager.login_message, "info")
        return redirect(login_url)


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
        user = users.authenticate(form.username.data, form.password.data)
        if user is not None:
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors.append("That username and password do not match.")
    status = 422 if form.errors else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    """End this person's sessions everywhere (the token rotates) and go to the login page."""
    form = EmptyForm()
    if form.validate_on_submit():
        users.end_sessions(current_user._get_current_object())
        logout_user()
        flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))
