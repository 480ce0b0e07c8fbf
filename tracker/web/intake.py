"""Support intake: the request form, My requests, the request page, and the public status
link. Thin adapters over tracker.services.intake."""

from __future__ import annotations

import functools

from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_htmx import make_response

from tracker.domain.errors import DomainError, InvalidRequest
from tracker.domain.intake import OTHER_COMPONENT
from tracker.domain.policy import Action
from tracker.domain.vocabulary import RequestStatus, Visibility
from tracker.extensions import htmx
from tracker.services import board_view, conversation, desk, intake
from tracker.services.mail import outbox
from tracker.web import errors
from tracker.web.access import can, load_board
from tracker.web.forms import (
    CommentForm,
    IntakeForm,
    RequesterReplyForm,
    StatusLinkForm,
    choices,
)
from tracker.web.presenters.conversation import rendered
from tracker.web.presenters.history import describer

bp = Blueprint("intake", __name__)
BOARD = "/b/<int:board_id>"
# A status link is a password to its request: pages that show one are neither cached,
# nor indexed, nor named in a Referer header of the links they hold.
PRIVATE = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
}


def _intake_form(board_id: int) -> IntakeForm:
    form = IntakeForm()
    form.component.choices = choices(
        ("", "Choose the part of the system…"),
        *((name, name) for name in intake.components(board_id)),
        (OTHER_COMPONENT, "Other / not sure"),
    )
    return form


def _form_page(board, actor, form, *, error=None, status=200):
    return render_template(
        "intake/form.html",
        board=board,
        actor=actor,
        form=form,
        error=error,
        mail_on=outbox.configured(),
    ), status


@bp.route(BOARD + "/intake", methods=["GET", "POST"])
def file(board_id: int):
    """The request form; a valid one files the request and goes to its page."""
    board, actor = load_board(board_id)
    form = _intake_form(board.id)
    if request.method == "GET":
        form.intake_key.data = intake.new_intake_key()
        return _form_page(board, actor, form)
    if form.validate_on_submit():
        filed = intake.file_request(board.id, actor, form.values(), form.intake_key.data)
        card = filed.card
        if filed.created and filed.mailed:
            flash(
                f"Filed {card.ref}. The requester is emailed the reference and a status link.",
                "info",
            )
        elif filed.created:
            flash(f"Filed {card.ref}. Give the requester the reference {card.ref}.", "info")
        else:
            flash(f"This form was already sent: it filed {card.ref}, shown here.", "info")
        return redirect(url_for("intake.show", board_id=board.id, card_id=card.id), 303)
    if form.intake_key.errors:
        form.intake_key.data = intake.new_intake_key()
    return _form_page(board, actor, form, error="Check the fields marked below.", status=422)


@bp.get(BOARD + "/requests")
def my_requests(board_id: int):
    """Everything the person filed on this board, newest first, with its status."""
    board, actor = load_board(board_id)
    shown = desk.QueueFilter.from_args(request.args, filed_by=actor.id)
    page = desk.queue_choices(board, desk.queue(board, shown))
    ids = [row.id for row in page.rows]
    waiting = frozenset(row.id for row in page.rows if row.status.key == RequestStatus.WAITING)
    rows = intake.my_requests(board, actor.id, ids, waiting) if ids else []
    return render_template(
        "intake/my_requests.html", board=board, actor=actor, rows=rows, page=page
    )


def _request_context(board, actor, card_id, *, form=None, error=None, new_link=None, refused=None):
    """What the request page needs: `error` is the comment form's, `refused` the message of
    another refused change, shown at the top."""
    page = intake.request_page(board, card_id)
    may_comment = can(actor, Action.COMMENT_ON_REQUEST) and intake.may_act_on(actor, page.card)
    canned = desk.canned_replies(board.id) if may_comment else []
    return {
        "board": board,
        "actor": actor,
        "page": page,
        "card": page.card,
        "form": form or _comment_form(canned),
        "canned": canned,
        "may_wait": can(actor, Action.WORK_REQUEST) and intake.may_act_on(actor, page.card),
        "error": error,
        "refused": refused,
        "new_link": new_link,
        "may_comment": may_comment,
        "may_link": can(actor, Action.SHARE_REQUEST) and intake.may_act_on(actor, page.card),
        "mail_on": outbox.configured(),
        "mails": outbox.card_mail(page.card.id),
        "describe": describer(board, board_view.members(board.id)),
        # A comment's Markdown-lite as markup (presenters.conversation, escaped first).
        "comment_html": functools.partial(
            rendered, usernames=conversation.member_ids_by_username(board.id).keys()
        ),
    }


def _comment_form(canned) -> CommentForm:
    """An empty comment form; or, when a canned reply was chosen (?canned=<id>, the picker
    without script), a reply to the requester with its text."""
    chosen = request.args.get("canned", "") if request.method == "GET" else ""
    for reply in canned:
        if chosen == str(reply.id):
            return CommentForm(
                formdata=None, data={"body": reply.body, "visibility": Visibility.REPLY}
            )
    return CommentForm(formdata=None)


