"""WIP rules that mutants of tracker/domain/wip.py showed no test pinned down (issue 11)."""

from tracker.domain.accounts import MAX_PASSWORD_LENGTH, password_problem
from tracker.domain.history import diff
from tracker.domain.pull import ReadyCard, ReadyQueue, lanes_in_pull_order, plan_pull
from tracker.domain.ranks import MIN_GAP, needs_respacing
from tracker.domain.text import erase_mentions
from tracker.domain.wip import BoardWip, Column, Lane, Placement, authorise

SUP, FEAT = 2, 3
READY, DOING, DONE = 10, 11, 13
ANN, BEN = 7, 8
LANES = [Lane(SUP, "support", "Support"), Lane(FEAT, "feature", "Feature")]


def columns(doing_limit=None):
    return [
        Column(READY, "queue", "Ready"),
        Column(DOING, "active", "In progress", doing_limit),
        Column(DONE, "done", "Done"),
    ]


def test_cards_assigned_in_ready_do_not_count_toward_the_person_limit():
    # Ann has two support cards assigned while they wait in Ready: not in progress yet.
    wip = BoardWip(
        LANES, columns(), [Placement(SUP, READY, ANN)] * 2, per_person_limit=1, person_names={}
    )
    assert wip.breaches(Placement(FEAT, READY), Placement(FEAT, DOING, ANN)) == []
    plan = plan_pull(wip, LANES, {FEAT: ReadyQueue.of([ReadyCard(30, READY)])}, ANN, DOING)
    assert plan.card_id == 30, plan.reasons


def test_a_card_in_progress_does_count_toward_the_person_limit():
    # The counterpart of the test above: the same person, the card in progress.
    wip = BoardWip(LANES, columns(), [Placement(SUP, DOING, ANN)], per_person_limit=1)
    [breach] = wip.breaches(Placement(FEAT, READY), Placement(FEAT, DOING, ANN))
    assert (breach.scope, breach.count, breach.limit) == ("person", 1, 1)


def test_reassigning_a_card_inside_a_full_column_breaks_no_column_limit():
    # In progress holds 2 of 2: handing one of its cards from Ann to Ben adds nothing to it.
    wip = BoardWip(
        LANES, columns(doing_limit=2), [Placement(SUP, DOING, ANN), Placement(FEAT, DOING, ANN)]
    )
    assert wip.column_load(DOING).state == "full"
    assert wip.breaches(Placement(SUP, DOING, ANN), Placement(SUP, DOING, BEN)) == []
    # ...while a card entering the full column is refused.
    [breach] = wip.breaches(Placement(SUP, READY), Placement(SUP, DOING, BEN))
    assert (breach.scope, breach.count, breach.limit) == ("column", 2, 2)


def test_a_full_column_does_not_stop_a_move_between_lanes_within_it():
    # The card stays in In progress (2 of 2), only its lane changes: the column count stays.
    wip = BoardWip(LANES, columns(doing_limit=2), [Placement(SUP, DOING), Placement(FEAT, DOING)])
    assert wip.breaches(Placement(SUP, DOING), Placement(FEAT, DOING)) == []


def test_a_member_may_reassign_a_card_inside_a_full_column():
    # Through authorise, as a service asks: no breach, so nothing to refuse or override.
    wip = BoardWip(LANES, columns(doing_limit=1), [Placement(SUP, DOING, ANN)])
    breaches = wip.breaches(Placement(SUP, DOING, ANN), Placement(SUP, DOING, BEN))
    assert authorise(breaches, is_lead=False, reason=None) == []


def test_a_full_column_says_what_to_do():
    wip = BoardWip(LANES, columns(doing_limit=1), [Placement(SUP, DOING)])
    [breach] = wip.breaches(Placement(FEAT, READY), Placement(FEAT, DOING))
    assert breach.message() == (
        "The In progress column is at its limit, 1 of 1: finish or move something first."
    )


def test_a_lane_kind_left_out_of_the_pull_order_comes_last():
    expedite = Lane(1, "expedite", "Expedite")
    ordered = lanes_in_pull_order([LANES[1], LANES[0], expedite], ["support"])
    assert [lane.name for lane in ordered] == ["Expedite", "Support", "Feature"]


def test_a_lane_passed_over_for_two_limits_names_both_in_its_reason():
    lanes = [Lane(SUP, "support", "Support", 1)]
    wip = BoardWip(lanes, columns(doing_limit=1), [Placement(SUP, DOING)])
    plan = plan_pull(wip, lanes, {SUP: ReadyQueue.of([ReadyCard(30, READY)])}, ANN, DOING)
    assert plan.card_id is None
    assert plan.reasons == [
        "Support: Support is at its WIP limit, 1 of 1: finish or move something first. "
        "The In progress column is at its limit, 1 of 1: finish or move something first."
    ]


def test_a_person_the_board_cannot_name_is_this_person():
    wip = BoardWip(LANES, columns(), [Placement(SUP, DOING, ANN)], per_person_limit=1)
    [breach] = wip.breaches(Placement(FEAT, READY), Placement(FEAT, DOING, ANN))
    assert breach.message().startswith("This person already holds 1 card in progress")


def test_history_records_the_old_and_the_new_value():
    assert diff({"title": "Old", "estimate": 3}, {"title": "New", "estimate": 3}) == {
        "title": ["Old", "New"]
    }


def test_ranks_are_respaced_only_between_two_cards_too_close():
    assert not needs_respacing(1.0, None)
    assert not needs_respacing(None, 1.0)
    assert not needs_respacing(1.0, 1.0 + 2 * MIN_GAP)
    assert needs_respacing(1.0, 1.0 + MIN_GAP / 2)


def test_erasure_replaces_the_longest_mention_first():
    # "Jane" first would leave "Roe" behind.
    said = "Call Jane Roe or jane today"
    assert erase_mentions(said, ["Jane", "Jane Roe"], "[requester]") == (
        "Call [requester] or [requester] today"
    )


def test_a_password_of_the_longest_length_is_allowed():
    assert password_problem("correct horse " * 18 + "batt", "ann", set()) is None
    assert len("correct horse " * 18 + "batt") == MAX_PASSWORD_LENGTH
    assert password_problem("x" * (MAX_PASSWORD_LENGTH + 1), "ann", set()) is not None
