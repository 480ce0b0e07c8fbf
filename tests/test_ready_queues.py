"""store.ready_queues: what a pull reads of each lane's ready queue, picked (and counted
when nothing in it is free) by the database, equals what the whole queue read card by card
gives (pull.ReadyQueue.of)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.helpers import ann_and_lee, column, make_board, make_card
from tracker import store
from tracker.domain import pull
from tracker.extensions import db
from tracker.models import BoardColumn, Card
from tracker.services import boards, cards


@pytest.fixture
def team(ctx):
    return ann_and_lee(make_board())


def queues_by_hand(board_id: int, column_ids: list[int]) -> dict[int, pull.ReadyQueue]:
    """Every open card of the columns, in the columns' order then rank, lane by lane."""
    rows = db.session.execute(
        select(Card).where(
            Card.board_id == board_id, Card.status == "open", Card.column_id.in_(column_ids)
        )
    ).scalars()
    ordered = sorted(rows, key=lambda c: (column_ids.index(c.column_id), c.rank))
    lanes: dict[int, list[pull.ReadyCard]] = {}
    for card in ordered:
        lanes.setdefault(card.lane_id, []).append(
            pull.ReadyCard(card.id, card.column_id, card.blocked, card.assignee_id)
        )
    return {lane: pull.ReadyQueue.of(queue) for lane, queue in lanes.items()}


def ready_column_ids(board) -> list[int]:
    return [c.id for c in store.load_locked(board.id).ready_columns()]


def test_each_lane_gives_its_count_and_first_free_card(team):
    board, ann, lee = team
    made = {
        kind: [make_card(board, ann, kind, f"{kind} {i}") for i in range(5)]
        for kind in ("support", "feature")
    }
    cards.set_blocked(board.id, ann, made["support"][0].id, True, "Waiting on a vendor")
    cards.assign_card(board.id, ann, made["support"][1].id, lee.id)
    for card in made["feature"]:
        cards.set_blocked(board.id, ann, card.id, True, "Frozen")  # no free card at all
    cards.close_card(board.id, ann, made["support"][4].id, "duplicate", "Filed twice")
    ids = ready_column_ids(board)
    db.session.rollback()
    found = store.ready_queues(board.id, ids)
    assert found == queues_by_hand(board.id, ids)
    assert found[made["support"][0].lane_id] == pull.ReadyQueue(
        None, pull.ReadyCard(made["support"][2].id, column(board, "Ready").id)
    )  # a queue with a free card is not counted
    assert found[made["feature"][0].lane_id] == pull.ReadyQueue(5, None)
    assert len(store.ready_queue_rows(board.id, ids)) == 3  # a row a lane


def test_the_queue_column_nearest_the_work_comes_first(team):
    board, ann, lee = team
    names = ["Ready", "In progress", "Review", "Done"]
    specs = [(column(board, name).id, column(board, name).kind, name) for name in names]
    boards.update_columns(board.id, lee, [(None, "queue", "Backlog"), *specs])
    backlog = db.session.execute(
        select(BoardColumn).where(BoardColumn.board_id == board.id, BoardColumn.name == "Backlog")
    ).scalar_one()
    early = make_card(board, ann, "feature", "Waiting in Backlog")
    cards.move_card(board.id, ann, early.id, lane_id=early.lane_id, column_id=backlog.id, after=0)
    later = make_card(board, ann, "feature", "Ready to start")
    ids = ready_column_ids(board)
    db.session.rollback()
    assert ids == [column(board, "Ready").id, backlog.id]
    found = store.ready_queues(board.id, ids)
    assert found == queues_by_hand(board.id, ids)
    assert found[later.lane_id].first_free.id == later.id
