"""Card, intake and erasure behaviour that mutants of the services showed no test pinned down
(issue 11): each test here fails on one mutant that survived the whole suite before."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import select

from tests.helpers import (
    REQUEST,
    actor,
    ann_and_lee,
    column,
    lane,
    make_board,
    make_card,
    make_user,
)
from tracker.domain.errors import InvalidRequest, NotFound
from tracker.extensions import db
from tracker.models import AuditEvent, Card, CardEvent
from tracker.services import boards, cards, erasure, intake


@pytest.fixture
def team(ctx):
    return ann_and_lee(make_board())


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


def acts(card_id: int) -> list[tuple[str, int | None, str]]:
    """The card's history as (kind, actor id, reason)."""
    rows = db.session.execute(
        select(CardEvent.kind, CardEvent.actor_id, CardEvent.reason)
        .where(CardEvent.card_id == card_id)
        .order_by(CardEvent.id)
    )
    return [tuple(row) for row in rows]


def titles(column_id: int, lane_id: int) -> list[str]:
    """The open cards of a cell, top to bottom."""
    rows = db.session.execute(
        select(Card.title)
        .where(Card.column_id == column_id, Card.lane_id == lane_id, Card.status == "open")
        .order_by(Card.rank)
    )
    return list(rows.scalars())


def test_reorder_moves_one_place_among_the_open_cards_of_its_cell(team):
    board, ann, _ = team
    a, b, closed, c = (make_card(board, ann, "feature", t) for t in ("a", "b", "closed", "c"))
    cards.close_card(board.id, ann, closed.id, "duplicate", "filed twice")
    make_card(board, ann, "support", "another lane's card")  # same column, another cell
    cell = (a.column_id, a.lane_id)
    cards.reorder_card(board.id, ann, b.id, "down")  # past the closed card, below c
    assert titles(*cell) == ["a", "c", "b"]
    cards.reorder_card(board.id, ann, c.id, "up")  # one card above: to the top
    assert titles(*cell) == ["c", "a", "b"]
    cards.reorder_card(board.id, ann, b.id, "down")  # already last: nothing changes
    cards.reorder_card(board.id, ann, c.id, "up")  # already first: nothing changes
    assert titles(*cell) == ["c", "a", "b"]
    assert acts(b.id) == [("created", ann.id, ""), ("reordered", ann.id, "")]
    assert acts(c.id) == [("created", ann.id, ""), ("reordered", ann.id, "")]
    with pytest.raises(InvalidRequest, match="^Move a card up or down.$"):
        cards.reorder_card(board.id, ann, a.id, "sideways")


def test_a_lead_override_on_assignment_is_recorded_as_the_leads(team):
    board, ann, lee = team
    board.per_person_limit = 1
    db.session.commit()
    first = make_card(board, ann, "feature", at="In progress")
    second = make_card(board, ann, "feature", at="In progress")
    cards.assign_card(board.id, ann, first.id, ann.id)
    with pytest.raises(InvalidRequest, match="^Cards can only be assigned to members and leads"):
        cards.assign_card(board.id, ann, second.id, 99999)
    db.session.rollback()
    cards.assign_card(board.id, lee, second.id, ann.id, reason=" on call this week ")
    limit = "Ann Person already holds 1 card in progress and the limit per person is 1"
    assert acts(second.id)[-2:] == [
        ("assigned", lee.id, ""),
        ("wip_override", lee.id, f"on call this week [{limit}: finish one first.]"),
    ]
    audit = db.session.execute(select(AuditEvent).where(AuditEvent.action == "wip.override"))
    [row] = [a for a in audit.scalars() if a.target_id == second.id]
    assert (row.actor_id, row.board_id, row.target_type) == (lee.id, board.id, "card")
    assert row.detail == {"card": second.ref, "role": "lead", "limits": ["person 1/1 (strict)"]}


def test_block_and_unblock_are_recorded_with_who_and_why(team):
    board, ann, _ = team
    card = make_card(board, ann, "feature")
    with pytest.raises(InvalidRequest, match="^Say what the card is waiting for, so others"):
        cards.set_blocked(board.id, ann, card.id, True, "  ")
    db.session.rollback()
    cards.set_blocked(board.id, ann, card.id, True, " the vendor's fix ")
    cards.set_blocked(board.id, ann, card.id, False, "fixed")
    assert db.session.get(Card, card.id).blocked_reason == ""
    assert acts(card.id)[1:] == [
        ("blocked", ann.id, "the vendor's fix"),
        ("unblocked", ann.id, "fixed"),
    ]


def test_pull_follows_the_boards_order_skips_assigned_cards_and_says_why(team):
    board, ann, lee = team
    board.pull_order = "feature,support"
    lane(board, "feature").wip_limit = 1
    db.session.commit()
    make_card(board, ann, "feature", at="In progress")  # Feature is full
    taken = make_card(board, ann, "support", "taken")
    cards.assign_card(board.id, lee, taken.id, lee.id)  # Lee's already, while in Ready
    free = make_card(board, ann, "support", "free")
    make_card(board, ann, "feature", "waits for room")
    result = cards.pull_next(board.id, ann)
    assert result.card is not None and result.card.id == free.id
    assert result.reasons == [
        "Expedite: nothing is ready.",
        "Feature: Feature is at its WIP limit, 1 of 1: finish or move something first.",
    ]
    assert acts(free.id)[-1] == ("pulled", ann.id, "")
    assert db.session.get(Card, free.id).assignee_id == ann.id
