"""The support desk: the Requests queue, "waiting for the requester", the desk's settings
(response targets, canned replies) and the requester's reply on the status page. Thin
adapters over tracker.services.desk."""

from __future__ import annotations

import hashlib

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_htmx import make_response

from tracker.domain import targets
from tracker.domain.errors import DomainError, InvalidRequest
from tracker.domain.vocabulary import Severity
from tracker.extensions import htmx
from tracker.services import desk, intake
from tracker.services.common import get_card
from tracker.web import errors
from tracker.web.access import load_board
from tracker.web.forms import (
    CannedReplyForm,
    EmptyForm,
    RequesterReplyForm,
    TargetForm,
    WaitingForm,
)
from tracker.web.ratelimit import within_rate

bp = Blueprint("desk", __name__)
BOARD = "/b/<int:board_id>"
TOO_MANY_REPLIES = (
    "You have sent several replies through this link in a short time. Wait a while, then "
    "send this one again; the team has what you sent so far."
)
# The status page's answers: neither cached, nor indexed, nor referred on (as intake's).
PRIVATE = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
}


@bp.get(BOARD + "/queue")
def queue(board_id: int):
    """Every request of the board, paged, filtered and sorted (newest or most urgent)."""
    board, actor = load_board(board_id)
    shown = desk.QueueFilter.from_args(request.args)
    page = desk.queue_choices(board, desk.queue(board, shown))
    response = make_response(
        render_template(
            "desk/queue.html", board=board, actor=actor, page=page, mine=False, Severity=Severity
        )
    )
    response.vary.add("HX-Request")
    return response


@bp.post(BOARD + "/requests/<int:card_id>/waiting")
def set_waiting(board_id: int, card_id: int):
    """Set the request to wait for its requester (its clocks pause), or stop waiting."""
    board, actor = load_board(board_id)
    get_card(board.id, card_id)  # another board's card is not found, whatever the form says
    form = WaitingForm()
    if not form.validate_on_submit():
        raise InvalidRequest("Choose to wait for the requester or to stop waiting.")
    waiting = form.action.data == "wait"
    changed = desk.set_waiting(board.id, actor, card_id, waiting)
    if not changed:
        notice = "Nothing changed: it was already so."
    elif waiting:
        notice = "Waiting for the requester: its clocks are paused until they answer."
    else:
        notice = "No longer waiting for the requester: its clocks run again."
    flash(notice, "info")
    return redirect(url_for("intake.show", board_id=board.id, card_id=card_id), 303)


# Settings ------------------------------------------------------------------------------


def _settings_page(board, actor, *, target_form=None, canned_form=None, error=None, status=200):
    goals = desk.board_targets(board.id)
    rows = [
        (
            severity,
            goals[severity],
            targets.format_minutes(
                goals[severity].first_response_minutes, goals[severity].working_hours
            ),
            targets.format_minutes(
                goals[severity].resolution_minutes, goals[severity].working_hours
            ),
        )
        for severity in Severity
    ]
    return render_template(
        "desk/settings.html",
        board=board,
        actor=actor,
        rows=rows,
        canned=desk.canned_replies(board.id),
        canned_form=canned_form or CannedReplyForm(formdata=None),
        target_form=target_form,
        error=error,
        as_typed=_as_typed,
    ), status


def _as_typed(minutes: int, working_hours: bool) -> str:
    """A target as a lead would type it: "30m", "4h", "2d"."""
    day = targets.WORKING_DAY // 60 if working_hours else 24 * 60
    if minutes % day == 0:
        return f"{minutes // day}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"


@bp.get(BOARD + "/settings/desk")
def settings(board_id: int):
    """The board's response targets per severity and its canned replies (leads)."""
    board, actor = load_board(board_id)
    return _settings_page(board, actor)


@bp.post(BOARD + "/settings/desk/targets")
def save_target(board_id: int):
    board, actor = load_board(board_id)
    form = TargetForm()
    if not form.validate_on_submit():
        return _settings_page(
            board, actor, target_form=form, error="Check the target below.", status=422
        )
    desk.set_target(
        board.id,
        actor,
        form.severity.data,
        form.first_response.data,
        form.resolution.data,
        bool(form.working_hours.data),
    )
    flash(f"Targets for {form.severity.data} saved.", "info")
    return redirect(url_for("desk.settings", board_id=board.id) + "#targets", 303)


@bp.post(BOARD + "/settings/desk/canned")
def add_canned(board_id: int):
    board, actor = load_board(board_id)
    form = CannedReplyForm()
    if not form.validate_on_submit():
        return _settings_page(
            board, actor, canned_form=form, error="Check the canned reply below.", status=422
        )
    made = desk.add_canned_reply(board.id, actor, form.title.data, form.body.data)
    flash(f"Canned reply “{made.title}” added.", "info")
    return redirect(url_for("desk.settings", board_id=board.id) + "#canned", 303)


@bp.post(BOARD + "/settings/desk/canned/<int:canned_id>/remove")
def remove_canned(board_id: int, canned_id: int):
    board, actor = load_board(board_id)
    if not EmptyForm().validate_on_submit():
        raise InvalidRequest("This form is out of date; reload the page and try again.")
    title = desk.remove_canned_reply(board.id, actor, canned_id)
    flash(f"Canned reply “{title}” removed.", "info")
    return redirect(url_for("desk.settings", board_id=board.id) + "#canned", 303)


# The requester's reply -----------------------------------------------------------------


def _link_key(token: str) -> str:
    """The rate limit's key for a link: a hash of its token, never the token."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()[:40]


def _status_page(token: str, *, form=None, error=None, notice=None, status=200):
    shown = intake.public_status(token)
    response = make_response(
        render_template(
            "intake/status.html",
            shown=shown,
            token=token,
            form=form or RequesterReplyForm(formdata=None),
            error=error,
            notice=notice,
        ),
        status,
    )
    response.headers.update(PRIVATE)
    return response


@bp.post("/status/<token>/reply")
def requester_reply(token: str):
    """The requester answers on their status page (the link is the credential; no login)."""
    intake.public_status(token)  # NotFound for an unknown or revoked link, before anything
    form = RequesterReplyForm()
    if not form.validate_on_submit():
        return _status_page(token, form=form, error="Check your reply below.", status=422)
    if not within_rate("status-reply", _link_key(token), current_app.config["STATUS_REPLY_RATE"]):
        return _status_page(token, form=form, error=TOO_MANY_REPLIES, status=429)
    intake.reply_through_link(token, form.body.data)
    if htmx and not htmx.boosted:
        return _status_page(token, notice="Thank you: your reply was sent to the team.")
    return redirect(url_for("intake.status", token=token) + "#thread", 303)


# --- refusals -----------------------------------------------------------------------------


def _settings_again(error: DomainError, status: int):
    board, actor = load_board((request.view_args or {})["board_id"])
    return _settings_page(board, actor, error=error.message, status=status)


def _status_again(error: DomainError, status: int):
    token = (request.view_args or {})["token"]
    return _status_page(token, form=RequesterReplyForm(), error=error.message, status=status)


REFUSED_PAGES: dict[str, errors.Refusal] = {
    "desk.save_target": _settings_again,
    "desk.add_canned": _settings_again,
    "desk.remove_canned": _settings_again,
    "desk.requester_reply": _status_again,
}

errors.answer_refusals(bp, REFUSED_PAGES)


@bp.after_request
def _private_status_reply(response):
    if request.endpoint == "desk.requester_reply":
        response.headers.update(PRIVATE)
    return response
