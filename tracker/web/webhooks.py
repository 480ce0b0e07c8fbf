"""A lead's integrations page: alert tokens for Alertmanager, the alerts' severities, and
outgoing webhooks with their delivery logs and a "send test event" button."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from tracker.domain.errors import DomainError
from tracker.domain.webhooks import SUBSCRIBABLE
from tracker.services import alerts, webhooks
from tracker.web import errors
from tracker.web.access import load_board
from tracker.web.forms import AlertSeverityForm, AlertTokenForm, EmptyForm, WebhookForm

bp = Blueprint("webhooks", __name__, url_prefix="/b/<int:board_id>/settings/integrations")


def _severity_form() -> AlertSeverityForm:
    return AlertSeverityForm(formdata=None)


def _page(
    board,
    actor,
    *,
    token_form=None,
    severity_form=None,
    hook_form=None,
    new_token=None,
    new_hook=None,
    error=None,
    status=200,
):
    severities = alerts.severity_map(board.id)
    if severity_form is None:
        severity_form = AlertSeverityForm(
            formdata=None, mapping=severities.text, default=severities.default
        )
    hooks = webhooks.hooks(board.id)
    return render_template(
        "webhooks/page.html",
        board=board,
        actor=actor,
        tokens=alerts.tokens(board.id),
        token_form=token_form or AlertTokenForm(formdata=None),
        severity_form=severity_form,
        hooks=hooks,
        logs={hook.id: webhooks.deliveries(hook.id) for hook in hooks},
        hook_form=hook_form or WebhookForm(formdata=None, events=[]),
        events=SUBSCRIBABLE,
        new_token=new_token,
        new_hook=new_hook,
        button=EmptyForm(formdata=None),
        allow_private=webhooks.allow_private(),
        error=error,
    ), status


def _again():
    return redirect(url_for("webhooks.show", board_id=request.view_args["board_id"]), 303)


@bp.get("")
def show(board_id: int):
    """The integrations page."""
    board, actor = load_board(board_id)
    return _page(board, actor)


@bp.post("/alert-tokens")
def create_token(board_id: int):
    """Make an alert token; the page shows it this once."""
    board, actor = load_board(board_id)
    form = AlertTokenForm()
    if not form.validate_on_submit():
        return _page(board, actor, token_form=form, error="Check the token's name.", status=422)
    made = alerts.create_token(board.id, actor, form.name.data)
    return _page(board, actor, new_token=made)


@bp.post("/alert-tokens/<int:alert_token_id>/revoke")
def revoke_token(board_id: int, alert_token_id: int):
    """Revoke an alert token: it stops working at once."""
    board, actor = load_board(board_id)
    if EmptyForm().validate_on_submit():
        row = alerts.revoke_token(board.id, actor, alert_token_id)
        flash(f"The alert token {row.name} no longer works.", "info")
    return _again()


@bp.post("/alert-severities")
def save_severities(board_id: int):
    """Set which severity label values make S1, S2 ..."""
    board, actor = load_board(board_id)
    form = AlertSeverityForm()
    if not form.validate_on_submit():
        return _page(board, actor, severity_form=form, error="Check the severities.", status=422)
    alerts.save_severity_map(board.id, actor, form.mapping.data or "", form.default.data)
    flash("Alert severities saved.", "info")
    return _again()


@bp.post("/hooks")
def add_hook(board_id: int):
    """Register a webhook; the page shows its signing secret this once."""
    board, actor = load_board(board_id)
    form = WebhookForm()
    if not form.validate_on_submit():
        return _page(board, actor, hook_form=form, error="Check the webhook.", status=422)
    made = webhooks.add_hook(board.id, actor, form.url.data, form.events.data or [])
    return _page(board, actor, new_hook=made)


@bp.post("/hooks/<int:hook_id>/remove")
def remove_hook(board_id: int, hook_id: int):
    """Remove a webhook: nothing more is sent to it."""
    board, actor = load_board(board_id)
    if EmptyForm().validate_on_submit():
        webhooks.remove_hook(board.id, actor, hook_id)
        flash("Webhook removed.", "info")
    return _again()


@bp.post("/hooks/<int:hook_id>/test")
def test_hook(board_id: int, hook_id: int):
    """Send a test event (a ping) to one webhook; its log shows the answer."""
    board, actor = load_board(board_id)
    if EmptyForm().validate_on_submit():
        webhooks.send_test(board.id, actor, hook_id)
        flash("Test event queued; its answer shows in the hook's log below.", "info")
    return _again()


# --- refusals -----------------------------------------------------------------------------


def _board_and_actor():
    return load_board((request.view_args or {})["board_id"])


def _token_again(error: DomainError, status: int):
    board, actor = _board_and_actor()
    form = AlertTokenForm()
    form.name.errors = [error.message]
    return _page(board, actor, token_form=form, error=error.message, status=status)


def _severity_again(error: DomainError, status: int):
    board, actor = _board_and_actor()
    form = AlertSeverityForm()
    form.mapping.errors = [error.message]
    return _page(board, actor, severity_form=form, error=error.message, status=status)


def _hook_again(error: DomainError, status: int):
    board, actor = _board_and_actor()
    form = WebhookForm()
    form.url.errors = [error.message]
    return _page(board, actor, hook_form=form, error=error.message, status=status)


def _page_again(error: DomainError, status: int):
    board, actor = _board_and_actor()
    return _page(board, actor, error=error.message, status=status)


REFUSED_PAGES: dict[str, errors.Refusal] = {
    "webhooks.create_token": _token_again,
    "webhooks.revoke_token": _page_again,
    "webhooks.save_severities": _severity_again,
    "webhooks.add_hook": _hook_again,
    "webhooks.remove_hook": _page_again,
    "webhooks.test_hook": _page_again,
}


errors.answer_refusals(bp, REFUSED_PAGES)
