"""Support intake use cases: filing requests, comments, status links, and following them.

Every change to a request goes through a function here (file_request, add_comment,
create_status_link, revoke_status_link), so that mail to the requester can hook in at one
place per change.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from tracker import clock, store
from tracker.domain import intake, policy
from tracker.domain.errors import InvalidRequest, NotAllowed, NotFound
from tracker.domain.intake import PlainStatus
from tracker.domain.policy import Action
from tracker.domain.vocabulary import CardStatus, RequestStatus, Visibility
from tracker.extensions import db
from tracker.models import (
    Board,
    BoardColumn,
    Card,
    CardEvent,
    Comment,
    Component,
    Lane,
    StatusLink,
    User,
)
from tracker.services import audit, cards, conversation, desk, host
from tracker.services.board_view import card_history
from tracker.services.common import Actor, get_card, require_lead
from tracker.services.mail import outbox
from tracker.store import BoardState, load_locked, lock_board

# The request's text fields and the most characters each may hold (the columns' sizes).
REQUEST_FIELDS = {
    "title": 200,
    "description": 10_000,
    "requester": 200,
    "requester_email": 254,
    "environment": 200,
}
ONE_TIME_KEY = re.compile(r"[A-Za-z0-9_-]{32,64}")
STATUS_TOKEN = re.compile(r"[A-Za-z0-9_-]{32,100}")
ALREADY_USED = (
    "This form was already used to file a request on another board. "
    "Open a new form to file this one."
)


def new_intake_key() -> str:
    """A fresh one-time token for an intake form: a resubmit of that form files nothing new."""
    return secrets.token_urlsafe(24)


def _require_filer(actor: Actor, action: Action = Action.FILE_REQUEST) -> None:
    """Refuse a person whose role does not allow this intake action (filing, commenting,
    sharing): the policy's answer, "Your role on this board is read-only."."""
    policy.require(actor.role, action)


def may_act_on(actor: Actor, card: Card) -> bool:
    """Support staff comment on and share the requests they filed (DESIGN.md: they follow
    what they filed); members and leads act on every request of the board (the policy's
    rule)."""
    return policy.may_act_on_request(actor.role, actor.id, card.filed_by_id)


def _require_own_request(actor: Actor, card: Card) -> None:
    if not may_act_on(actor, card):
        raise NotAllowed(
            f"{card.ref} was filed by someone else: support staff comment on and share the "
            "requests they filed. Ask the team or the person who filed it."
        )


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def status_of(card: Any, columns: list[BoardColumn]) -> PlainStatus:
    """A card's plain-words status; columns are the board's, in order."""
    return intake.request_status(
        card.status, card.column_id, [(c.id, c.kind) for c in columns], card.close_reason
    )


# Components -------------------------------------------------------------------------


def components(board_id: int) -> list[str]:
    """The board's component names, alphabetical (the intake form adds Other)."""
    return list(
        db.session.execute(
            select(Component.name).where(Component.board_id == board_id).order_by(Component.name)
        ).scalars()
    )


def component_rows(board_id: int) -> list[Component]:
    return list(
        db.session.execute(
            select(Component).where(Component.board_id == board_id).order_by(Component.name)
        ).scalars()
    )


def add_component(board_id: int, actor: Actor, name: str) -> Component:
    """A lead adds a component to the board's list."""
    require_lead(actor, "its components")
    lock_board(board_id)
    name = intake.clean_component_name(name, components(board_id))
    component = Component(board_id=board_id, name=name)
    db.session.add(component)
    db.session.commit()
    return component


def remove_component(board_id: int, actor: Actor, component_id: Any) -> str:
    """A lead removes a component; cards filed under it keep the name they were filed with."""
    require_lead(actor, "its components")
    lock_board(board_id)
    component = db.session.get(Component, component_id)
    if component is None or component.board_id != board_id:
        raise NotFound("That component is not on this board.")
    name = component.name
    db.session.delete(component)
    db.session.commit()
    return name


# Filing -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Filed:
    """The request's card, whether this call filed it (False: the form was resent), and
    whether the requester is emailed about it (with a new status link)."""

    card: Card
    created: bool
    mailed: bool = False


def _filed_with(key: str) -> Card | None:
    return db.session.execute(select(Card).where(Card.intake_key == key)).scalar_one_or_none()


