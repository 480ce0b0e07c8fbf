"""A move to the bottom of a cell, and a pull, read the card and the cell's bottom rank in one
statement (store.card_and_bottom), which answers what the two reads would."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.helpers import actor, column, lane, make_board, make_card, make_user, statements_sent
from tracker import store
from tracker.domain.errors import NotFound
from tracker.extensions import db
from tracker.models import Card
from tracker.services import cards


@pytest.fixture
def team(ctx):
    board = make_board()
    return board, actor(make_user("ann", board=board, role="member"))


def bottom_by_hand(card_id, lane_id, column_id):
    others = select(func.max(Card.rank)).where(
        Card.lane_id == lane_id,
        Card.column_id == column_id,
        Card.status != "closed",
        Card.id != card_id,
    )
    return db.session.execute(others).scalar()


def test_it_answers_the_card_and_the_bottom_of_the_cell_without_it(team):
    board, ann = team
    feature, ready = lane(board, "feature"), column(board, "Ready")
    made = [make_card(board, ann, "feature", f"Card {i}") for i in range(3)]
    # A closed card is no longer in the cell.
    cards.close_card(board.id, ann, made[2].id, "duplicate", "Filed twice")
    for card in made:
        found, bottom = store.card_and_bottom(card.id, feature.id, ready.id)
        assert found.id == card.id
        assert bottom == bottom_by_hand(card.id, feature.id, ready.id)
    assert store.card_and_bottom(made[1].id, feature.id, ready.id)[1] == made[0].rank
    empty = column(board, "Review")
    assert store.card_and_bottom(made[0].id, feature.id, empty.id) == (made[0], None)
    assert store.card_and_bottom(10**9, feature.id, ready.id) == (None, None)


@pytest.mark.parametrize("how", ["move", "pull"])
def test_a_move_to_the_bottom_and_a_pull_read_card_and_bottom_together(app, team, how):
    board, ann = team
    first = make_card(board, ann, "feature", "First").id
    make_card(board, ann, "feature", "Second")
    board_id, feature = board.id, lane(board, "feature").id
    progress = column(board, "In progress").id
    db.session.remove()
    if how == "move":
        work = lambda: cards.move_card(  # noqa: E731
            board_id, ann, first, lane_id=feature, column_id=progress
        )
    else:
        work = lambda: cards.pull_next(board_id, ann)  # noqa: E731
    sent, _ = statements_sent(app, work)
    assert not [s for s in sent if s.startswith("SELECT max(card.rank)")], sent
    reads = [s for s in sent if s.startswith("SELECT card.id") and "max(card_1.rank)" in s]
    assert len(reads) == 1, sent
    assert db.session.get(Card, first).column_id == progress


def test_a_card_of_another_board_is_not_found(team):
    board, ann = team
    other = make_board("Other")
    bob = actor(make_user("bob", board=other, role="member"))
    theirs = make_card(other, bob, "feature", "Theirs")
    feature, progress = lane(board, "feature"), column(board, "In progress")
    with pytest.raises(NotFound):
        cards.move_card(board.id, ann, theirs.id, lane_id=feature.id, column_id=progress.id)
