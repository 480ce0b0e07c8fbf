"""Card use cases: create, move, reorder, pull, assign, block, close, edit."""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, Update, bindparam, func, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from tracker import clock
from tracker.domain import policy, pull, ranks, wip
from tracker.domain.board_setup import reference
from tracker.domain.errors import InvalidRequest, StaleCard
from tracker.domain.policy import Action
from tracker.domain.vocabulary import CardStatus, EventKind, Role
from tracker.extensions import db
from tracker.models import Board, BoardColumn, Card, Lane, Membership
from tracker.services import audit
from tracker.services.common import (
    Actor,
    BoardState,
    board_state,
    get_card,
    lane_rule,
    lock_board,
    person_name,
    placement,
    plain_rows,
    record,
    snapshot,
)
from tracker.services.mail import outbox

CARD_RELATIONSHIPS = [r.key for r in sa_inspect(Card).relationships]
CLOSE_REASONS = {"wont_do": "Won't do", "duplicate": "Duplicate"}
EDITABLE = ("title", "description", "estimate", "severity", "component", "requester")


def _require_changer(actor: Actor) -> None:
    policy.require(actor.role, Action.CHANGE_CARDS)


def _open_card(board_id: int, card_id: Any) -> Card:
    """The board's card, refusing one that was closed (it is no longer on the board)."""
    card = get_card(board_id, card_id)
    if card.status == CardStatus.CLOSED:
        raise InvalidRequest(f"{card.ref} is closed; it is no longer on the board.")
    return card


def _in_cell(card_id: Any, lane_id: Any, column_id: Any) -> tuple:
    """Conditions for the other cards of a cell (lane × column) that are still on the board."""
    return (
        Card.lane_id == lane_id,
        Card.column_id == column_id,
        Card.status != CardStatus.CLOSED,
        Card.id != (0 if card_id is None else card_id),  # a bound parameter passes as is
    )


@functools.cache
def _bottom_statement() -> Select:
    """The highest rank in a cell, the card itself left out."""
    cell = _in_cell(bindparam("card_id"), bindparam("lane_id"), bindparam("column_id"))
    return select(func.max(Card.rank)).where(*cell)


def _neighbours(
    card_id: int | None, lane_id: int, column_id: int, after: int | None
) -> tuple[float | None, float | None]:
    """The ranks just above and below the slot: after `after`, at the top (0), bottom (None).

    Reads only the neighbours, never the whole cell: a done column holds years of cards.
    """
    if after is None:  # the usual case (a pull, a move with the "Move to" list): composed once
        params = {"card_id": card_id or 0, "lane_id": lane_id, "column_id": column_id}
        return plain_rows(_bottom_statement(), params)[0][0], None
    cell = _in_cell(card_id, lane_id, column_id)
    if after == 0:
        return None, db.session.execute(select(func.min(Card.rank)).where(*cell)).scalar()
    above = db.session.execute(select(Card.rank).where(Card.id == after, *cell)).scalar()
    if above is None:
        raise InvalidRequest("The card to place it after is not in that column any more.")
    below = db.session.execute(select(func.min(Card.rank)).where(*cell, Card.rank > above)).scalar()
    return above, below


def _place(card: Card, lane_id: int, column_id: int, after: int | None) -> None:
    """Give card a rank in the cell: after the card `after`, at the top (0) or bottom (None)."""
    card.rank = _rank(card.id, lane_id, column_id, after)


def _rank(card_id: int | None, lane_id: int, column_id: int, after: int | None) -> float:
    """The rank for a card in the cell: after the card `after`, at the top (0) or bottom
    (None). Respaces the cell's other cards first when no rank is left between two."""
    above, below = _neighbours(card_id, lane_id, column_id, after)
    if ranks.needs_respacing(above, below):
        others = (
            db.session.execute(
                select(Card).where(*_in_cell(card_id, lane_id, column_id)).order_by(Card.rank)
            )
            .scalars()
            .all()
        )
        for rank, other in zip(ranks.spaced(len(others)), others, strict=True):
            other.rank = rank
        db.session.flush()
        above, below = _neighbours(card_id, lane_id, column_id, after)
    return ranks.rank_between(above, below)


