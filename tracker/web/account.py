"""A person's own account: changing their password."""

from __future__ import annotations

from flask import Blueprint, flash, render_template, url_for
from flask_login import current_user

from tracker.domain.errors import DomainError
from tracker.services import users
from tracker.web import errors
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
    if not form.validate_on_submit():
        return _page(form, 422)
    user = current_user._get_current_object()
    users.change_own_password(user, form.current.data, form.new.data, address=client_address())
    start_session(user)
    flash("Your password is changed. Sessions on other devices have ended.", "info")
    return redirect_after_new_session(url_for("boards.index"))


def _change_again(error: DomainError, status: int):
    """The form again, the refusal by the field it is about: the current password when
    that was wrong, else the new one."""
    form = ChangePasswordForm()
    field = form.current if error.message == users.NOT_YOUR_PASSWORD else form.new
    field.errors = [error.message]
    return _page(form, status)


REFUSED_PAGES: dict[str, errors.Refusal] = {"account.change_password": _change_again}


errors.answer_refusals(bp, REFUSED_PAGES)
