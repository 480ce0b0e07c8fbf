"""Card use cases against a real database (SQLite, and PostgreSQL when configured)."""

import pytest
import time_machine
from sqlalchemy import select

from tests.helpers import ann_and_lee, column, lane, make_board, make_card
from tracker.domain.errors import (
    InvalidRequest,
    NotAllowed,
    NotFound,
    StaleCard,
    WipLimitExceeded,
)
from tracker.extensions import db
from tracker.models import Card, CardEvent
from tracker.services import cards
from tracker.services.common import Actor


@pytest.fixture
def team(ctx):
    return ann_and_lee(make_board(support=2))


def events(card_id):
    return list(
        db.session.execute(
            select(CardEvent.kind).where(CardEvent.card_id == card_id).order_by(CardEvent.id)
        ).scalars()
    )


def test_references_count_per_lane_and_are_kept_across_lanes(team):
    board, ann, _ = team
    first = make_card(board, ann, "support")
    second = make_card(board, ann, "support")
    feature = make_card(board, ann, "feature")
    assert [first.ref, second.ref, feature.ref] == ["SUP-1", "SUP-2", "FEAT-1"]
    moved = cards.move_card(
        board.id, ann, first.id, lane_id=lane(board, "feature").id, column_id=first.column_id
    ).card
    assert moved.ref == "SUP-1"
    assert make_card(board, ann, "feature").ref == "FEAT-2"


def test_refused_move_changes_nothing(team):
    board, ann, _ = team
    for _ in range(2):
        make_card(board, ann, "support", at="In progress")
    card = make_card(board, ann, "support")
    version = card.version
    with pytest.raises(WipLimitExceeded, match="Support is at its WIP limit, 2 of 2"):
        cards.move_card(
            board.id, ann, card.id, lane_id=card.lane_id, column_id=column(board, "In progress").id
        )
    db.session.rollback()
    card = db.session.get(Card, card.id)
    assert card.column.name == "Ready" and card.version == version
    assert events(card.id) == ["created"]


def test_lead_override_is_recorded(team):
    board, _, lee = team
    for _ in range(2):
        make_card(board, lee, "support", at="In progress")
    card = make_card(board, lee, "support")
    cards.move_card(
        board.id,
        lee,
        card.id,
        lane_id=card.lane_id,
        column_id=column(board, "In progress").id,
        reason="outage at a customer",
    )
    assert events(card.id) == ["created", "moved", "wip_override"]
    override = (
        db.session.execute(select(CardEvent).where(CardEvent.kind == "wip_override"))
        .scalars()
        .all()[-1]
    )
    assert override.reason.startswith("outage at a customer")
    assert "Support is at its WIP limit, 2 of 2" in override.reason


def test_moving_within_active_columns_of_a_full_lane_is_allowed(team):
    board, ann, _ = team
    card = make_card(board, ann, "support", at="In progress")
    make_card(board, ann, "support", at="In progress")
    moved = cards.move_card(
        board.id, ann, card.id, lane_id=card.lane_id, column_id=column(board, "Review").id
    ).card
    assert moved.column.name == "Review"


def test_done_and_back(team):
    board, ann, _ = team
    card = make_card(board, ann, "feature", at="In progress")
    assert card.started_at is not None
    done = cards.move_card(
        board.id, ann, card.id, lane_id=card.lane_id, column_id=column(board, "Done").id
    ).card
    assert done.status == "done" and done.done_at is not None
    back = cards.move_card(
        board.id, ann, card.id, lane_id=card.lane_id, column_id=column(board, "Review").id
    ).card
    assert back.status == "open" and back.done_at is None


def test_pull_assigns_the_top_support_card_and_records_it(team):
    board, ann, _ = team
    make_card(board, ann, "feature", "feature work")
    blocked = make_card(board, ann, "support", "waiting on vendor")
    cards.set_blocked(board.id, ann, blocked.id, True, "vendor")
    wanted = make_card(board, ann, "support", "the one")
    result = cards.pull_next(board.id, ann)
    assert result.card.id == wanted.id
    assert result.card.assignee_id == ann.id
    assert result.card.column.name == "In progress"
    assert events(wanted.id) == ["created", "pulled"]


def test_pull_with_nothing_to_take_says_why(team):
    board, ann, _ = team
    result = cards.pull_next(board.id, ann)
    assert result.card is None
    assert result.reasons == [
        "Expedite: nothing is ready.",
        "Support: nothing is ready.",
        "Feature: nothing is ready.",
    ]


def test_viewers_and_support_cannot_change_cards(team):
    board, ann, _ = team
    card = make_card(board, ann, "support")
    for role in ("viewer", "support"):
        with pytest.raises(NotAllowed):
            cards.move_card(
                board.id,
                Actor(ann.id, ann.name, role),
                card.id,
                lane_id=card.lane_id,
                column_id=column(board, "Review").id,
            )