def _entering(card: Card, column: BoardColumn, now) -> dict[str, Any]:
    """What changes on a card that enters (or stays in) a column: its clock, start, status."""
    values: dict[str, Any] = {"column_id": column.id}
    if card.column_id != column.id:
        values["column_entered_at"] = now
    if column.kind == wip.ACTIVE and card.started_at is None:
        values["started_at"] = now
    if column.kind == wip.DONE:
        values |= {"status": CardStatus.DONE, "done_at": card.done_at or now}
    else:
        values |= {"status": CardStatus.OPEN, "done_at": None}
    return values


def _check_limits(
    state: BoardState, actor: Actor, before: wip.Placement | None, after: wip.Placement, reason
) -> list[wip.Breach]:
    # The name only appears in a per-person breach: look it up only when that limit is set.
    if after.assignee_id is not None and state.wip.per_person_limit is not None:
        state.wip.person_names[after.assignee_id] = person_name(after.assignee_id)
    return wip.authorise(
        state.wip.breaches(before, after),
        is_lead=policy.may(actor.role, Action.OVERRIDE_LIMITS),
        reason=reason,
    )


def _record_override(card: Card, actor: Actor, breaches: list[wip.Breach], reason: str) -> None:
    limits = " ".join(b.message() for b in breaches)
    record(
        card, EventKind.WIP_OVERRIDE, actor, snapshot(card), reason=f"{reason.strip()} [{limits}]"
    )
    audit.record(
        "wip.override",
        actor_id=actor.id,
        address=actor.address,
        board_id=card.board_id,
        target_type="card",
        target_id=card.id,
        detail={
            "card": card.ref,
            "role": actor.role,
            # scope and limit only: a person limit's name is the person's, so it stays out
            "limits": [f"{b.scope} {b.count}/{b.limit} ({b.mode})" for b in breaches],
        },
    )


def _finish(state: BoardState) -> None:
    """Bump the board's version (the live board's signal) and commit.

    The answer shows this very card and board right after: their columns are kept as this
    transaction wrote them (reading them again would return just that). A card's
    relationships are read again when used, since they may predate a foreign key the use
    case changed (card.lane after an escalation).
    """
    board = state.board
    db.session.connection().execute(_bump_statement(), {"board_id": board.id})
    set_committed_value(board, "version", board.version + 1)
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True
    for kept in list(session.identity_map.values()):
        if isinstance(kept, Card):
            session.expire(kept, CARD_RELATIONSHIPS)


@functools.cache
def _bump_statement() -> Update:
    """The board's next version (under the board lock: one more than the version read)."""
    return update(Board).where(Board.id == bindparam("board_id")).values(version=Board.version + 1)


@dataclass
class Change:
    """A card change as the board shows it: the card now, where it was, and the board's
    lanes, columns and WIP counts as the change left them (read under the board lock, so
    exactly as it committed). The board's version names that state."""

    card: Card
    before: wip.Placement
    state: BoardState

    @property
    def left(self) -> tuple[int, int]:
        """The cell (lane, column) the card was in."""
        return self.before.lane_id, self.before.column_id

    @property
    def entered(self) -> tuple[int, int]:
        """The cell (lane, column) the card is in now (the same one after a reorder)."""
        return self.card.lane_id, self.card.column_id


# What a pull or a move may change on a card: _write writes these.
PLACED = (
    "lane_id",
    "column_id",
    "rank",
    "assignee_id",
    "status",
    "done_at",
    "started_at",
    "column_entered_at",
)


