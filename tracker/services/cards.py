"""Card use cases: create, move, reorder, pull, assign, block, close, reopen, undo, edit.

Each reads the same way: load the board under its lock (tracker.store), ask the domain
(tracker.domain: WIP limits, the pull policy, ranks), write through the store, and commit
once through it, which returns the change with the history events it wrote.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from tracker import clock, store
from tracker.domain import policy, pull, ranks, undo, wip
from tracker.domain.board_setup import reference
from tracker.domain.errors import InvalidRequest, StaleCard
from tracker.domain.policy import Action
from tracker.domain.vocabulary import CardStatus, ColumnKind, EventKind, LaneKind
from tracker.models import BoardColumn, Card, Lane
from tracker.services import audit, incidents, labels, rotation
from tracker.services.common import (
    Actor,
    assignable_ids,
    card_of_board,
    get_card,
    person_name,
    whole_id,
)
from tracker.services.mail import outbox
from tracker.store import BoardState, Change, NewEvent, lane_rule, placement, snapshot

CLOSE_REASONS = {"wont_do": "Won't do", "duplicate": "Duplicate"}
EDITABLE = ("title", "description", "estimate", "severity", "component", "requester")


def _require_changer(actor: Actor) -> None:
    policy.require(actor.role, Action.CHANGE_CARDS)


def _open_card(board_id: int, card_id: Any) -> Card:
    """The board's card, refusing one that was closed (it is no longer on the board)."""
    return _still_open(get_card(board_id, card_id))


def _still_open(card: Card) -> Card:
    if card.status == CardStatus.CLOSED:
        raise InvalidRequest(f"{card.ref} is closed; it is no longer on the board.")
    return card


def _card_going_to(board_id: int, card_id: Any, lane_id: int, column_id: int):
    """The board's card (as get_card) and the highest rank among the other cards of the
    cell (lane, column) it goes to, read together (store.card_and_bottom)."""
    card, bottom = store.card_and_bottom(whole_id(card_id), lane_id, column_id)
    return card_of_board(board_id, card), bottom


def _rank(
    card_id: int | None,
    lane_id: int,
    column_id: int,
    after: int | None,
    *,
    read: tuple[float | None, float | None] | None = None,
) -> float:
    """The rank for a card in the cell: after the card `after`, at the top (0) or bottom
    (None). `read`: the ranks just above and below the slot, when read already (the bottom
    of a cell comes with the card, see _card_going_to). Respaces the cell's other cards
    first when no rank is left between two."""
    above, below = read or store.neighbours(card_id, lane_id, column_id, after)
    if ranks.needs_respacing(above, below):
        others = store.cell_cards(card_id, lane_id, column_id)
        store.set_ranks(others, ranks.spaced(len(others)))
        above, below = store.neighbours(card_id, lane_id, column_id, after)
    return ranks.rank_between(above, below)


def _entering(card: Card, column: BoardColumn, now) -> dict[str, Any]:
    """What changes on a card that enters (or stays in) a column: its clock, start, status."""
    values: dict[str, Any] = {"column_id": column.id}
    if card.column_id != column.id:
        values["column_entered_at"] = now
    if column.kind == ColumnKind.ACTIVE and card.started_at is None:
        values["started_at"] = now
    if column.kind == ColumnKind.DONE:
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


def _record_interruption(card: Card, actor: Actor, holder: int, duty: pull.Duty) -> NewEvent:
    """A support card taken into work by someone off support duty: the rotation did not
    absorb it (the capacity report counts these)."""
    on_duty = ", ".join(duty.on_duty.values()) or "nobody"
    why = f"{person_name(holder)} took it while off support duty (on duty: {on_duty})"
    return store.new_event(card, EventKind.INTERRUPTED, actor.id, snapshot(card), reason=why)


