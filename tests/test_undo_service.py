"""Undo (cards.undo_change) against a real database (SQLite, and PostgreSQL when
configured): a move, a close and a block undone by the person who made them, within the
window and while the card is unchanged; a change like any other, checked against the limits
and recorded in the history."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from tests.helpers import ann_and_lee, column, lane, make_board, make_card
from tracker.domain.errors import InvalidRequest, WipLimitExceeded
from tracker.domain.undo import REASONS, Undoing, UndoRefused
from tracker.domain.vocabulary import CardStatus, EventKind
from tracker.extensions import db
from tracker.models import Card, CardEvent
from tracker.services import cards

WINDOW = timedelta(seconds=10)
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def team(ctx):
    return ann_and_lee(make_board(support=2))


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def history(card_id) -> list[tuple[str, str]]:
    rows = db.session.execute(
        select(CardEvent.kind, CardEvent.reason)
        .where(CardEvent.card_id == card_id)
        .order_by(CardEvent.id)
    )
    return [(kind, reason) for kind, reason in rows]


def fresh(card_id) -> Card:
    db.session.expire_all()
    return db.session.get(Card, card_id)


def cell(board, kind, column_name) -> list[str]:
    """The refs of a cell's cards on the board, top to bottom."""
    query = (
        select(Card.ref)
        .where(
            Card.lane_id == lane(board, kind).id,
            Card.column_id == column(board, column_name).id,
            Card.status != CardStatus.CLOSED,
        )
        .order_by(Card.rank)
    )
    return list(db.session.execute(query).scalars())


def move(board, who, card, to, kind=None, *, after=None, reason=None):
    return cards.move_card(
        board.id,
        who,
        card.id,
        lane_id=lane(board, kind).id if kind else card.lane_id,
        column_id=column(board, to).id,
        after=after,
        reason=reason,
        take=True,
    )


def undo(board, who, change, **options):
    return cards.undo_change(
        board.id,
        who,
        change.card.id,
        change.events[0].id,
        window=WINDOW,
        rank=change.from_rank,
        **options,
    )


@pytest.mark.parametrize("place", ["top", "middle", "bottom"])
def test_undo_a_move_puts_the_card_back_in_its_cell_place_and_hands(team, clock, place):
    board, ann, _ = team
    ready = [make_card(board, ann, "feature", f"Card {i}") for i in range(3)]
    card = ready[["top", "middle", "bottom"].index(place)]
    before = cell(board, "feature", "Ready")
    moved = move(board, ann, card, "In progress")
    assert fresh(card.id).assignee_id == ann.id  # taken by the move
    clock.shift(5)
    undone = undo(board, ann, moved)
    assert undone.undoing == Undoing.MOVE
    back = fresh(card.id)
    assert (back.column.name, back.assignee_id, back.status) == ("Ready", None, CardStatus.OPEN)
    assert cell(board, "feature", "Ready") == before
    assert history(card.id)[1:] == [
        (EventKind.MOVED, ""),
        (EventKind.MOVED, REASONS[Undoing.MOVE]),
    ]


def test_undo_a_move_whose_neighbour_left_goes_above_the_next_one(team, clock):
    board, ann, _ = team
    a, b, c, d = (make_card(board, ann, "feature", name) for name in "ABCD")
    moved = move(board, ann, b, "In progress")
    move(board, ann, c, "Review")  # b's old neighbour below leaves
    undo(board, ann, moved)
    assert cell(board, "feature", "Ready") == [a.ref, b.ref, d.ref]


def test_undo_a_move_without_its_old_rank_goes_to_the_bottom(team, clock):
    board, ann, _ = team
    first, *_ = (make_card(board, ann, "feature", name) for name in "ABC")
    moved = move(board, ann, first, "In progress")
    moved.from_rank = None
    undo(board, ann, moved)
    assert cell(board, "feature", "Ready")[-1] == first.ref


def test_undo_a_move_to_done_and_an_escalation(team, clock):
    board, ann, _ = team
    card = make_card(board, ann, "support", at="Review")
    done = move(board, ann, card, "Done")
    assert fresh(card.id).status == CardStatus.DONE
    undo(board, ann, done)
    back = fresh(card.id)
    assert (back.column.name, back.status, back.done_at) == ("Review", CardStatus.OPEN, None)
    escalated = move(board, ann, card, "Review", "expedite")
    assert history(card.id)[-1][0] == EventKind.ESCALATED
    undo(board, ann, escalated)
    back = fresh(card.id)
    assert (back.lane.kind, back.column.name) == ("support", "Review")
    assert history(card.id)[-1] == (EventKind.DEESCALATED, REASONS[Undoing.MOVE])


def test_undo_into_a_full_lane_is_refused_and_changes_nothing(team, clock):
    board, ann, lee = team
    make_card(board, ann, "support", at="In progress")
    card = make_card(board, ann, "support", at="In progress")
    waiting = make_card(board, ann, "support")
    moved = move(board, ann, card, "Ready")
    move(board, lee, waiting, "In progress")  # the lane is full again: 2 of 2
    events = history(card.id)
    with pytest.raises(WipLimitExceeded, match="Support is at its WIP limit, 2 of 2"):
        undo(board, ann, moved)
    db.session.rollback()
    assert fresh(card.id).column.name == "Ready"
    assert history(card.id) == events


def test_a_lead_undoes_a_move_they_made_over_the_limit(team, clock):
    board, _, lee = team
    for _ in range(2):
        make_card(board, lee, "support", at="In progress")
    card = make_card(board, lee, "support")
    moved = move(board, lee, card, "In progress", reason="outage")
    assert [kind for kind, _ in history(card.id)][-2:] == ["moved", "wip_override"]
    undo(board, lee, moved)  # the override was the move's own
    assert fresh(card.id).column.name == "Ready"