def _request_response(
    board,
    actor,
    card_id,
    *,
    form=None,
    error=None,
    status=200,
    notice=None,
    new_link=None,
    refused=None,
):
    """The request: the #request fragment for htmx, else the page."""
    context = _request_context(
        board, actor, card_id, form=form, error=error, new_link=new_link, refused=refused
    )
    if htmx and not htmx.boosted:
        response = make_response(
            render_template("intake/_request.html", notice=notice, **context), status
        )
    else:
        response = make_response(render_template("intake/request.html", **context), status)
    response.vary.add("HX-Request")
    return response


@bp.get(BOARD + "/requests/<int:card_id>")
def show(board_id: int, card_id: int):
    """A request's status, place on the board, assignee, comments and history."""
    board, actor = load_board(board_id)
    return _request_response(board, actor, card_id)


def _back_to(board_id: int, card_id: int, anchor: str):
    """After a change without htmx: the request page again, at the part that changed."""
    return redirect(url_for("intake.show", board_id=board_id, card_id=card_id) + "#" + anchor, 303)


@bp.post(BOARD + "/requests/<int:card_id>/comments")
def comment(board_id: int, card_id: int):
    """Add an internal note or a reply to the requester."""
    board, actor = load_board(board_id)
    form = CommentForm()
    if not form.validate_on_submit():
        return _request_response(
            board, actor, card_id, form=form, error="Check the comment below.", status=422
        )
    made = intake.add_comment(board.id, actor, card_id, form.body.data, form.visibility.data)
    if made.visibility != Visibility.REPLY:
        notice = "Internal note added."
    elif intake.reply_is_mailed(made.card_id):
        notice = "Reply added; it is emailed to the requester."
    else:
        notice = "Reply added."
    if htmx and not htmx.boosted:
        return _request_response(board, actor, card_id, notice=notice)
    flash(notice, "info")
    return _back_to(board.id, card_id, "comments")


@bp.post(BOARD + "/requests/<int:card_id>/status-link")
def status_link(board_id: int, card_id: int):
    """Make a new status link (the old one stops working) or revoke the current one."""
    board, actor = load_board(board_id)
    form = StatusLinkForm()
    if not form.validate_on_submit():
        raise InvalidRequest("Make or revoke a status link.")
    if form.action.data == "create":
        # Shown in this answer only: never in the session cookie, never in a cache, and the
        # address bar shows the request page with htmx (reloading does not show it again).
        made = intake.create_status_link(board.id, actor, card_id)
        link = url_for("intake.status", token=made.token, _external=True)
        notice = "New status link made: copy it now, it is shown only this once."
        if not htmx or htmx.boosted:
            flash(notice, "info")
        response = _request_response(board, actor, card_id, notice=notice, new_link=link)
        response.headers.update(PRIVATE)
        if htmx:
            response.headers["HX-Replace-Url"] = url_for(
                "intake.show", board_id=board.id, card_id=card_id
            )
        return response
    if intake.revoke_status_link(board.id, actor, card_id):
        flash("Status link revoked: it no longer works.", "info")
    else:
        flash("There was no working status link to revoke.", "info")
    return _back_to(board.id, card_id, "status-link")


@bp.get("/status/<token>")
def status(token: str):
    """The requester's view through a status link: no login, title, status and replies only."""
    shown = intake.public_status(token)
    form = RequesterReplyForm(formdata=None)
    return make_response(render_template("intake/status.html", shown=shown, token=token, form=form))


# --- refusals -----------------------------------------------------------------------------


def _board_and_actor():
    return load_board((request.view_args or {})["board_id"])


def _form_again(error: DomainError, status: int):
    """The request form as typed, with the refusal."""
    board, actor = _board_and_actor()
    form = _intake_form(board.id)
    return _form_page(board, actor, form, error=error.message, status=status)


def _comment_again(error: DomainError, status: int):
    """The request with the comment as typed and the refusal by the comment form."""
    board, actor = _board_and_actor()
    card_id = (request.view_args or {})["card_id"]
    return _request_response(
        board, actor, card_id, form=CommentForm(), error=error.message, status=status
    )


def _request_again(error: DomainError, status: int):
    """The request with the refusal at the top."""
    board, actor = _board_and_actor()
    card_id = (request.view_args or {})["card_id"]
    return _request_response(board, actor, card_id, refused=error.message, status=status)


# The page each endpoint shows again with a refusal; the others answer the plain message
# (the public status page above all: it shows nothing of the board).
REFUSED_PAGES: dict[str, errors.Refusal] = {
    "intake.file": _form_again,
    "intake.comment": _comment_again,
    "intake.status_link": _request_again,
}


errors.answer_refusals(bp, REFUSED_PAGES)


@bp.after_request
def _private_status_page(response):
    """The status page and its not-found answer alike: a guessed token learns nothing from
    the headers, and no answer about a token is cached, indexed or referred on."""
    if request.endpoint == "intake.status":
        response.headers.update(PRIVATE)
    return response