def _record_override(card: Card, actor: Actor, breaches: list[wip.Breach], reason: str) -> NewEvent:
    limits = " ".join(b.message() for b in breaches)
    why = f"{reason.strip()} [{limits}]"
    event = store.new_event(card, EventKind.WIP_OVERRIDE, actor.id, snapshot(card), reason=why)
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
    return event


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
    state = store.load_locked(board_id)
    if form_key:
        filed = store.card_with_key(form_key)
        if filed is not None:
            store.rollback()  # nothing written: end the locked transaction
            if filed.board_id != board_id:
                raise InvalidRequest(SENT_ELSEWHERE)
            return filed
        fields = fields | {"intake_key": form_key}
    card = place_new_card(state, actor, state.lane(lane_id), fields)
    return store.commit(state, card).card


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

    For use cases that hold the board lock (store.load_locked) and commit afterwards.
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
    card.rank = _rank(None, lane.id, column.id, after)
    store.add_card(card)
    store.append_event(card, EventKind.CREATED, actor.id, {})
    return card


def _move_kind(same_cell: bool, from_lane_kind: str, to_lane_kind: str) -> str:
    """How history names a move: within a cell, into or out of Expedite, or plain."""
    if same_cell:
        return EventKind.REORDERED
    if to_lane_kind == LaneKind.EXPEDITE and from_lane_kind != LaneKind.EXPEDITE:
        return EventKind.ESCALATED
    if from_lane_kind == LaneKind.EXPEDITE and to_lane_kind != LaneKind.EXPEDITE:
        return EventKind.DEESCALATED
    return EventKind.MOVED


def move_card(
    board_id: int,
    actor: Actor,
    card_id: Any,
    *,
    lane_id: Any,
    column_id: Any,
    after: int | None = None,
    reason: str | None = None,
    answer: Callable[[Change], Any] | None = None,
    take: bool = False,
) -> Change:
    """Move a card to a lane and column, checked against every limit the move would raise.
    `take`: a person moving it by hand (a drag, the Move to list) takes a card nobody holds
    into an active column (pull.holder_after_move). `answer` reads what the caller shows of
    the board after it (see store.commit)."""
    _require_changer(actor)
    state = store.load_locked(board_id)
    lane, column = state.lane(lane_id), state.column(column_id)
    card, bottom = _card_going_to(board_id, card_id, lane.id, column.id)
    card = _still_open(card)
    may_hold = take and policy.may(actor.role, Action.HOLD_CARDS)
    holder = pull.holder_after_move(column.kind, card.assignee_id, actor.id, may_hold)
    read = (bottom, None) if after is None else None
    return _move(state, actor, card, lane, column, holder, after, read, reason, answer)


def _move(
    state: BoardState,
    actor: Actor,
    card: Card,
    lane: Lane,
    column: BoardColumn,
    holder: int | None,
    after: int | None,
    read: tuple[float | None, float | None] | None,
    reason: str | None,
    answer: Callable[[Change], Any] | None,
    why: str = "",
) -> Change:
    """Move an open card of a locked board to a cell, held by `holder`, after the card
    `after` (see _rank), checked against the limits (`reason`: why go over one), recorded
    with `why`; the change keeps the rank the card had (for an undo)."""
    before = snapshot(card)
    from_rank = card.rank
    from_lane_kind = state.lane(card.lane_id).kind
    target = wip.Placement(lane.id, column.id, holder)
    was = placement(card)
    was_kind = state.column(card.column_id).kind
    overrides = _check_limits(state, actor, was, target, reason)
    same_cell = (card.lane_id, card.column_id) == (lane.id, column.id)
    was_done = card.status == CardStatus.DONE
    if column.kind == ColumnKind.DONE and not was_done:
        incidents.check_resolvable(card)  # no break-glass access left open unexplained
    rank = _rank(card.id, lane.id, column.id, after, read=read)
    values = {"lane_id": lane.id, "rank": rank, "assignee_id": holder}
    placed = store.place(card, values | _entering(card, column, clock.now()))
    if card.status == CardStatus.DONE and not was_done:
        outbox.queue_done(card)  # the requester hears of it, when mail is on and known
    kind = _move_kind(same_cell, from_lane_kind, lane.kind)
    events = [store.new_event(card, kind, actor.id, before, reason=why)]
    if overrides:
        events.append(_record_override(card, actor, overrides, reason or ""))
    entering_work = column.kind == ColumnKind.ACTIVE and was_kind != ColumnKind.ACTIVE
    if entering_work and lane.kind == LaneKind.SUPPORT:  # read the rotation only when it matters
        duty = rotation.duty_for_pull(state.board) if state.rotating else None
        if pull.interrupts(lane.kind, entering_work, holder, duty):
            events.append(_record_interruption(card, actor, holder, duty))
    change = store.commit(state, card, before=was, placed=placed, events=events, answer=answer)
    change.from_rank = from_rank
    return change