def test_undo_by_another_person_is_refused(team, clock):
    board, ann, lee = team
    card = make_card(board, ann, "feature")
    moved = move(board, ann, card, "In progress")
    events = history(card.id)
    with pytest.raises(UndoRefused, match="Only the person who made that change"):
        undo(board, lee, moved)
    db.session.rollback()
    assert fresh(card.id).column.name == "In progress"
    assert history(card.id) == events


def test_undo_after_the_window_is_refused(team, clock):
    board, ann, _ = team
    card = make_card(board, ann, "feature")
    moved = move(board, ann, card, "In progress")
    clock.shift(WINDOW.total_seconds() + 0.5)
    with pytest.raises(UndoRefused, match="too late"):
        undo(board, ann, moved)
    db.session.rollback()
    assert fresh(card.id).column.name == "In progress"


def test_undo_at_the_end_of_the_window_is_taken(team, clock):
    board, ann, _ = team
    card = make_card(board, ann, "feature")
    moved = move(board, ann, card, "In progress")
    clock.shift(WINDOW.total_seconds())
    undo(board, ann, moved)
    assert fresh(card.id).column.name == "Ready"


@pytest.mark.parametrize("later", ["assign", "block", "move", "edit", "undo"])
def test_undo_after_a_later_change_is_refused(team, clock, later):
    board, ann, lee = team
    card = make_card(board, ann, "feature")
    moved = move(board, ann, card, "In progress")
    if later == "assign":
        cards.assign_card(board.id, lee, card.id, None)
    elif later == "block":
        cards.set_blocked(board.id, lee, card.id, True, "keys")
    elif later == "move":
        move(board, lee, card, "Review")
    elif later == "edit":
        cards.edit_card(board.id, lee, card.id, fresh(card.id).version, {"title": "New"})
    else:
        undo(board, ann, moved)  # undone once already
    where = fresh(card.id).column.name
    with pytest.raises(UndoRefused, match=f"^{card.ref} changed since; undo is no longer"):
        undo(board, ann, moved)
    db.session.rollback()
    assert fresh(card.id).column.name == where


@pytest.mark.parametrize("at", ["Review", "Done"])
def test_undo_a_close_reopens_the_card_where_it_was(team, clock, at):
    board, ann, _ = team
    above = make_card(board, ann, "feature", "above", at=at)
    card = make_card(board, ann, "feature", "closed", at=at)
    below = make_card(board, ann, "feature", "below", at=at)
    cards.assign_card(board.id, ann, card.id, ann.id)
    was = fresh(card.id)
    status, done_at = was.status, was.done_at
    closed = cards.close_card(board.id, ann, card.id, "duplicate", "same as FEAT-9")
    undone = cards.undo_change(board.id, ann, card.id, closed.events[0].id, window=WINDOW)
    assert undone.undoing == Undoing.REOPEN
    back = fresh(card.id)
    assert (back.column.name, back.assignee_id) == (at, ann.id)
    assert (back.status, back.done_at, back.closed_at, back.close_reason) == (
        status,
        done_at,
        None,
        "",
    )
    assert cell(board, "feature", at) == [above.ref, card.ref, below.ref]
    assert history(card.id)[-1] == (EventKind.REOPENED, REASONS[Undoing.REOPEN])


def test_undo_a_close_into_a_full_lane_is_refused(team, clock):
    board, ann, lee = team
    make_card(board, ann, "support", at="In progress")
    card = make_card(board, ann, "support", at="In progress")
    closed = cards.close_card(board.id, ann, card.id, "wont_do", "not needed")
    move(board, lee, make_card(board, lee, "support"), "In progress")
    with pytest.raises(WipLimitExceeded, match="Support is at its WIP limit, 2 of 2"):
        cards.undo_change(board.id, ann, card.id, closed.events[0].id, window=WINDOW)
    db.session.rollback()
    assert fresh(card.id).status == CardStatus.CLOSED


def test_undo_a_block_unblocks_the_card(team, clock):
    board, ann, _ = team
    card = make_card(board, ann, "feature", at="In progress")
    blocked = cards.set_blocked(board.id, ann, card.id, True, "waiting for keys")
    undone = cards.undo_change(board.id, ann, card.id, blocked.events[0].id, window=WINDOW)
    assert undone.undoing == Undoing.UNBLOCK
    back = fresh(card.id)
    assert (back.blocked, back.blocked_reason, back.column.name) == (False, "", "In progress")
    assert history(card.id)[-1] == (EventKind.UNBLOCKED, REASONS[Undoing.UNBLOCK])


def test_only_a_move_a_close_or_a_block_of_this_card_can_be_undone(team, clock):
    board, ann, _ = team
    card = make_card(board, ann, "feature")
    other = make_card(board, ann, "feature")
    assigned = cards.assign_card(board.id, ann, card.id, ann.id)
    created, assign_event = (
        db.session.execute(
            select(CardEvent.id).where(CardEvent.card_id == card.id).order_by(CardEvent.id)
        )
        .scalars()
        .all()
    )
    with pytest.raises(UndoRefused, match="cannot be undone"):
        cards.undo_change(board.id, ann, card.id, assign_event, window=WINDOW)
    db.session.rollback()
    moved = move(board, ann, other, "In progress")
    for event_id in (moved.events[0].id, 10**9, "1"):
        with pytest.raises(InvalidRequest, match="no such change"):
            cards.undo_change(board.id, ann, card.id, event_id, window=WINDOW)
        db.session.rollback()
    assert fresh(card.id).assignee_id == assigned.assignee_id