def test_foreign_ids_are_not_found(team):
    board, ann, _ = team
    other = make_board("Other")
    foreign = make_card(other, ann, "support")
    card = make_card(board, ann, "support")
    with pytest.raises(NotFound):
        cards.move_card(board.id, ann, foreign.id, lane_id=card.lane_id, column_id=card.column_id)
    db.session.rollback()
    with pytest.raises(NotFound):
        cards.move_card(
            board.id, ann, card.id, lane_id=lane(other, "support").id, column_id=card.column_id
        )
    db.session.rollback()
    with pytest.raises(NotFound):
        cards.move_card(
            board.id, ann, card.id, lane_id=card.lane_id, column_id=column(other, "Review").id
        )


def test_stale_edit_is_refused_and_keeps_the_newer_text(team):
    board, ann, _ = team
    card = make_card(board, ann, "feature", "Original")
    stale = card.version
    cards.edit_card(board.id, ann, card.id, stale, {"title": "First edit"})
    with pytest.raises(StaleCard) as conflict:
        cards.edit_card(board.id, ann, card.id, stale, {"title": "Second edit"})
    assert conflict.value.current.title == "First edit"
    db.session.rollback()
    assert db.session.get(Card, card.id).title == "First edit"


def test_block_needs_a_reason_and_close_leaves_the_board(team):
    board, ann, _ = team
    card = make_card(board, ann, "feature")
    with pytest.raises(InvalidRequest):
        cards.set_blocked(board.id, ann, card.id, True, "  ")
    db.session.rollback()
    closed = cards.close_card(board.id, ann, card.id, "duplicate", "same as FEAT-9").card
    assert closed.status == "closed"
    assert closed.close_reason == "Duplicate: same as FEAT-9"
    with pytest.raises(InvalidRequest):
        cards.move_card(
            board.id, ann, card.id, lane_id=card.lane_id, column_id=column(board, "Review").id
        )


def test_escalate_and_back(team):
    board, ann, _ = team
    card = make_card(board, ann, "support")
    cards.move_card(
        board.id, ann, card.id, lane_id=lane(board, "expedite").id, column_id=card.column_id
    )
    cards.move_card(
        board.id, ann, card.id, lane_id=lane(board, "support").id, column_id=card.column_id
    )
    assert events(card.id) == ["created", "escalated", "deescalated"]


def test_reorder_and_drop_after(team):
    board, ann, _ = team
    a, b, c = (make_card(board, ann, "feature", t) for t in "abc")
    cards.reorder_card(board.id, ann, c.id, "up")  # a, c, b
    cards.move_card(board.id, ann, a.id, lane_id=a.lane_id, column_id=a.column_id, after=b.id)
    titles = (
        db.session.execute(
            select(Card.title).where(Card.column_id == a.column_id).order_by(Card.rank)
        )
        .scalars()
        .all()
    )
    assert titles == ["c", "b", "a"]


def test_assign_respects_the_person_limit(team):
    board, ann, lee = team
    board.per_person_limit = 1
    db.session.commit()
    first = make_card(board, ann, "feature", at="In progress")
    second = make_card(board, ann, "feature", at="In progress")
    cards.assign_card(board.id, ann, first.id, ann.id)
    with pytest.raises(WipLimitExceeded, match="Ann Person already holds 1"):
        cards.assign_card(board.id, ann, second.id, ann.id)
    db.session.rollback()
    with pytest.raises(InvalidRequest):
        cards.assign_card(board.id, ann, second.id, 99999)


def test_times_come_from_the_clock(team):
    board, ann, _ = team
    with time_machine.travel("2026-03-02 09:00:00+00:00", tick=False):
        card = make_card(board, ann, "feature")
    assert card.created_at.isoformat() == "2026-03-02T09:00:00+00:00"


def test_the_card_a_change_returns_shows_where_it_is_now(team):
    """A use case keeps what it wrote after the commit (the answer renders it at once), but a
    card's relationships must follow the foreign keys it changed, never show the old ones."""
    board, ann, lee = team
    card = make_card(board, ann, "feature", at="In progress")
    assert (card.lane.name, card.column.name) == ("Feature", "In progress")  # loaded now
    moved = cards.move_card(
        board.id,
        lee,
        card.id,
        lane_id=lane(board, "expedite").id,
        column_id=column(board, "Review").id,
    ).card
    assert (moved.lane.name, moved.column.name) == ("Expedite", "Review")
    assert moved.assignee is None
    assigned = cards.assign_card(board.id, lee, card.id, ann.id)
    assert assigned.assignee.name == ann.name
    assert cards.assign_card(board.id, lee, card.id, lee.id).assignee.name == lee.name