def reorder_card(board_id: int, actor: Actor, card_id: Any, direction: str) -> Card:
    """Move a card one place up or down within its cell (the keyboard way to reorder)."""
    _require_changer(actor)
    state = store.load_locked(board_id)
    card = _open_card(board_id, card_id)
    if direction == "up":
        # Two cards up: the new slot is after the second one above (or the top).
        above = store.ids_beside(card, "up", 2)
        if not above:
            store.rollback()
            return card
        after = above[1] if len(above) == 2 else 0
    elif direction == "down":
        below = store.ids_beside(card, "down", 1)
        if not below:
            store.rollback()
            return card
        after = below[0]
    else:
        raise InvalidRequest("Move a card up or down.")
    before = snapshot(card)
    card.rank = _rank(card.id, card.lane_id, card.column_id, after)
    event = store.new_event(card, EventKind.REORDERED, actor.id, before)
    return store.commit(state, card, events=[event]).card


@dataclass
class PullResult:
    """What a pull did (None: nothing pulled), and why each lane gave nothing."""

    change: Change | None
    reasons: list[str] = field(default_factory=list)

    @property
    def card(self) -> Card | None:
        """The card pulled, if any."""
        return self.change.card if self.change else None


def pull_next(
    board_id: int, actor: Actor, answer: Callable[[Change], Any] | None = None
) -> PullResult:
    """Give the person the highest-priority ready card they may take, or say why not.
    `answer` reads what the caller shows of the board after a pull (see store.commit)."""
    _require_changer(actor)
    state = store.load_locked(board_id)
    state.wip.person_names[actor.id] = actor.name
    order = [c.id for c in state.ready_columns()]
    ready = store.ready_queues(board_id, order)
    duty = rotation.duty_for_pull(state.board) if state.rotating else None
    lanes, held_back = pull.lanes_for(
        [lane_rule(lane) for lane in state.lanes],
        state.board.pull_order.split(","),
        duty,
        actor.id,
        state.wip,
    )
    to_column = state.first(ColumnKind.ACTIVE)
    plan = pull.plan_pull(state.wip, lanes, ready, actor.id, to_column.id)
    if plan.card_id is None:
        store.rollback()
        return PullResult(None, plan.reasons + held_back)
    lane_id = next(
        lane
        for lane, queue in ready.items()
        if queue.first_free is not None and queue.first_free.id == plan.card_id
    )
    card, bottom = _card_going_to(board_id, plan.card_id, lane_id, to_column.id)
    before, was = snapshot(card), placement(card)
    rank = _rank(card.id, card.lane_id, to_column.id, None, read=(bottom, None))
    placed = {"rank": rank, "assignee_id": actor.id} | _entering(card, to_column, clock.now())
    written = store.place(card, placed)
    events = [store.new_event(card, EventKind.PULLED, actor.id, before)]
    if pull.interrupts(state.lane(lane_id).kind, True, actor.id, duty):
        events.append(_record_interruption(card, actor, actor.id, duty))
    change = store.commit(state, card, before=was, placed=written, events=events, answer=answer)
    return PullResult(change, plan.reasons + held_back)


