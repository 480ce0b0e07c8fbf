"""A person's own account: changing their password."""

from __future__ import annotations

from flask import Blueprint, flash, render_template, url_for
from flask_login import current_user

from tracker.domain.errors import InvalidRequest
from tracker.extensions import db
from tracker.services import users
from tracker.web.access import client_address
from tracker.web.auth import redirect_after_new_session, start_session
from tracker.web.forms import ChangePasswordForm

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.get("/password")
def edit_password():
    return _page(ChangePasswordForm(formdata=None))


def _page(form: ChangePasswordForm, status: int = 200):
    return render_template(
        "account/password.html", form=form, min_password=users.MIN_PASSWORD_LENGTH
    ), status


@bp.post("/password")
def change_password():
    """Change one's own password with the current one; sessions elsewhere end, this one
    carries on under the new session token."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            users.change_own_password(
                user, form.current.data, form.new.data, address=client_address()
            )
        except InvalidRequest as error:
            db.session.rollback()
            field = form.current if error.message == users.NOT_YOUR_PASSWORD else form.new
            field.errors.append(error.message)
        else:
            start_session(user)
            flash("Your password is changed. Sessions on other devices have ended.", "info")
            return redirect_after_new_session(url_for("boards.index"))
    return _page(form, 422)
