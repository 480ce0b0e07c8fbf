"""Pull next: priority order and reasons; who holds a card moved by hand."""

import pytest

from tests.helpers import COLUMNS, DOING, EXP, FEAT, LANES, READY, SUP
from tracker.domain.pull import (
    ReadyCard,
    ReadyQueue,
    holder_after_move,
    lanes_in_pull_order,
    plan_pull,
)
from tracker.domain.wip import BoardWip, Placement

ANN = 7


def plan(ready, *placements, order=("support", "feature"), per_person=None):
    wip = BoardWip(LANES, COLUMNS, placements, per_person, {ANN: "Ann"})
    queues = {lane: ReadyQueue.of(queue) for lane, queue in ready.items()}
    return plan_pull(wip, lanes_in_pull_order(LANES, order), queues, ANN, DOING)


def test_expedite_first_then_support_then_feature():
    ready = {FEAT: [ReadyCard(3, READY)], SUP: [ReadyCard(2, READY)], EXP: [ReadyCard(1, READY)]}
    assert plan(ready).card_id == 1
    del ready[EXP]
    assert plan(ready).card_id == 2
    assert plan(ready, order=("feature", "support")).card_id == 3


def test_top_ranked_unblocked_unassigned_card_of_the_lane():
    ready = {
        SUP: [
            ReadyCard(1, READY, blocked=True),
            ReadyCard(2, READY, assignee_id=9),
            ReadyCard(3, READY),
            ReadyCard(4, READY),
        ]
    }
    assert plan(ready).card_id == 3


def test_full_lane_is_skipped_with_its_reason():
    ready = {SUP: [ReadyCard(1, READY)], FEAT: [ReadyCard(2, READY)]}
    result = plan(ready, *[Placement(SUP, DOING)] * 3)
    assert result.card_id == 2
    assert result.reasons == [
        "Expedite: nothing is ready.",
        "Support: Support is at its WIP limit, 3 of 3: finish or move something first.",
    ]


def test_nothing_to_pull_explains_every_lane():
    ready = {SUP: [ReadyCard(1, READY, blocked=True)]}
    result = plan(ready, *[Placement(FEAT, DOING)] * 4)
    assert result.card_id is None
    assert result.reasons == [
        "Expedite: nothing is ready.",
        "Support: the one ready card is blocked or already assigned.",
        "Feature: nothing is ready.",
    ]


def test_person_at_their_limit_pulls_nothing_but_expedite():
    ready = {SUP: [ReadyCard(1, READY)], EXP: [ReadyCard(5, READY)]}
    placements = [Placement(SUP, DOING, ANN), Placement(FEAT, DOING, ANN)]
    assert plan(ready, *placements, per_person=2).card_id == 5
    del ready[EXP]
    result = plan(ready, *placements, per_person=2)
    assert result.card_id is None
    assert "Ann already holds 2 cards in progress" in result.reasons[1]


def test_a_ready_queue_keeps_its_first_free_card_or_else_counts_its_cards():
    cards = [
        ReadyCard(1, READY, blocked=True),
        ReadyCard(2, READY, assignee_id=9),
        ReadyCard(3, READY),
        ReadyCard(4, READY),
    ]
    assert ReadyQueue.of(cards) == ReadyQueue(None, ReadyCard(3, READY))
    assert ReadyQueue.of(cards[:2]) == ReadyQueue(2, None)
    assert ReadyQueue.of([]) == ReadyQueue(0, None)


def test_a_lane_missing_from_the_queues_has_nothing_ready():
    assert plan({}).reasons[0] == "Expedite: nothing is ready."


@pytest.mark.parametrize(
    "kind, assignee, may_hold, holder",
    [
        ("active", None, True, ANN),  # nobody on it: the mover takes it
        ("active", 9, True, 9),  # someone holds it: they keep it
        ("active", None, False, None),  # a role that holds no cards takes nothing
        ("queue", None, True, None),  # back to a queue: nobody takes it
        ("done", None, True, None),
    ],
)
def test_who_holds_a_card_moved_by_hand(kind, assignee, may_hold, holder):
    assert holder_after_move(kind, assignee, ANN, may_hold) == holder