def assign_card(
    board_id: int, actor: Actor, card_id: Any, assignee_id: int | None, reason: str | None = None
) -> Card:
    """Assign a card to a member of the board (or nobody), within the per-person limit."""
    _require_changer(actor)
    state = store.load_locked(board_id)
    card = _open_card(board_id, card_id)
    if assignee_id is not None and assignee_id not in assignable_ids(board_id):
        raise InvalidRequest("Cards can only be assigned to members and leads of this board.")
    target = wip.Placement(card.lane_id, card.column_id, assignee_id)
    overrides = _check_limits(state, actor, placement(card), target, reason)
    before = snapshot(card)
    card.assignee_id = assignee_id
    events = [store.new_event(card, EventKind.ASSIGNED, actor.id, before)]
    if overrides:
        events.append(_record_override(card, actor, overrides, reason or ""))
    return store.commit(state, card, events=events).card


def set_blocked(
    board_id: int, actor: Actor, card_id: Any, blocked: bool, reason: str = ""
) -> Change:
    """Block a card with a reason, or unblock it. Blocked cards still count toward WIP."""
    _require_changer(actor)
    state = store.load_locked(board_id)
    card = _open_card(board_id, card_id)
    return _set_blocked(state, actor, card, blocked, reason)


def _set_blocked(state: BoardState, actor: Actor, card: Card, blocked: bool, reason: str) -> Change:
    reason = reason.strip()
    if blocked and not reason:
        raise InvalidRequest("Say what the card is waiting for, so others can help unblock it.")
    before = snapshot(card)
    card.blocked, card.blocked_reason = blocked, reason if blocked else ""
    kind = EventKind.BLOCKED if blocked else EventKind.UNBLOCKED
    event = store.new_event(card, kind, actor.id, before, reason=reason)
    return store.commit(state, card, events=[event])


def reopen_card(board_id: int, actor: Actor, card_id: Any, why: str) -> Change:
    """Bring a done or closed card back to the top of its lane's ready queue, open and held
    by nobody (so the next pull can take it), with the reason recorded; its requester hears
    of it as of any change. A queue with a limit of its own is checked as any move is."""
    _require_changer(actor)
    state = store.load_locked(board_id)
    card = get_card(board_id, card_id)
    if card.status == CardStatus.OPEN:
        raise InvalidRequest(f"{card.ref} is on the board already; move it instead.")
    why = why.strip()
    if not why:
        raise InvalidRequest("Say why it is reopened, so the team and the requester know.")
    return _reopen(state, actor, card, state.ready_columns()[0], 0, None, why)


def _reopen(
    state: BoardState,
    actor: Actor,
    card: Card,
    column: BoardColumn,
    after: int | None,
    holder: int | None,
    why: str,
    reason: str | None = None,
) -> Change:
    """Put a done or closed card of a locked board back in a column of its lane (after the
    card `after`, see _rank), held by `holder`, checked against the limits (`reason`: why
    go over one), recorded with why, and its requester told."""
    was = placement(card) if card.status == CardStatus.DONE else None
    target = wip.Placement(card.lane_id, column.id, holder)
    overrides = _check_limits(state, actor, was, target, reason)
    before = snapshot(card)
    card.closed_at, card.close_reason = None, ""
    rank = _rank(card.id, card.lane_id, column.id, after)
    values = {"lane_id": card.lane_id, "rank": rank, "assignee_id": holder}
    placed = store.place(card, values | _entering(card, column, clock.now()))
    events = [store.new_event(card, EventKind.REOPENED, actor.id, before, reason=why)]
    if overrides:
        events.append(_record_override(card, actor, overrides, reason or ""))
    outbox.queue_reopened(card, why)
    return store.commit(state, card, before=was, placed=placed, events=events)


