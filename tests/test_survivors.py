"""Card, intake and erasure behaviour that mutants of the services showed no test pinned down
(issue 11): each test here fails on one mutant that survived the whole suite before."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import select

from tests.helpers import REQUEST, actor, column, lane, make_board, make_card, make_user
from tracker.domain.errors import NotFound
from tracker.extensions import db
from tracker.models import Card, CardEvent
from tracker.services import boards, cards, erasure, intake


@pytest.fixture
def team(ctx):
    board = make_board()
    ann = make_user("ann", board=board, role="member")
    lee = make_user("lee", board=board, role="lead")
    return board, actor(ann), actor(lee, "lead")


def kinds(card_id: int) -> list[str]:
    return list(
        db.session.execute(
            select(CardEvent.kind).where(CardEvent.card_id == card_id).order_by(CardEvent.id)
        ).scalars()
    )


def with_backlog(board, lead) -> None:
    """Put a second queue column, Backlog, left of Ready: Ready is the nearer to the work."""
    names = ["Ready", "In progress", "Review", "Done"]
    specs = [(column(board, name).id, column(board, name).kind, name) for name in names]
    boards.update_columns(board.id, lead, [(None, "queue", "Backlog"), *specs])


def test_a_new_card_enters_the_queue_column_nearest_the_work(team):
    board, ann, lee = team
    with_backlog(board, lee)
    card = make_card(board, ann, "feature")
    assert db.session.get(Card, card.id).column.name == "Ready"


def test_pull_takes_from_the_nearest_queue_column_first(team):
    board, ann, lee = team
    with_backlog(board, lee)
    waiting = make_card(board, ann, "feature", title="Waiting in Backlog")
    cards.move_card(
        board.id,
        ann,
        waiting.id,
        lane_id=waiting.lane_id,
        column_id=column(board, "Backlog").id,
        after=0,
    )
    ready = make_card(board, ann, "feature", title="Ready to start")
    pulled = cards.pull_next(board.id, ann).card
    assert pulled is not None and pulled.id == ready.id
    assert db.session.get(Card, waiting.id).column.name == "Backlog"


def test_a_move_within_expedite_is_a_move_not_an_escalation(team):
    board, ann, _ = team
    card = make_card(board, ann, "expedite")
    cards.move_card(
        board.id, ann, card.id, lane_id=card.lane_id, column_id=column(board, "In progress").id
    )
    assert kinds(card.id) == ["created", "moved"]
    # Entering Expedite from another lane is the escalation (the counterpart).
    other = make_card(board, ann, "support")
    cards.move_card(
        board.id, ann, other.id, lane_id=lane(board, "expedite").id, column_id=other.column_id
    )
    assert kinds(other.id) == ["created", "escalated"]


@pytest.mark.parametrize("to_lane", ["feature", "support"])
def test_a_done_card_keeps_its_done_time_when_it_moves_within_done(team, to_lane):
    board, ann, lee = team
    with time_machine.travel(datetime(2026, 3, 2, 9, tzinfo=UTC), tick=False):
        card = make_card(board, ann, "feature", at="Done")
    finished = db.session.get(Card, card.id).done_at
    assert finished == datetime(2026, 3, 2, 9, tzinfo=UTC)
    with time_machine.travel(datetime(2026, 3, 5, 15, tzinfo=UTC), tick=False):
        moved = cards.move_card(
            board.id,
            lee,
            card.id,
            lane_id=lane(board, to_lane).id,  # the same cell (a reorder) or another lane's
            column_id=column(board, "Done").id,
        ).card
    assert moved.done_at == finished
    db.session.expire_all()
    assert db.session.get(Card, card.id).done_at == finished


@pytest.mark.parametrize(
    "token",
    [
        "é" * 43,  # the right length, no ASCII at all
        "A" * 42 + "é",  # an ASCII start that a prefix match would take
        "A" * 43 + "\u200b",  # a valid token with an invisible character after it
    ],
    ids=["accented", "accent-at-the-end", "zero-width-space-after"],
)
def test_a_non_ascii_status_token_is_not_found_before_any_lookup(app, client, token):
    with app.app_context():
        with pytest.raises(NotFound):
            intake.public_status(token)
    assert client.get(f"/status/{token}").status_code == 404


def test_erasure_finds_a_requester_named_only_by_an_edit(team):
    """Jane was the requester only between two edits: her name is in "edited" events alone."""
    board, ann, _ = team
    card = make_card(board, ann, "support", requester="Support desk")
    for name in ("Jane Roe", "Rick Other"):
        current = db.session.get(Card, card.id)
        cards.edit_card(board.id, ann, card.id, current.version, {"requester": name})
    assert db.session.get(Card, card.id).requester == "Rick Other"
    [match] = erasure.find("jane roe")
    assert match.card_id == card.id and match.history_only


def test_a_status_link_still_opens_with_a_valid_token(app, client):
    """The counterpart of the token test: the shape check lets a real token through."""
    with app.app_context():
        board = make_board()
        sam = make_user("sam", board=board, role="support")
        card = intake.file_request(board.id, actor(sam, "support"), REQUEST, "k" * 32).card
        token = intake.create_status_link(board.id, actor(sam, "support"), card.id).token
        assert intake.public_status(token).ref == card.ref
    assert client.get(f"/status/{token}").status_code == 200
