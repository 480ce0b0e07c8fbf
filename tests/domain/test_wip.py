"""WIP rules of DESIGN.md, as plain functions."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.helpers import COLUMNS, DOING, DONE, EXP, FEAT, LANES, READY, REVIEW, SUP
from tracker.domain.errors import WipLimitExceeded
from tracker.domain.wip import BoardWip, Column, Lane, Placement, authorise, counts_in


def board(*placements, per_person=None, columns=COLUMNS):
    return BoardWip(LANES, columns, placements, per_person, {7: "Ann"})


def test_lane_counts_only_active_columns():
    wip = board(Placement(SUP, READY), Placement(SUP, DOING), Placement(SUP, REVIEW, 7))
    assert wip.load(SUP).count == 2
    assert wip.load(SUP).state == "ok"


def test_full_lane_refuses_a_card_entering_active():
    wip = board(*[Placement(SUP, DOING)] * 3)
    [breach] = wip.breaches(Placement(SUP, READY), Placement(SUP, DOING))
    assert breach.message() == (
        "Support is at its WIP limit, 3 of 3: finish or move something first."
    )
    assert wip.load(SUP).state == "full"


def test_move_between_active_columns_of_a_full_lane_raises_no_count():
    wip = board(*[Placement(SUP, DOING)] * 3)
    assert wip.breaches(Placement(SUP, DOING), Placement(SUP, REVIEW)) == []


def test_moving_to_done_or_back_to_ready_is_never_refused():
    wip = board(*[Placement(SUP, DOING)] * 4)
    assert wip.breaches(Placement(SUP, DOING), Placement(SUP, DONE)) == []
    assert wip.breaches(Placement(SUP, DOING), Placement(SUP, READY)) == []


def test_over_the_limit_says_over():
    wip = board(*[Placement(SUP, DOING)] * 4)
    [breach] = wip.breaches(Placement(SUP, READY), Placement(SUP, DOING))
    assert "over its WIP limit, 4 of 3" in breach.message()
    assert wip.load(SUP).state == "over"


def test_lane_change_into_a_full_lane_is_checked():
    wip = board(*[Placement(SUP, DOING)] * 3)
    [breach] = wip.breaches(Placement(FEAT, DOING), Placement(SUP, DOING))
    assert breach.scope == "lane" and breach.name == "Support"


def test_no_limit_means_no_breach():
    lanes = [Lane(SUP, "support", "Support", None)]
    wip = BoardWip(lanes, COLUMNS, [Placement(SUP, DOING)] * 50)
    assert wip.breaches(Placement(SUP, READY), Placement(SUP, DOING)) == []
    assert wip.load(SUP).state == "ok"


def test_counts_given_per_placement_equal_counts_of_each_card():
    cards = [Placement(SUP, DOING, 7)] * 2 + [Placement(FEAT, REVIEW)] * 3 + [Placement(SUP, DONE)]
    counted = {Placement(SUP, DOING, 7): 2, Placement(FEAT, REVIEW): 3, Placement(SUP, DONE): 1}
    one_by_one = BoardWip(LANES, COLUMNS, cards, 2)
    grouped = BoardWip(LANES, COLUMNS, counted, 2)
    for wip in (one_by_one, grouped):
        assert (wip.load(SUP).count, wip.load(FEAT).count, wip.person_count[7]) == (2, 3, 2)
    assert grouped.lane_count == one_by_one.lane_count
    assert grouped.column_count == one_by_one.column_count


def test_column_limit_counts_non_expedite_cards_in_that_column():
    columns = [*COLUMNS[:2], Column(REVIEW, "active", "Review", 2), COLUMNS[3]]
    wip = board(
        Placement(SUP, REVIEW), Placement(FEAT, REVIEW), Placement(EXP, REVIEW), columns=columns
    )
    assert wip.column_load(REVIEW).count == 2
    [breach] = wip.breaches(Placement(FEAT, DOING), Placement(FEAT, REVIEW))
    assert breach.scope == "column"
    assert "The Review column is at its limit, 2 of 2" in breach.message()


def test_expedite_ignores_column_and_person_limits_but_not_its_own():
    columns = [*COLUMNS[:2], Column(REVIEW, "active", "Review", 1), COLUMNS[3]]
    wip = board(Placement(SUP, REVIEW, 7), per_person=1, columns=columns)
    assert wip.breaches(Placement(EXP, READY, 7), Placement(EXP, REVIEW, 7)) == []
    wip.apply(Placement(EXP, READY, 7), Placement(EXP, REVIEW, 7))
    [breach] = wip.breaches(Placement(EXP, READY), Placement(EXP, DOING))
    assert breach.name == "Expedite"


def test_expedite_cards_do_not_count_toward_other_lanes_or_people():
    wip = board(Placement(EXP, DOING, 7), per_person=1)
    assert wip.load(SUP).count == 0
    assert wip.breaches(Placement(SUP, READY, 7), Placement(SUP, DOING, 7)) == []


def test_per_person_limit():
    wip = board(Placement(SUP, DOING, 7), Placement(FEAT, REVIEW, 7), per_person=2)
    [breach] = wip.breaches(Placement(FEAT, READY, None), Placement(FEAT, DOING, 7))
    assert breach.scope == "person"
    assert breach.message().startswith("Ann already holds 2 cards in progress")
    # Moving one's own card between active columns raises nothing.
    assert wip.breaches(Placement(SUP, DOING, 7), Placement(SUP, REVIEW, 7)) == []


def test_blocked_cards_still_count():
    # Placements carry no blocked flag on purpose: every active card occupies the team.
    wip = board(*[Placement(SUP, DOING)] * 3)
    assert wip.load(SUP).count == 3


def test_strict_limit_refuses_members_even_with_a_reason():
    wip = board(*[Placement(SUP, DOING)] * 3)
    breaches = wip.breaches(Placement(SUP, READY), Placement(SUP, DOING))
    with pytest.raises(WipLimitExceeded) as refused:
        authorise(breaches, is_lead=False, reason="customer is waiting")
    assert not refused.value.overridable
    assert "Only a lead can override" in refused.value.message


def test_strict_limit_lead_needs_a_reason():
    wip = board(*[Placement(SUP, DOING)] * 3)
    breaches = wip.breaches(Placement(SUP, READY), Placement(SUP, DOING))
    with pytest.raises(WipLimitExceeded) as refused:
        authorise(breaches, is_lead=True, reason="  ")
    assert refused.value.overridable
    assert authorise(breaches, is_lead=True, reason="outage") == breaches


def test_with_reason_mode_lets_anyone_exceed_by_writing_why():
    wip = board(*[Placement(FEAT, DOING)] * 4)
    breaches = wip.breaches(Placement(FEAT, READY), Placement(FEAT, DOING))
    with pytest.raises(WipLimitExceeded) as refused:
        authorise(breaches, is_lead=False, reason="")
    assert refused.value.overridable
    assert "write why" in refused.value.message
    assert authorise(breaches, is_lead=False, reason="demo tomorrow") == breaches


def test_with_reason_mode_does_not_cover_a_person_limit():
    wip = board(*[Placement(FEAT, DOING, 7)] * 4, per_person=4)
    breaches = wip.breaches(Placement(FEAT, READY), Placement(FEAT, DOING, 7))
    assert {b.scope for b in breaches} == {"lane", "person"}
    with pytest.raises(WipLimitExceeded):
        authorise(breaches, is_lead=False, reason="please")


def test_no_breach_needs_no_reason():
    assert authorise([], is_lead=False, reason=None) == []


def test_apply_keeps_counts_in_step():
    wip = board()
    wip.apply(None, Placement(SUP, DOING, 7))
    wip.apply(Placement(SUP, DOING, 7), Placement(SUP, DONE, 7))
    assert wip.load(SUP).count == 0


PLACES = st.builds(
    Placement,
    st.sampled_from([EXP, SUP, FEAT]),
    st.sampled_from([READY, DOING, REVIEW, DONE]),
    st.sampled_from([None, 7, 8]),
)


@given(
    cards=st.lists(PLACES, max_size=30),
    limits=st.fixed_dictionaries({c.id: st.sampled_from([None, 1, 3]) for c in COLUMNS}),
    before=st.one_of(st.none(), PLACES),
    after=PLACES,
)
def test_counting_only_where_cards_count_changes_no_load_and_no_breach(
    cards, limits, before, after
):
    """The board's state may leave out cards in columns where nothing counts them
    (counts_in): every load and every breach stays the same."""
    columns = [Column(c.id, c.kind, c.name, limits[c.id]) for c in COLUMNS]
    kinds = {c.id: c for c in columns}
    every = BoardWip(LANES, columns, cards, 2)
    counted = BoardWip(LANES, columns, [p for p in cards if counts_in(kinds[p.column_id])], 2)
    for lane in LANES:
        assert counted.load(lane.id) == every.load(lane.id)
    for column in columns:
        if column.wip_limit is not None:
            assert counted.column_load(column.id) == every.column_load(column.id)
    assert counted.person_count == every.person_count
    assert counted.breaches(before, after) == every.breaches(before, after)