def close_card(board_id: int, actor: Actor, card_id: Any, why: str, note: str) -> Change:
    """Close a card without doing it (won't do, duplicate): it leaves the board, undelivered."""
    _require_changer(actor)
    state = store.load_locked(board_id)
    card = _open_card(board_id, card_id)
    if why not in CLOSE_REASONS:
        raise InvalidRequest("Choose why the card is closed: won't do or duplicate.")
    note = note.strip()
    if not note:
        raise InvalidRequest("Write a short reason, so the requester and the team know why.")
    before = snapshot(card)
    card.status, card.closed_at = CardStatus.CLOSED, clock.now()
    card.close_reason = f"{CLOSE_REASONS[why]}: {note}"
    event = store.new_event(card, EventKind.CLOSED, actor.id, before, reason=card.close_reason)
    outbox.queue_closed(card)
    return store.commit(state, card, events=[event])


@dataclass
class Undone:
    """What an undo did (undo.Undoing: moved the card back, reopened or unblocked it), and
    the change it made."""

    undoing: undo.Undoing
    change: Change


def undo_change(
    board_id: int,
    actor: Actor,
    card_id: Any,
    event_id: Any,
    *,
    window: timedelta,
    rank: float | None = None,
    reason: str | None = None,
    answer: Callable[[Change], Any] | None = None,
) -> Undone:
    """Undo a move, a close or a block (the change whose first history event is
    `event_id`), when the domain allows it (undo.check: the person who made it, within
    `window`, the card unchanged since): a move back to the cell and holder it came from
    (`rank`: its rank there before, kept just above the card that was below it, or the
    bottom), a reopen where it was closed, or an unblock. The undo is a change like any
    other: checked against the limits (`reason`: why go over one) and recorded as such.
    `answer`: as for move_card, for a move back."""
    _require_changer(actor)
    state = store.load_locked(board_id)
    card = get_card(board_id, card_id)
    event = store.card_event(card.id, event_id) if isinstance(event_id, int) else None
    if event is None:
        raise InvalidRequest(f"There is no such change to {card.ref} to undo.")
    done = undo.Done(card.ref, event.kind, event.actor_id, event.at, event.changes or {})
    later = store.kinds_after(card.id, event.id)
    undo.check(done, by=actor.id, now=clock.now(), window=window, later=later)
    undoing = undo.undoing(done.kind)
    why = undo.REASONS[undoing]
    if undoing == undo.Undoing.UNBLOCK:
        return Undone(undoing, _set_blocked(state, actor, card, False, why))
    if undoing == undo.Undoing.REOPEN:
        column = state.column(card.column_id)
        after = _after_rank(card.id, card.lane_id, column.id, card.rank)
        change = _reopen(state, actor, card, column, after, card.assignee_id, why, reason)
        return Undone(undoing, change)
    back = undo.moved_back(done.changes, snapshot(card))
    lane, column = state.lane(back["lane_id"]), state.column(back["column_id"])
    after = None if rank is None else _after_rank(card.id, lane.id, column.id, rank)
    holder = back["assignee_id"]
    change = _move(state, actor, card, lane, column, holder, after, None, reason, answer, why)
    return Undone(undoing, change)


def _after_rank(card_id: int, lane_id: int, column_id: int, rank: float) -> int:
    """Where a card goes back to the place `rank` had in a cell: after the card now just
    above that rank (its id), or at the top (0) when none is."""
    return store.id_above(card_id, lane_id, column_id, rank) or 0


def edit_card(
    board_id: int, actor: Actor, card_id: Any, expected_version: int, fields: dict[str, Any]
) -> Card:
    """Change a card's text fields and, when `fields` has "labels" (label ids), its labels;
    refusing an edit based on a stale version. One EDITED event records both."""
    _require_changer(actor)
    state = store.load_locked(board_id)
    card = _open_card(board_id, card_id)
    if card.version != expected_version:
        raise StaleCard(card)
    before = snapshot(card)
    for name in EDITABLE:
        if name in fields:
            setattr(card, name, fields[name])
    labelled = None
    if fields.get("labels") is not None:
        labelled = labels.put_labels(board_id, card.id, fields["labels"])
    if snapshot(card) == before and labelled is None:
        store.rollback()
        return card
    event = store.new_event(card, EventKind.EDITED, actor.id, before)
    if labelled is not None:
        event.values["changes"]["labels"] = labelled
    return store.commit(state, card, events=[event]).card
