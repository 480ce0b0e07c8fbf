"""Conversation on every card: comment, edit or delete one's comment, the @mention choices,
and watching a card. Thin adapters over tracker.services.conversation.

Each answers htmx with the card's thread (#thread-<card>) or its watch button, and a page
without htmx with a redirect to the card's page (its thread, or the page again with the
message and the text kept, 422, when the input or a rule refused it)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_htmx import make_response

from tracker.domain.errors import DomainError, InvalidRequest
from tracker.domain.vocabulary import Visibility
from tracker.extensions import db, htmx
from tracker.models import Comment
from tracker.services import conversation, intake
from tracker.services.common import get_card
from tracker.web import errors
from tracker.web.access import load_board
from tracker.web.board import panel_context
from tracker.web.forms import CardCommentForm, DeleteCommentForm, EditCommentForm, WatchForm
from tracker.web.params import search_term
from tracker.web.presenters.conversation import thread

bp = Blueprint("conversation", __name__, url_prefix="/b/<int:board_id>")


def _fragment() -> bool:
    return bool(htmx) and not htmx.boosted


def _thread_answer(board, actor, card, *, status=200, **shown):
    """The card's thread for htmx, else its page (422: with the message and the text)."""
    talk = thread(board, actor, card, **shown)
    if _fragment():
        html = render_template("board/_thread.html", board=board, card=card, talk=talk)
        # A comment's mentions may have added watchers: the count beside it follows.
        html += render_template(
            "board/_watch.html", board=board, card=card, watch=talk.watch, oob=True
        )
        response = make_response(html, status)
    else:
        context = panel_context(board, actor, card) | {"talk": talk}
        response = make_response(render_template("board/card.html", **context), status)
    response.vary.add("HX-Request")
    return response


def _done(board, actor, card, notice: str):
    """After a change: the thread again for htmx, else the card's page at its thread."""
    if _fragment():
        return _thread_answer(board, actor, card, notice=notice)
    flash(notice, "info")
    target = url_for("board.show_card", board_id=board.id, card_id=card.id)
    return redirect(f"{target}#thread-{card.id}", 303)


@bp.post("/cards/<int:card_id>/comments")
def add_comment(board_id: int, card_id: int):
    """Comment on a card (on a request: an internal note or a reply to its requester)."""
    board, actor = load_board(board_id)
    card = get_card(board.id, card_id)
    form = CardCommentForm()
    if not form.validate_on_submit():
        return _thread_answer(
            board, actor, card, status=422, form=form, error="Check the comment below."
        )
    visibility = form.visibility.data or Visibility.INTERNAL
    made = conversation.add_comment(board.id, actor, card.id, form.body.data, visibility)
    if made.visibility != Visibility.REPLY:
        notice = "Comment added." if not conversation.is_request(card) else "Internal note added."
    elif intake.reply_is_mailed(card.id):
        notice = "Reply added; it is emailed to the requester."
    else:
        notice = "Reply added."
    return _done(board, actor, card, notice)


def _comment_card(board, comment_id: int):
    """The card of one of the board's comments (404 for any other)."""
    comment = db.session.get(Comment, comment_id)
    return get_card(board.id, comment.card_id if comment and comment.board_id == board.id else 0)


@bp.post("/comments/<int:comment_id>/edit")
def edit_comment(board_id: int, comment_id: int):
    """Change one's own comment, within 15 minutes of writing it."""
    board, actor = load_board(board_id)
    card = _comment_card(board, comment_id)
    form = EditCommentForm()
    if not form.validate_on_submit():
        message = " ".join(form.body.errors) or "That request was incomplete."
        return _thread_answer(
            board, actor, card, status=422, error=message, editing=comment_id, edit_form=form
        )
    conversation.edit_comment(board.id, actor, comment_id, form.body.data)
    return _done(board, actor, card, "Comment saved.")


@bp.post("/comments/<int:comment_id>/delete")
def delete_comment(board_id: int, comment_id: int):
    """Delete one's own comment, within 15 minutes of writing it."""
    board, actor = load_board(board_id)
    card = _comment_card(board, comment_id)
    if not DeleteCommentForm().validate_on_submit():
        raise InvalidRequest("That request was incomplete: use the Delete button.")
    conversation.delete_comment(board.id, actor, comment_id)
    return _done(board, actor, card, "Comment deleted.")


@bp.get("/mentions")
def mentions(board_id: int):
    """The members whose username or name starts with what follows the @ being typed (?q=):
    a small list the comment box offers (static/app.js inserts the one picked)."""
    board, _actor = load_board(board_id)
    people = conversation.mention_choices(board.id, search_term(request.args.get("q"), 64))
    response = make_response(render_template("board/_mentions.html", people=people))
    response.vary.add("HX-Request")
    return response


@bp.post("/cards/<int:card_id>/watch")
def watch(board_id: int, card_id: int):
    """Start or stop watching a card: htmx gets the button again, a page the card's page."""
    board, actor = load_board(board_id)
    card = get_card(board.id, card_id)
    form = WatchForm()
    if not form.validate_on_submit():
        raise InvalidRequest("Choose to watch the card or to stop watching it.")
    state = conversation.set_watching(board.id, actor, card.id, form.watch.data == "1")
    if _fragment():
        return make_response(
            render_template("board/_watch.html", board=board, card=card, watch=state)
        )
    said = f"You watch {card.ref} now." if state.watching else f"You no longer watch {card.ref}."
    flash(said, "info")
    return redirect(url_for("board.show_card", board_id=board.id, card_id=card.id), 303)


# --- refusals -----------------------------------------------------------------------------


def _thread_again(error: DomainError, status: int):
    """The thread with the refusal, the comment as typed kept (in its edit box for an edit)."""
    board, actor = load_board((request.view_args or {})["board_id"])
    args = request.view_args or {}
    if "comment_id" in args:
        card = _comment_card(board, args["comment_id"])
        if request.endpoint == "conversation.edit_comment":
            return _thread_answer(
                board,
                actor,
                card,
                status=status,
                error=error.message,
                editing=args["comment_id"],
                edit_form=EditCommentForm(),
            )
        return _thread_answer(board, actor, card, status=status, error=error.message)
    card = get_card(board.id, args["card_id"])
    return _thread_answer(
        board, actor, card, status=status, form=CardCommentForm(), error=error.message
    )


REFUSED_PAGES: dict[str, errors.Refusal] = {
    "conversation.add_comment": _thread_again,
    "conversation.edit_comment": _thread_again,
    "conversation.delete_comment": _thread_again,
}

errors.answer_refusals(bp, REFUSED_PAGES)
