"""A card's conversation as its panel and page show it: the comments with their
Markdown-lite rendered (tracker.domain.conversation escapes every fragment of the text
before it builds markup), what the person may do with each, the comment form, and the
watch button."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from markupsafe import Markup

from tracker import clock
from tracker.domain import conversation as rules
from tracker.services import conversation
from tracker.services.conversation import Watch
from tracker.web.forms import CardCommentForm, EditCommentForm


@dataclass(frozen=True)
class ShownComment:
    id: int
    author: str
    at: datetime
    edited_at: datetime | None
    visibility: str
    body: str  # as typed, for its edit box
    html: Markup
    changeable: bool  # the person wrote it and may still edit or delete it


@dataclass
class Thread:
    """Everything templates/board/_thread.html shows."""

    card: object
    comments: list[ShownComment]
    is_request: bool
    may_comment: bool
    watch: Watch
    form: CardCommentForm
    error: str | None = None
    notice: str | None = None
    # The comment whose edit was refused, with the text as typed (its edit box stays open).
    editing: int | None = None
    edit_forms: dict[int, EditCommentForm] = field(default_factory=dict)
    # Text typed into an edit that was refused for good (the comment can no longer change).
    kept: str | None = None


def rendered(body: str, usernames) -> Markup:
    """A comment's Markdown-lite as markup: domain.conversation.render escapes every piece
    of the text (quotes too) before it adds its own few tags."""
    return Markup(rules.render(body, usernames))  # noqa: S704 - escaped by the renderer


def thread(
    board,
    actor,
    card,
    *,
    form: CardCommentForm | None = None,
    error: str | None = None,
    notice: str | None = None,
    editing: int | None = None,
    edit_form: EditCommentForm | None = None,
) -> Thread:
    """The card's conversation for this person, newest comment last."""
    usernames = conversation.member_ids_by_username(board.id).keys()
    now = clock.now()
    shown = [
        ShownComment(
            c.id,
            c.author.name if c.author else "someone",
            c.at,
            c.edited_at,
            c.visibility,
            c.body,
            rendered(c.body, usernames),
            c.author_id == actor.id
            and conversation.may_comment(actor, card)
            and rules.still_changeable(c.at, now),
        )
        for c in conversation.comments(card.id)
    ]
    edit_forms = {editing: edit_form} if editing is not None and edit_form is not None else {}
    still_open = {c.id for c in shown if c.changeable}
    kept = edit_form.body.data if edit_form and editing not in still_open else None
    return Thread(
        card,
        shown,
        conversation.is_request(card),
        conversation.may_comment(actor, card),
        conversation.watch_state(card.id, actor.id),
        form or CardCommentForm(formdata=None),
        error,
        notice,
        editing,
        edit_forms,
        kept,
    )
