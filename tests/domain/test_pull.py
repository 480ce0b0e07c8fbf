"""Pull next: priority order and reasons; who holds a card moved by hand."""

import pytest

from tests.helpers import COLUMNS, DOING, EXP, FEAT, LANES, READY, SUP
from tracker.domain.pull import (
    Duty,
    ReadyCard,
    ReadyQueue,
    holder_after_move,
    interrupts,
    lanes_for,
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


# The support rotation --------------------------------------------------------------------

MIA, NOOR = 8, 9


def pull_with(duty, person, *placements, per_person=None):
    wip = BoardWip(LANES, COLUMNS, placements, per_person, {ANN: "Ann"})
    ready = {lane: [ReadyCard(lane * 10, READY)] for lane in (SUP, FEAT)}
    queues = {lane: ReadyQueue.of(queue) for lane, queue in ready.items()}
    lanes, held = lanes_for(LANES, ("support", "feature"), duty, person, wip)
    return plan_pull(wip, lanes, queues, person, DOING), held, [lane.id for lane in lanes]


def test_without_a_rotation_everyone_pulls_in_the_boards_order():
    plan, held, lanes = pull_with(None, ANN)
    assert (plan.card_id, held, lanes) == (SUP * 10, [], [EXP, SUP, FEAT])


def test_on_duty_pulls_support_first():
    plan, held, lanes = pull_with(Duty({ANN: "Ann"}), ANN)
    assert (plan.card_id, held, lanes) == (SUP * 10, [], [EXP, SUP, FEAT])


def test_off_duty_pulls_feature_and_leaves_support_to_those_on_duty_who_are_free():
    plan, held, lanes = pull_with(Duty({MIA: "Mia", NOOR: "Noor"}), ANN)
    assert plan.card_id == FEAT * 10
    assert lanes == [EXP, FEAT]
    assert held == [
        "Support: left to those on support duty, free to take it (Mia, Noor); you are not on duty."
    ]


def test_off_duty_takes_support_when_nobody_on_duty_is_free():
    busy = [Placement(SUP, DOING, MIA), Placement(FEAT, DOING, NOOR)]
    full_feature = [Placement(FEAT, DOING, None)] * 3  # Feature at 4 of 4 with NOOR's card
    plan, held, lanes = pull_with(Duty({MIA: "Mia", NOOR: "Noor"}), ANN, *busy, *full_feature)
    assert lanes == [EXP, FEAT, SUP]
    assert held == []
    assert plan.card_id == SUP * 10
    # With a per-person limit of 2, Mia (1 card) still has room: support stays hers.
    plan, held, lanes = pull_with(Duty({MIA: "Mia"}), ANN, *busy, per_person=2)
    assert lanes == [EXP, FEAT] and "(Mia)" in held[0]


def test_a_support_card_into_work_by_someone_off_duty_is_an_interruption():
    duty = Duty({MIA: "Mia"})
    assert interrupts("support", True, ANN, duty)
    assert not interrupts("support", True, MIA, duty)
    assert not interrupts("feature", True, ANN, duty)
    assert not interrupts("support", False, ANN, duty)  # already in work: not a new one
    assert not interrupts("support", True, None, duty)  # nobody holds it
    assert not interrupts("support", True, ANN, None)  # no rotation
