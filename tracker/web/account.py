"""A person's own account: changing their password, and the email they get of their
notifications."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from tracker.domain.errors import DomainError
from tracker.services import notifications, tokens, users
from tracker.services.mail import outbox
from tracker.web import errors
from tracker.web.access import client_address
from tracker.web.auth import redirect_after_new_session, start_session
from tracker.web.forms import ChangePasswordForm, EmptyForm, NoticeMailForm, TokenForm

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.get("/password")
def edit_password():
    return _page(ChangePasswordForm(formdata=None))


def _page(
    form: ChangePasswordForm,
    status: int = 200,
    mail_form: NoticeMailForm | None = None,
    token_form: TokenForm | None = None,
    new_secret: str | None = None,
):
    if mail_form is None:
        modes = notifications.mail_modes(current_user._get_current_object())
        mail_form = NoticeMailForm(formdata=None, data={k.value: m.value for k, m in modes.items()})
    return render_template(
        "account/password.html",
        form=form,
        mail_form=mail_form,
        mail_on=outbox.configured(),
        min_password=users.MIN_PASSWORD_LENGTH,
        token_form=token_form or TokenForm(formdata=None),
        tokens=tokens.tokens_of(current_user.id),
        revoke_form=EmptyForm(formdata=None),
        new_secret=new_secret,
    ), status


@bp.post("/notifications")
def save_notice_mail():
    """Save the person's email choice for each kind of notification."""
    form = NoticeMailForm()
    if not form.validate_on_submit():
        return _page(ChangePasswordForm(formdata=None), 422, mail_form=form)
    notifications.set_mail_modes(current_user.id, form.modes())
    flash("Your email settings for notifications are saved.", "info")
    return redirect(url_for("account.edit_password"), 303)


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


@bp.post("/tokens")
def create_token():
    """Make a personal access token: its secret is on the answer's page, this once only."""
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(ChangePasswordForm(formdata=None), 422, token_form=form)
    user = current_user._get_current_object()
    made = tokens.create_token(
        user, form.name.data, form.scope.data, form.expires_on.data, address=client_address()
    )
    response, status = _page(ChangePasswordForm(formdata=None), 201, new_secret=made.secret)
    return response, status, {"Cache-Control": "no-store"}


@bp.post("/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int):
    """Revoke one of one's own tokens: it stops working at once."""
    if EmptyForm().validate_on_submit():
        user = current_user._get_current_object()
        token = tokens.revoke_token(user, token_id, address=client_address())
        notice = "There is no such token." if token is None else f"{token.name} is revoked."
        flash(notice, "info")
    return redirect(url_for("account.edit_password") + "#tokens", 303)


def _token_again(error: DomainError, status: int):
    """The token form again, the refusal by its name field."""
    form = TokenForm()
    form.name.errors = [error.message]
    return _page(ChangePasswordForm(formdata=None), status, token_form=form)


def _change_again(error: DomainError, status: int):
    """The form again, the refusal by the field it is about: the current password when
    that was wrong, else the new one."""
    form = ChangePasswordForm()
    field = form.current if error.message == users.NOT_YOUR_PASSWORD else form.new
    field.errors = [error.message]
    return _page(form, status)


REFUSED_PAGES: dict[str, errors.Refusal] = {
    "account.change_password": _change_again,
    "account.create_token": _token_again,
}


errors.answer_refusals(bp, REFUSED_PAGES)
