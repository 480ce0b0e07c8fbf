"""Conversation on every card: comments (add, edit, delete), the members a comment may
mention, and watching a card.

Members and leads comment on any card of their board; support staff on the requests they
filed; viewers read. A support request's comment is an internal note or a reply to its
requester (mailed when mail is set up); on any other card every comment is internal. The
history records that a comment was written, edited or deleted, never its text. Who
watches a card follows from its history events (services.watching.watch_from_event).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from tracker import clock
from tracker.domain import conversation, policy
from tracker.domain.errors import InvalidRequest, NotAllowed, NotFound
from tracker.domain.policy import Action
from tracker.domain.vocabulary import EventKind, Visibility
from tracker.extensions import db
from tracker.models import Board, Card, Comment, Membership, User
from tracker.services import desk, watching
from tracker.services.common import Actor, get_card, whole_id
from tracker.services.mail import outbox
from tracker.store import append_event, bump_version, snapshot

# What the history says of each kind of comment (tracker.web.presenters.history.COMMENTS).
WHY = {Visibility.INTERNAL: "internal note", Visibility.REPLY: "reply to requester"}
MENTION_CHOICES = 8


def is_request(card: Card) -> bool:
    """Whether the card is a support request (filed through intake, or with a requester):
    only a request's comments can be replies to its requester."""
    return card.filed_by_id is not None or bool(card.requester)


def may_comment(actor: Actor, card: Card) -> bool:
    """Whether the person may comment on the card: their role comments (not a viewer), and
    support staff only on the requests they filed (the policy's rule)."""
    return policy.may(actor.role, Action.COMMENT_ON_REQUEST) and policy.may_act_on_request(
        actor.role, actor.id, card.filed_by_id
    )


def _require_commenter(actor: Actor, card: Card) -> None:
    policy.require(actor.role, Action.COMMENT_ON_REQUEST)
    if not may_comment(actor, card):
        whose = "was filed by someone else" if card.filed_by_id else "is not a request you filed"
        raise NotAllowed(
            f"{card.ref} {whose}: support staff comment on the requests they filed. Ask the "
            "team or the person who filed it."
        )


def member_ids_by_username(board_id: int) -> dict[str, int]:
    """The board's members (any role), by username in lower case: who can be mentioned."""
    rows = db.session.execute(
        select(User.username, User.id)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.board_id == board_id)
    ).all()
    return {username.lower(): user_id for username, user_id in rows}


def _mentioned_ids(board_id: int, body: str, author_id: int) -> list[int]:
    """The members a comment mentions, in order, its author left out."""
    members = member_ids_by_username(board_id)
    named = conversation.mentioned(body, members.keys())
    return [members[name] for name in named if members[name] != author_id]


def add_comment(
    board_id: int,
    actor: Actor,
    card_id: Any,
    body: str,
    visibility: str = Visibility.INTERNAL,
) -> Comment:
    """Comment on a card: an internal note, or on a request a reply its requester sees
    (and is mailed). The card's history records that it was written and whom it mentions,
    not what it says."""
    policy.require(actor.role, Action.COMMENT_ON_REQUEST)
    if visibility not in WHY:
        raise InvalidRequest("Choose an internal note or a reply to the requester.")
    body = conversation.clean_body(body)
    card = get_card(board_id, card_id)
    _require_commenter(actor, card)
    if visibility == Visibility.REPLY and not is_request(card):
        raise InvalidRequest(
            f"{card.ref} has no requester to reply to: comments on it are internal notes."
        )
    now = clock.now()
    comment = Comment(
        board_id=board_id,
        card_id=card.id,
        author_id=actor.id,
        at=now,
        body=body,
        visibility=visibility,
    )
    db.session.add(comment)
    mentioned = conversation.mention_change(_mentioned_ids(board_id, body, actor.id))
    append_event(
        card,
        EventKind.COMMENTED,
        actor.id,
        snapshot(card),
        reason=WHY[Visibility(visibility)],
        at=now,
        noted=mentioned,
    )
    if visibility == Visibility.REPLY:  # an internal note is never mailed
        outbox.queue_reply(card, body, actor.name)
        if desk.mark_first_reply(card, now):  # the first response target is met
            bump_version(db.session.get(Board, board_id))
    db.session.commit()
    return comment