def _write(card: Card, values: dict[str, Any]) -> None:
    """Write new PLACED values of a card at once: the board's hot path (every pull and move).

    One Core UPDATE, checked against the card's version as the ORM's own update is; the
    card then shows the values as committed, so the commit has nothing of it to flush (the
    ORM's flush costs more Python time than SQLite takes to run the statement).
    """
    placed = {name: values[name] if name in values else getattr(card, name) for name in PLACED}
    params = placed | {"card_id": card.id, "version": card.version}
    written = db.session.connection().execute(_placed_statement(), params)
    if written.rowcount != 1:
        raise StaleDataError(f"card {card.id} changed under the board lock")
    for name, value in placed.items():
        set_committed_value(card, name, value)
    set_committed_value(card, "version", card.version + 1)


@functools.cache
def _placed_statement() -> Update:
    return (
        update(Card)
        .where(Card.id == bindparam("card_id"), Card.version == bindparam("version"))
        .values({name: bindparam(name) for name in PLACED} | {"version": Card.version + 1})
    )


def _changed(state: BoardState, card: Card, before: wip.Placement) -> Change:
    """Count a card written by _write into the board's WIP, and commit (_finish)."""
    state.wip.apply(before, placement(card))
    _finish(state)
    return Change(card, before, state)


def new_form_key() -> str:
    """A fresh one-time key for a new-card form (see create_card)."""
    return secrets.token_urlsafe(24)


SENT_ELSEWHERE = "This form was already used on another board. Open a new form to add the card."


def create_card(
    board_id: int, actor: Actor, lane_id: Any, fields: dict[str, Any], form_key: str | None = None
) -> Card:
    """File a new card at the bottom of a lane's ready queue, with the next reference.

    form_key is the form's one-time key: the same form sent again (a double click, a
    resend) answers with the card it filed the first time instead of filing another.
    """
    _require_changer(actor)
    state = board_state(lock_board(board_id))
    if form_key:
        filed = db.session.execute(
            select(Card).where(Card.intake_key == form_key)
        ).scalar_one_or_none()
        if filed is not None:
            db.session.rollback()  # nothing written: end the locked transaction
            if filed.board_id != board_id:
                raise InvalidRequest(SENT_ELSEWHERE)
            return filed
        fields = fields | {"intake_key": form_key}
    card = place_new_card(state, actor, state.lane(lane_id), fields)
    _finish(state)
    return card


def place_new_card(
    state: BoardState,
    actor: Actor,
    lane: Lane,
    fields: dict[str, Any],
    *,
    after: int | None = None,
) -> Card:
    """Add a card to a lane's ready queue (after the card `after`, at the top 0, or at the
    bottom None) with the lane's next reference, and record it created.

    For use cases that hold the board lock (lock_board) and commit afterwards.
    """
    column = state.ready_columns()[0]
    now = clock.now()
    card = Card(
        board_id=state.board.id,
        ref=reference(lane.prefix, lane.next_number),
        lane_id=lane.id,
        column_id=column.id,
        created_at=now,
        column_entered_at=now,
        created_by_id=actor.id,
        status=CardStatus.OPEN,
        blocked=False,
        blocked_reason="",
        close_reason="",
        **{"description": "", "component": "", "requester": ""} | fields,
    )
    lane.next_number += 1
    _place(card, lane.id, column.id, after)
    db.session.add(card)
    db.session.flush()
    record(card, EventKind.CREATED, actor, {})
    return card