def _check_text(values: dict[str, Any]) -> dict[str, str]:
    cleaned = {}
    for name, limit in REQUEST_FIELDS.items():
        value = str(values.get(name) or "").replace("\x00", "").strip()
        if len(value) > limit:
            raise InvalidRequest(f"The {name.replace('_', ' ')} is longer than {limit} characters.")
        cleaned[name] = value
    for name in ("title", "description", "requester"):
        if not cleaned[name]:
            raise InvalidRequest(f"The {name} is missing.")
    return cleaned


def file_request(board_id: int, actor: Actor, values: dict[str, Any], intake_key: str) -> Filed:
    """File a support request as a card: S1 to the Expedite lane's ready queue, S2 to S4 to
    Support's, ranked by severity and then age.

    intake_key is the form's one-time token: sending the same form again (a double click,
    a resend) answers with the card it filed the first time instead of filing another.
    """
    _require_filer(actor)
    if not ONE_TIME_KEY.fullmatch(intake_key or ""):
        raise InvalidRequest("This form is incomplete; send it again.")
    text = _check_text(values)
    severity = intake.check_severity(values.get("severity") or "")
    component = intake.check_component(values.get("component") or "", components(board_id))
    state = load_locked(board_id)
    existing = _filed_with(intake_key)
    lane = state.lane_of_kind(intake.lane_kind_for(severity))
    if existing is not None or lane is None:
        db.session.rollback()  # nothing written: end the locked transaction
        if lane is None:
            raise InvalidRequest("This board has no lane for requests of that severity.")
        if existing.board_id != board_id:
            raise InvalidRequest(ALREADY_USED)
        return Filed(existing, False)
    fields = text | {
        "severity": severity,
        "component": component,
        "filed_by_id": actor.id,
        "intake_key": intake_key,
    }
    card = place_in_queue(state, actor, lane, fields)
    mailed = outbox.will_mail(card)
    if mailed:
        # The first mail carries the request's status link. Its token is derived from a
        # random seed and the secret key when the mail is sent; the outbox keeps the seed.
        seed = secrets.token_urlsafe(32)
        token = intake.status_token(host.config()["SECRET_KEY"], seed)
        _add_status_link(card, actor, clock.now(), token=token)
        outbox.queue_filed(card, seed)
    try:
        # The store's commit, as every card change's: the version moves on (open boards see
        # it at once) and the card keeps what it wrote, so the answer's redirect reads
        # nothing again (a read after the commit began a transaction: bench/intake.py).
        card = store.commit(state, card).card
    except IntegrityError:
        # The same token filed concurrently under another board's lock (only a tampered
        # form can do that); on this board the lock makes the lookup above enough.
        db.session.rollback()
        existing = _filed_with(intake_key)
        if existing is None or existing.board_id != board_id:
            raise InvalidRequest(ALREADY_USED) from None
        return Filed(existing, False)
    return Filed(card, True, mailed)


def place_in_queue(state: BoardState, actor: Actor, lane: Lane, fields: dict[str, Any]) -> Card:
    """Add a card with a severity to the lane's ready queue, ranked by severity and then
    age (domain.intake.slot_after): a filed request, or an alert's Expedite card
    (services.alerts). Under the board lock; the caller bumps the version and commits."""
    column = state.ready_columns()[0]
    # domain.intake.slot_after's place, asked of the database: the last card of the queue
    # as urgent or more (read from the cell's rank index from the bottom up), not the whole
    # queue, which can hold thousands of requests (bench/intake.py: intake_submit_ms).
    last = db.session.execute(
        select(Card.id)
        .where(
            Card.lane_id == lane.id,
            Card.column_id == column.id,
            Card.status != CardStatus.CLOSED,
            Card.severity.in_(intake.as_urgent(fields["severity"])),
        )
        .order_by(Card.rank.desc())
        .limit(1)
    ).scalar()
    return cards.place_new_card(state, actor, lane, fields, after=last or 0)


# Comments ---------------------------------------------------------------------------


def add_comment(board_id: int, actor: Actor, card_id: Any, body: str, visibility: str) -> Comment:
    """An internal note (the team only) or a reply (the requester sees it) on a request:
    the one comment use case of every card (services.conversation.add_comment)."""
    _require_filer(actor, Action.COMMENT_ON_REQUEST)
    visibility = intake.check_visibility(visibility)
    return conversation.add_comment(board_id, actor, card_id, body, visibility)


def comments(card_id: int, *, replies_only: bool = False) -> list[Comment]:
    """A card's comments, oldest first (only the replies, for the requester's eyes)."""
    return conversation.comments(card_id, replies_only=replies_only)


# Status links -----------------------------------------------------------------------