def _own_comment(board_id: int, actor: Actor, comment_id: Any) -> tuple[Comment, Card]:
    """The comment to change and its card: NotFound for another board's, refused for anyone
    but its author, or once it is too old to change (domain.conversation)."""
    comment = db.session.get(Comment, whole_id(comment_id))
    if comment is None or comment.board_id != board_id:
        raise NotFound("That comment is not here any more.")
    card = get_card(board_id, comment.card_id)
    _require_commenter(actor, card)
    conversation.check_changeable(comment.author_id, actor.id, comment.at, clock.now())
    return comment, card


def edit_comment(board_id: int, actor: Actor, comment_id: Any, body: str) -> Comment:
    """Change one's own comment within the edit window. The history records that it was
    edited and whom the new text mentions that the old did not, never the text."""
    policy.require(actor.role, Action.COMMENT_ON_REQUEST)
    body = conversation.clean_body(body)
    comment, card = _own_comment(board_id, actor, comment_id)
    if body == comment.body:
        db.session.rollback()
        return comment
    before = set(_mentioned_ids(board_id, comment.body, actor.id))
    added = [i for i in _mentioned_ids(board_id, body, actor.id) if i not in before]
    now = clock.now()
    comment.body = body
    comment.edited_at = now
    db.session.flush()
    append_event(
        card,
        EventKind.COMMENT_EDITED,
        actor.id,
        snapshot(card),
        at=now,
        noted=conversation.mention_change(added),
    )
    db.session.commit()
    return comment


def delete_comment(board_id: int, actor: Actor, comment_id: Any) -> Card:
    """Remove one's own comment within the edit window (its row is gone); the history
    records that a comment was deleted. Returns its card."""
    policy.require(actor.role, Action.COMMENT_ON_REQUEST)
    comment, card = _own_comment(board_id, actor, comment_id)
    db.session.delete(comment)
    db.session.flush()
    append_event(card, EventKind.COMMENT_DELETED, actor.id, snapshot(card), at=clock.now())
    db.session.commit()
    return card


def comments(card_id: int, *, replies_only: bool = False) -> list[Comment]:
    """A card's comments, oldest first (only the replies, for the requester's eyes)."""
    query = select(Comment).where(Comment.card_id == card_id).options(joinedload(Comment.author))
    if replies_only:
        query = query.where(Comment.visibility == Visibility.REPLY)
    return list(db.session.execute(query.order_by(Comment.id)).scalars())


def mention_choices(board_id: int, typed: str) -> list[User]:
    """The board's members whose username or name starts with what was typed after @
    (case ignored), alphabetical, at most MENTION_CHOICES; none for nothing typed."""
    typed = (typed or "").strip().lower()[:64]
    if not typed:
        return []
    escaped = typed.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    starts = escaped + "%"
    words = "% " + escaped + "%"
    query = (
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.board_id == board_id,
            User.active.is_(True),
            or_(
                func.lower(User.username).like(starts, escape="\\"),
                func.lower(User.name).like(starts, escape="\\"),
                func.lower(User.name).like(words, escape="\\"),
            ),
        )
        .order_by(User.username)
        .limit(MENTION_CHOICES)
    )
    return list(db.session.execute(query).scalars())


# Watching -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Watch:
    """Whether the person watches the card, and how many people do."""

    watching: bool
    count: int


def watch_state(card_id: int, user_id: int) -> Watch:
    ids = watching.watcher_ids(card_id)
    return Watch(user_id in ids, len(ids))


def set_watching(board_id: int, actor: Actor, card_id: Any, watch: bool) -> Watch:
    """Start or stop watching a card (anyone who can see the board); sending the same
    choice twice changes nothing."""
    policy.require(actor.role, Action.VIEW_BOARD)
    card = get_card(board_id, card_id)
    if watch:
        watching.add_watchers(card.id, {actor.id})
    else:
        watching.remove_watcher(card.id, actor.id)
    db.session.commit()
    return watch_state(card.id, actor.id)