def move_card(
    board_id: int,
    actor: Actor,
    card_id: Any,
    *,
    lane_id: Any,
    column_id: Any,
    after: int | None = None,
    reason: str | None = None,
) -> Change:
    """Move a card to a lane and column, checked against every limit the move would raise."""
    _require_changer(actor)
    state = board_state(lock_board(board_id))
    card = _open_card(board_id, card_id)
    lane, column = state.lane(lane_id), state.column(column_id)
    before = snapshot(card)
    from_lane_kind = state.lane(card.lane_id).kind
    target = wip.Placement(lane.id, column.id, card.assignee_id)
    was = placement(card)
    overrides = _check_limits(state, actor, was, target, reason)
    same_cell = (card.lane_id, card.column_id) == (lane.id, column.id)
    was_done = card.status == CardStatus.DONE
    rank = _rank(card.id, lane.id, column.id, after)
    _write(card, {"lane_id": lane.id, "rank": rank} | _entering(card, column, clock.now()))
    if card.status == CardStatus.DONE and not was_done:
        outbox.queue_done(card)  # the requester hears of it, when mail is on and known
    if same_cell:
        kind = EventKind.REORDERED
    elif lane.kind == wip.EXPEDITE and from_lane_kind != wip.EXPEDITE:
        kind = EventKind.ESCALATED
    elif from_lane_kind == wip.EXPEDITE and lane.kind != wip.EXPEDITE:
        kind = EventKind.DEESCALATED
    else:
        kind = EventKind.MOVED
    record(card, kind, actor, before)
    if overrides:
        _record_override(card, actor, overrides, reason or "")
    return _changed(state, card, was)


def reorder_card(board_id: int, actor: Actor, card_id: Any, direction: str) -> Card:
    """Move a card one place up or down within its cell (the keyboard way to reorder)."""
    _require_changer(actor)
    state = board_state(lock_board(board_id))
    card = _open_card(board_id, card_id)
    cell = _in_cell(card.id, card.lane_id, card.column_id)
    if direction == "up":
        # Two cards up: the new slot is after the second one above (or the top).
        above = (
            db.session.execute(
                select(Card.id)
                .where(*cell, Card.rank < card.rank)
                .order_by(Card.rank.desc())
                .limit(2)
            )
            .scalars()
            .all()
        )
        if not above:
            db.session.rollback()
            return card
        after = above[1] if len(above) == 2 else 0
    elif direction == "down":
        after = db.session.execute(
            select(Card.id).where(*cell, Card.rank > card.rank).order_by(Card.rank).limit(1)
        ).scalar()
        if after is None:
            db.session.rollback()
            return card
    else:
        raise InvalidRequest("Move a card up or down.")
    before = snapshot(card)
    _place(card, card.lane_id, card.column_id, after)
    record(card, EventKind.REORDERED, actor, before)
    _finish(state)
    return card


@dataclass
class PullResult:
    """What a pull did (None: nothing pulled), and why each lane gave nothing."""

    change: Change | None
    reasons: list[str] = field(default_factory=list)

    @property
    def card(self) -> Card | None:
        """The card pulled, if any."""
        return self.change.card if self.change else None


@functools.cache
def _ready_statement() -> Select:
    """The open cards in the given (ready) columns, in rank order."""
    return (
        select(Card.id, Card.lane_id, Card.column_id, Card.blocked, Card.assignee_id)
        .where(
            Card.board_id == bindparam("board_id"),
            Card.status == CardStatus.OPEN,
            Card.column_id.in_(bindparam("columns", expanding=True)),
        )
        .order_by(Card.rank)
    )


def pull_next(board_id: int, actor: Actor) -> PullResult:
    """Give the person the highest-priority ready card they may take, or say why not."""
    _require_changer(actor)
    board = lock_board(board_id)
    state = board_state(board)
    state.wip.person_names[actor.id] = actor.name
    ready_columns = state.ready_columns()
    order = [c.id for c in ready_columns]
    rows = plain_rows(_ready_statement(), {"board_id": board_id, "columns": order})
    rows.sort(key=lambda r: order.index(r.column_id))  # stable: rank order within a column
    ready: dict[int, list[pull.ReadyCard]] = {}
    for row in rows:
        ready.setdefault(row.lane_id, []).append(
            pull.ReadyCard(row.id, row.column_id, row.blocked, row.assignee_id)
        )
    lanes = pull.lanes_in_pull_order(
        [lane_rule(lane) for lane in state.lanes], board.pull_order.split(",")
    )
    to_column = state.first(wip.ACTIVE)
    plan = pull.plan_pull(state.wip, lanes, ready, actor.id, to_column.id)
    if plan.card_id is None:
        db.session.rollback()
        return PullResult(None, plan.reasons)
    card = get_card(board_id, plan.card_id)
    before, was = snapshot(card), placement(card)
    rank = _rank(card.id, card.lane_id, to_column.id, None)
    placed = {"rank": rank, "assignee_id": actor.id} | _entering(card, to_column, clock.now())
    _write(card, placed)
    record(card, EventKind.PULLED, actor, before)
    return PullResult(_changed(state, card, was), plan.reasons)