@dataclass(frozen=True)
class NewStatusLink:
    """A link just made: the token is shown this once; only its hash is kept."""

    link: StatusLink
    token: str


def _revoke_active(card_id: int, now: datetime) -> int:
    result = db.session.execute(
        update(StatusLink)
        .where(StatusLink.card_id == card_id, StatusLink.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return result.rowcount


def create_status_link(board_id: int, actor: Actor, card_id: Any) -> NewStatusLink:
    """A new status link for the request (any earlier one stops working)."""
    _require_filer(actor, Action.SHARE_REQUEST)
    lock_board(board_id)  # at most one active link per card
    card = get_card(board_id, card_id)
    _require_own_request(actor, card)
    now = clock.now()
    replaced = _revoke_active(card.id, now)
    made = _add_status_link(card, actor, now, replaced=replaced)
    db.session.commit()
    return made


def _add_status_link(
    card: Card, actor: Actor, now: datetime, *, replaced: int = 0, token: str | None = None
) -> NewStatusLink:
    """Add a status link to the card (the caller revokes any other) and audit it. Its token
    (random unless given) exists only in what this returns: only its hash is stored, and the
    audit row has neither."""
    token = token or secrets.token_urlsafe(32)
    link = StatusLink(
        card_id=card.id, token_hash=_hash(token), created_at=now, created_by_id=actor.id
    )
    db.session.add(link)
    audit.record(
        "status_link.created",
        actor_id=actor.id,
        address=actor.address,
        board_id=card.board_id,
        target_type="card",
        target_id=card.id,
        detail={"card": card.ref, "replaced": replaced},
    )
    return NewStatusLink(link, token)


def revoke_status_link(board_id: int, actor: Actor, card_id: Any) -> int:
    """Stop the request's status link from working; returns how many links were active."""
    _require_filer(actor, Action.SHARE_REQUEST)
    card = get_card(board_id, card_id)
    _require_own_request(actor, card)
    revoked = _revoke_active(card.id, clock.now())
    if revoked:
        audit.record(
            "status_link.revoked",
            actor_id=actor.id,
            address=actor.address,
            board_id=card.board_id,
            target_type="card",
            target_id=card.id,
            detail={"card": card.ref, "revoked": revoked},
        )
    db.session.commit()
    return revoked


def active_status_link(card_id: int) -> StatusLink | None:
    return db.session.execute(
        select(StatusLink)
        .where(StatusLink.card_id == card_id, StatusLink.revoked_at.is_(None))
        .order_by(StatusLink.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def active_link_card(token: str) -> Card:
    """The request a working status link leads to: NotFound for an unknown or revoked one."""
    if not STATUS_TOKEN.fullmatch(token or ""):
        raise NotFound("There is nothing here.")
    link = db.session.execute(
        select(StatusLink).where(StatusLink.token_hash == _hash(token))
    ).scalar_one_or_none()
    if link is None or link.revoked_at is not None:
        raise NotFound("There is nothing here.")
    return db.session.get(Card, link.card_id)


def reply_through_link(token: str, body: str) -> Comment:
    """The requester answers on the status page (the link is the credential): their reply
    in the request's thread (services.desk.add_requester_reply)."""
    body = desk.clean_requester_text(body)
    return desk.add_requester_reply(active_link_card(token), body)


@dataclass(frozen=True)
class Reply:
    at: datetime
    body: str
    author: str  # a first name, or "" (the public page names no one further)
    from_requester: bool = False  # the requester's own reply (services.desk)


@dataclass(frozen=True)
class PublicStatus:
    """All a status link shows: nothing else of the card or the board."""

    ref: str
    title: str
    status: PlainStatus
    filed_at: datetime
    timezone: str
    replies: list[Reply]


def public_status(token: str) -> PublicStatus:
    """What the requester sees through a status link; NotFound for unknown or revoked."""
    if not STATUS_TOKEN.fullmatch(token or ""):
        raise NotFound("There is nothing here.")
    # Looked up by the token's SHA-256, never the token: how long the database takes to
    # compare hashes tells nothing about a token that would match.
    digest = _hash(token)
    link = db.session.execute(
        select(StatusLink).where(StatusLink.token_hash == digest)
    ).scalar_one_or_none()
    if link is None or link.revoked_at is not None:
        raise NotFound("There is nothing here.")
    card = db.session.get(Card, link.card_id)
    board = db.session.get(Board, card.board_id)
    columns = list(
        db.session.execute(
            select(BoardColumn)
            .where(BoardColumn.board_id == board.id)
            .order_by(BoardColumn.position)
        ).scalars()
    )
    rows = db.session.execute(
        select(Comment.at, Comment.body, User.name, Comment.from_requester)
        .outerjoin(User, User.id == Comment.author_id)
        .where(Comment.card_id == card.id, Comment.visibility == Visibility.REPLY)
        .order_by(Comment.id)
    )
    replies = [
        Reply(at, body, intake.first_name(name or ""), bool(mine)) for at, body, name, mine in rows
    ]
    status = status_of(card, columns)
    if card.status == CardStatus.OPEN and desk.open_wait(card.id) is not None:
        status = PlainStatus(RequestStatus.WAITING, RequestStatus.WAITING.label)
    return PublicStatus(card.ref, card.title, status, card.created_at, board.timezone, replies)


# Following --------------------------------------------------------------------------


class RequestRow(NamedTuple):
    """One line of My requests: a tuple of everything the line shows (its markup is kept)."""

    id: int
    ref: str
    title: str
    severity: str | None
    status: PlainStatus
    lane: str
    column: str
    assignee: str
    filed_at: datetime
    last_activity: datetime


def my_requests(
    board: Board, user_id: int, ids: list[int] | None = None, waiting: frozenset = frozenset()
) -> list[RequestRow]:
    """Everything the person filed on the board, newest first, with status, assignee and
    the time of the last event (comments included), in one query. With `ids` (a page of
    the queue's filter, services.desk), only those, in that order; `waiting`: the ids of
    those waiting for their requester (their status says so)."""
    last = (
        select(func.max(CardEvent.at))
        .where(CardEvent.card_id == Card.id)
        .correlate(Card)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(
            Card.id,
            Card.ref,
            Card.title,
            Card.severity,
            Card.status,
            Card.close_reason,
            Card.lane_id,
            Card.column_id,
            Card.created_at,
            User.name,
            last,
        )
        .outerjoin(User, User.id == Card.assignee_id)
        .where(
            Card.filed_by_id == user_id,
            Card.board_id == board.id,
            *([Card.id.in_(ids)] if ids is not None else []),
        )
        .order_by(Card.created_at.desc(), Card.id.desc())
    ).all()
    if ids is not None:
        place = {card_id: i for i, card_id in enumerate(ids)}
        rows.sort(key=lambda row: place[row.id])
    if not rows:
        return []
    columns = list(board.columns)
    by_id = {c.id: c for c in columns}
    kinds = [(c.id, c.kind) for c in columns]
    lanes: dict[int, Lane] = {lane.id: lane for lane in board.lanes}
    found = []
    for row in rows:
        column = by_id.get(row.column_id)
        status = intake.request_status(row.status, row.column_id, kinds, row.close_reason)
        if row.id in waiting and row.status == CardStatus.OPEN:
            status = PlainStatus(RequestStatus.WAITING, RequestStatus.WAITING.label)
        lane = lanes.get(row.lane_id)
        found.append(
            RequestRow(
                row.id,
                row.ref,
                row.title,
                row.severity,
                status,
                lane.name if lane else "",
                column.name if column else "",
                row.name or "",
                row.created_at,
                row[-1] or row.created_at,
            )
        )
    return found


@dataclass
class RequestPage:
    """Everything the request page shows."""

    card: Card
    status: PlainStatus
    comments: list[Comment]
    history: list[CardEvent]
    link: StatusLink | None
    filed_by: User | None
    waiting: bool = False
    # The request's response target clocks (services.desk), None without a severity.
    standing: Any = None


def request_page(board: Board, card_id: Any) -> RequestPage:
    """A request's status, place on the board, comments (both kinds), history and link."""
    card = get_card(board.id, card_id)
    filed_by = db.session.get(User, card.filed_by_id) if card.filed_by_id else None
    status = status_of(card, list(board.columns))
    waiting = card.status == CardStatus.OPEN and desk.open_wait(card.id) is not None
    if waiting:
        status = PlainStatus(RequestStatus.WAITING, RequestStatus.WAITING.label)
    return RequestPage(
        card,
        status,
        comments(card.id),
        card_history(card.id),
        active_status_link(card.id),
        filed_by,
        waiting,
        desk.standings(board, [card.id], clock.now()).get(card.id),
    )


def reply_is_mailed(card_id: int) -> bool:
    """Whether a reply on this request is emailed to its requester (mail is set up and the
    request has a usable address)."""
    return outbox.will_mail(db.session.get(Card, card_id))