def assign_card(
    board_id: int, actor: Actor, card_id: Any, assignee_id: int | None, reason: str | None = None
) -> Card:
    """Assign a card to a member of the board (or nobody), within the per-person limit."""
    _require_changer(actor)
    state = board_state(lock_board(board_id))
    card = _open_card(board_id, card_id)
    if assignee_id is not None and assignee_id not in assignable_ids(board_id):
        raise InvalidRequest("Cards can only be assigned to members and leads of this board.")
    target = wip.Placement(card.lane_id, card.column_id, assignee_id)
    overrides = _check_limits(state, actor, placement(card), target, reason)
    before = snapshot(card)
    card.assignee_id = assignee_id
    record(card, EventKind.ASSIGNED, actor, before)
    if overrides:
        _record_override(card, actor, overrides, reason or "")
    _finish(state)
    return card


def assignable_ids(board_id: int) -> set[int]:
    """The people the policy lets hold cards on this board."""
    holders = [role for role in Role if policy.may(role, Action.HOLD_CARDS)]
    rows = db.session.execute(
        select(Membership.user_id).where(
            Membership.board_id == board_id, Membership.role.in_(holders)
        )
    )
    return {row.user_id for row in rows}


def set_blocked(board_id: int, actor: Actor, card_id: Any, blocked: bool, reason: str = "") -> Card:
    """Block a card with a reason, or unblock it. Blocked cards still count toward WIP."""
    _require_changer(actor)
    state = board_state(lock_board(board_id))
    card = _open_card(board_id, card_id)
    reason = reason.strip()
    if blocked and not reason:
        raise InvalidRequest("Say what the card is waiting for, so others can help unblock it.")
    before = snapshot(card)
    card.blocked, card.blocked_reason = blocked, reason if blocked else ""
    record(
        card, EventKind.BLOCKED if blocked else EventKind.UNBLOCKED, actor, before, reason=reason
    )
    _finish(state)
    return card


def close_card(board_id: int, actor: Actor, card_id: Any, why: str, note: str) -> Card:
    """Close a card without doing it (won't do, duplicate): it leaves the board, undelivered."""
    _require_changer(actor)
    state = board_state(lock_board(board_id))
    card = _open_card(board_id, card_id)
    if why not in CLOSE_REASONS:
        raise InvalidRequest("Choose why the card is closed: won't do or duplicate.")
    note = note.strip()
    if not note:
        raise InvalidRequest("Write a short reason, so the requester and the team know why.")
    before = snapshot(card)
    card.status, card.closed_at = CardStatus.CLOSED, clock.now()
    card.close_reason = f"{CLOSE_REASONS[why]}: {note}"
    record(card, EventKind.CLOSED, actor, before, reason=card.close_reason)
    outbox.queue_closed(card)
    _finish(state)
    return card


def edit_card(
    board_id: int, actor: Actor, card_id: Any, expected_version: int, fields: dict[str, Any]
) -> Card:
    """Change a card's text fields, refusing an edit based on a stale version."""
    _require_changer(actor)
    state = board_state(lock_board(board_id))
    card = _open_card(board_id, card_id)
    if card.version != expected_version:
        raise StaleCard(card)
    before = snapshot(card)
    for name in EDITABLE:
        if name in fields:
            setattr(card, name, fields[name])
    if snapshot(card) == before:
        db.session.rollback()
        return card
    record(card, EventKind.EDITED, actor, before)
    _finish(state)
    return card
