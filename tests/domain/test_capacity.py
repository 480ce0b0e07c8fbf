"""Yesterday's weather: person-days, loads, the allowance and emergencies, computed by hand."""

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.domain.allowance import (
    FIGURE,
    NO_ESTIMATES,
    NO_HISTORY,
    Done,
    Load,
    allowance,
    headline,
    loads,
    period_to_plan,
)
from tracker.domain.emergency_figures import Emergency, expedite_summary, percentile
from tracker.domain.periods import BadSprint, Period, check_sprint, weeks
from tracker.domain.vocabulary import Measure
from tracker.domain.working_time import Change, Stint, credit, stints_from_events, working_days

BERLIN = ZoneInfo("Europe/Berlin")
READY, DOING, REVIEW, DONE = 10, 11, 12, 13
ACTIVE = {DOING, REVIEW}
EXP, SUP, FEAT = 1, 2, 3
KINDS = {EXP: "expedite", SUP: "support", FEAT: "feature"}
ANN, BOB = 7, 8


def at(day: int, hour: float = 9, month: int = 3) -> datetime:
    """A moment in March 2026 (2 March is a Monday), Berlin time."""
    whole = int(hour)
    return datetime(2026, month, day, whole, int((hour - whole) * 60), tzinfo=BERLIN)


def whole_march() -> list[tuple[datetime, datetime]]:
    return [Period("March", date(2026, 3, 1), date(2026, 3, 31)).bounds(BERLIN)]


def per_card(credited) -> dict[int, float]:
    totals: dict[int, float] = defaultdict(float)
    for (card_id, _kind, _period), days in credited.items():
        totals[card_id] += days
    return dict(totals)


def test_one_person_holding_two_cards_monday_to_wednesday_gives_each_one_and_a_half():
    stints = [
        Stint(1, ANN, "feature", at(2, 9), at(4, 17)),
        Stint(2, ANN, "support", at(2, 9), at(4, 17)),
    ]
    assert per_card(credit(stints, BERLIN, whole_march())) == pytest.approx({1: 1.5, 2: 1.5})


def test_a_card_held_over_a_weekend_counts_no_weekend_time():
    # Friday 13:00 to Monday 13:00: four hours on Friday, four on Monday.
    stints = [Stint(1, ANN, "support", at(6, 13), at(9, 13))]
    assert per_card(credit(stints, BERLIN, whole_march())) == pytest.approx({1: 1.0})


def test_evenings_and_nights_do_not_count():
    stints = [
        Stint(1, ANN, "feature", at(2, 17), at(3, 9)),
        Stint(2, ANN, "feature", at(3, 6), at(3, 10.5)),
    ]
    assert per_card(credit(stints, BERLIN, whole_march())) == pytest.approx({2: 1.5 / 8})


def test_sharing_changes_when_the_second_card_arrives_and_leaves():
    # Ann alone on card 1 on Monday; card 2 joins Tuesday 09:00 until Tuesday 13:00.
    stints = [
        Stint(1, ANN, "feature", at(2, 9), at(3, 17)),
        Stint(2, ANN, "support", at(3, 9), at(3, 13)),
        Stint(3, BOB, "feature", at(3, 9), at(3, 13)),  # Bob's time is his own
    ]
    credited = per_card(credit(stints, BERLIN, whole_march()))
    assert credited == pytest.approx({1: 1 + 0.25 + 0.5, 2: 0.25, 3: 0.5})


def test_time_is_split_at_period_bounds():
    # Thursday 5 March 13:00 to Tuesday 10 March 17:00 across two one-week sprints.
    first = Period("S1", date(2026, 3, 2), date(2026, 3, 8))
    second = Period("S2", date(2026, 3, 9), date(2026, 3, 15))
    stints = [Stint(1, ANN, "feature", at(5, 13), at(10, 17))]
    credited = credit(stints, BERLIN, [first.bounds(BERLIN), second.bounds(BERLIN)])
    assert credited == pytest.approx({(1, "feature", 0): 1.5, (1, "feature", 1): 2.0})


def test_time_outside_every_period_is_not_counted():
    stints = [Stint(1, ANN, "feature", at(2, 9), at(13, 17))]
    gap = Period("S", date(2026, 3, 9), date(2026, 3, 10)).bounds(BERLIN)
    assert credit(stints, BERLIN, [gap]) == pytest.approx({(1, "feature", 0): 2.0})


def test_working_days_across_the_clock_change_are_whole_days():
    # Berlin moves the clocks forward on Sunday 29 March 2026.
    assert working_days(at(27, 9), at(30, 17), BERLIN) == pytest.approx(2.0)
    assert working_days(at(27, 12), at(27, 12), BERLIN) == 0


def events(card_id, *steps):
    """Change events of one card: (moment, {field: new}) pairs, old values left out."""
    return [
        Change(card_id, moment, {k: [None, v] for k, v in new.items()}) for moment, new in steps
    ]


def test_a_card_moved_back_to_ready_stops_counting():
    history = events(
        1,
        (at(2, 9), {"column_id": READY, "lane_id": FEAT, "status": "open"}),
        (at(2, 9), {"column_id": DOING, "assignee_id": ANN}),
        (at(2, 13), {"column_id": READY}),
    )
    stints = stints_from_events(history, ACTIVE, KINDS, until=at(4, 17))
    assert stints == [Stint(1, ANN, "feature", at(2, 9), at(2, 13))]
    assert per_card(credit(stints, BERLIN, whole_march())) == pytest.approx({1: 0.5})


def test_stints_follow_assignee_lane_and_status():
    history = (
        events(
            1,
            (at(2, 9), {"column_id": READY, "lane_id": SUP, "status": "open"}),
            (at(2, 10), {"column_id": DOING}),  # active but nobody holds it: no stint
            (at(2, 11), {"assignee_id": ANN}),
            (at(2, 12), {"column_id": REVIEW}),  # still active, still Ann: same stint
            (at(2, 13), {"assignee_id": BOB}),
            (at(2, 14), {"lane_id": EXP}),  # escalated: Bob's time now counts as expedite
            (at(2, 15), {"status": "closed"}),
        )
        + events(
            2,
            (at(2, 9), {"column_id": READY, "lane_id": FEAT, "status": "open"}),
            (at(2, 9.5), {"column_id": DOING, "assignee_id": ANN}),
            (at(2, 16), {"column_id": DONE, "status": "done"}),
        )
        + events(
            3,
            (at(2, 9), {"column_id": DOING, "lane_id": FEAT, "assignee_id": BOB, "status": "open"}),
        )
    )
    stints = stints_from_events(history, ACTIVE, KINDS, until=at(3, 9))
    assert stints == [
        Stint(1, ANN, "support", at(2, 11), at(2, 13)),
        Stint(1, BOB, "support", at(2, 13), at(2, 14)),
        Stint(1, BOB, "expedite", at(2, 14), at(2, 15)),
        Stint(2, ANN, "feature", at(2, 9.5), at(2, 16)),
        Stint(3, BOB, "feature", at(2, 9), at(3, 9)),  # still running: ends at `until`
    ]


def test_loads_count_done_cards_points_unestimated_and_overrides_per_period():
    periods = weeks(date(2026, 3, 15), 2)  # weeks of 2 and 9 March
    done = [
        Done(1, "feature", at(3, 12), 5),
        Done(2, "feature", at(4, 12), None),
        Done(3, "support", at(10, 12), 2),
        Done(4, "expedite", at(10, 12), None),
        Done(5, "support", at(20, 12), 3),  # after the range
    ]
    stints = [
        Stint(1, ANN, "feature", at(2, 9), at(3, 17)),
        Stint(9, ANN, "support", at(9, 9), at(9, 17)),
    ]
    result = loads(
        periods, BERLIN, stints, done, [at(4, 10), at(9, 10), at(9, 11)], cards={1, 2, 3, 4}
    )
    first, second = result
    assert first.cards == {"support": 0, "feature": 2, "expedite": 0}
    assert first.points["feature"] == 5 and first.unestimated["feature"] == 1
    assert first.days["feature"] == pytest.approx(2.0)
    assert second.days["support"] == 0  # card 9 is another board's: not this board's effort
    assert second.cards == {"support": 1, "feature": 0, "expedite": 1}
    assert second.points == {"support": 2, "feature": 0, "expedite": 0}
    assert second.unestimated["expedite"] == 1
    assert (first.overrides, second.overrides) == (1, 2)
    assert second.share(Measure.CARDS) == 1.0 and first.share(Measure.CARDS) == 0.0
    assert Load(periods[0]).share(Measure.PERSON_DAYS) is None


def load(days_support, days_expedite, days_feature) -> Load:
    result = Load(Period("P", date(2026, 3, 2), date(2026, 3, 13)))
    result.days.update(support=days_support, expedite=days_expedite, feature=days_feature)
    return result


def test_allowance_is_the_average_support_load_of_the_last_n_finished_periods():
    finished = [load(20, 0, 10), load(4, 1, 25), load(6, 2, 22), load(5, 1.5, 23.5)]
    result = allowance(finished, 3, Measure.PERSON_DAYS, planned=30, threshold=50)
    assert [w.support(Measure.PERSON_DAYS) for w in result.window] == [5, 8, 6.5]
    assert result.average == pytest.approx(6.5)
    assert (result.low, result.high) == (5, 8)
    assert result.feature_capacity == pytest.approx(23.5)
    assert not result.short and not result.alarm
    assert result.average_share == pytest.approx((5 / 30 + 8 / 30 + 6.5 / 30) / 3)


def test_allowance_with_fewer_finished_periods_uses_what_there_is():
    result = allowance([load(3, 0, 7)], 3, Measure.PERSON_DAYS, planned=None, threshold=50)
    assert result.short and len(result.window) == 1
    assert result.average == 3 and result.feature_capacity is None
    empty = allowance([], 3, Measure.PERSON_DAYS, planned=30, threshold=50)
    assert empty.average is None and empty.feature_capacity is None and not empty.alarm


def test_the_allowance_counts_the_unestimated_support_work_of_its_window():
    finished = [load(1, 0, 1) for _ in range(3)]
    counts = [(9, 9, 9), (2, 1, 5), (0, 3, 7)]  # support, expedite, feature per period
    for period, (support, expedite, feature) in zip(finished, counts, strict=True):
        period.unestimated.update(support=support, expedite=expedite, feature=feature)
    assert allowance(finished, 2, Measure.POINTS, 30, threshold=50).unestimated_support == 6
    assert allowance(finished[:1], 2, Measure.POINTS, 30, threshold=50).unestimated_support == 18


SPRINTS = [
    Period(f"Sprint {n}", date(2026, 3, start), date(2026, 3, start + 6), planned_days=10)
    for n, start in ((1, 2), (2, 9), (3, 16))
]


def test_the_period_to_plan_is_the_first_sprint_not_yet_started():
    target = period_to_plan(SPRINTS, date(2026, 3, 10))  # Sprint 2 runs, Sprint 3 is planned
    assert target.period == SPRINTS[2] and not target.fallback


def test_until_the_next_sprint_is_planned_the_running_one_stands_in_and_says_so():
    target = period_to_plan(SPRINTS, date(2026, 3, 18))
    assert target.period == SPRINTS[2] and target.fallback


def test_after_the_last_sprint_there_is_none_to_plan():
    target = period_to_plan(SPRINTS, date(2026, 3, 23))
    assert target.period is None and not target.fallback


def test_without_sprints_the_next_calendar_week_is_planned():
    target = period_to_plan([], date(2026, 3, 18))  # a Wednesday
    assert (target.period.start, target.period.end) == (date(2026, 3, 23), date(2026, 3, 29))
    assert not target.fallback


def test_the_headline_holds_back_the_average_and_leaves_the_rest_of_the_plan():
    target = period_to_plan(SPRINTS, date(2026, 3, 10))
    finished = [load(1, 0, 9), load(2, 1, 7)]
    said = headline(allowance(finished, 3, Measure.PERSON_DAYS, 10, threshold=50), target)
    assert (said.kind, said.hold_back, said.left) == (FIGURE, 2, 8)
    assert said.target == SPRINTS[2] and not said.fallback


def test_the_headline_says_when_it_plans_the_running_sprint():
    target = period_to_plan(SPRINTS, date(2026, 3, 18))
    said = headline(allowance([load(2, 0, 8)], 3, Measure.PERSON_DAYS, 10, threshold=50), target)
    assert (said.kind, said.hold_back, said.left) == (FIGURE, 2, 8)
    assert said.fallback and said.target == SPRINTS[2]


def points_load(estimated: float, unestimated: int) -> Load:
    result = load(0, 0, 0)
    result.points.update(support=estimated, feature=5)
    result.unestimated.update(support=unestimated)
    return result


def test_in_points_support_cards_without_estimates_give_no_allowance_at_all():
    """Zero points because nothing was estimated is missing data, not an allowance of 0."""
    target = period_to_plan(SPRINTS, date(2026, 3, 10))
    finished = [points_load(0, 2), points_load(0, 1)]
    said = headline(allowance(finished, 3, Measure.POINTS, 10, threshold=50), target)
    assert said.kind == NO_ESTIMATES
    assert said.hold_back is None and said.left is None and said.unestimated == 3


def test_in_points_some_estimated_support_work_still_gives_a_figure():
    target = period_to_plan(SPRINTS, date(2026, 3, 10))
    partly = headline(allowance([points_load(4, 1)], 3, Measure.POINTS, 10, threshold=50), target)
    assert (partly.kind, partly.hold_back, partly.unestimated) == (FIGURE, 4, 1)
    # No support work at all is a true zero.
    none = headline(allowance([points_load(0, 0)], 3, Measure.POINTS, 10, threshold=50), target)
    assert (none.kind, none.hold_back, none.left) == (FIGURE, 0, 10)


def test_without_a_finished_period_the_headline_has_no_figure():
    target = period_to_plan(SPRINTS, date(2026, 3, 4))
    said = headline(allowance([], 3, Measure.PERSON_DAYS, 10, threshold=50), target)
    assert said.kind == NO_HISTORY and said.hold_back is None and said.left is None


def test_alarm_when_support_share_is_above_the_threshold():
    finished = [load(12, 3, 10), load(10, 2, 12)]  # shares 60 % and 50 %: average 55 %
    assert allowance(finished, 3, Measure.PERSON_DAYS, 30, threshold=50).alarm
    assert not allowance(finished, 3, Measure.PERSON_DAYS, 30, threshold=55).alarm
    assert not allowance(finished, 3, Measure.POINTS, 30, threshold=50).alarm  # no points: no share


def test_check_sprint_refuses_bad_dates_and_overlaps():
    other = Period("Sprint 4", date(2026, 3, 2), date(2026, 3, 13))
    with pytest.raises(BadSprint, match="ends .* before it starts") as error:
        check_sprint(date(2026, 3, 20), date(2026, 3, 16), 40, None, [other])
    assert error.value.field == "end_on"
    with pytest.raises(BadSprint, match="overlap Sprint 4") as error:
        check_sprint(date(2026, 3, 13), date(2026, 3, 27), 40, None, [other])
    assert error.value.field == "start_on"
    with pytest.raises(BadSprint, match="negative"):
        check_sprint(date(2026, 3, 16), date(2026, 3, 27), -1, None, [other])
    check_sprint(date(2026, 3, 14), date(2026, 3, 27), 40, 30, [other])  # the next day is fine


def test_weeks_run_monday_to_sunday_up_to_the_given_day():
    result = weeks(date(2026, 3, 11), 3)
    assert [(p.start, p.end) for p in result] == [
        (date(2026, 2, 23), date(2026, 3, 1)),
        (date(2026, 3, 2), date(2026, 3, 8)),
        (date(2026, 3, 9), date(2026, 3, 15)),
    ]
    assert result[-1].running(date(2026, 3, 11)) and result[0].finished(date(2026, 3, 11))


def test_percentile_interpolates_between_ranks():
    hours = [timedelta(hours=h) for h in (4, 1, 2, 3)]
    assert percentile(hours, 0.5) == timedelta(hours=2.5)
    assert percentile(hours, 0.85) == timedelta(hours=3.55)
    assert percentile([timedelta(minutes=7)], 0.85) == timedelta(minutes=7)
    assert percentile([], 0.5) is None


def test_expedite_summary_counts_emergencies_by_the_period_they_opened_in():
    periods = weeks(date(2026, 3, 15), 2)
    emergencies = [
        Emergency(1, at(3, 10), at(3, 10.5), at(3, 12)),
        Emergency(2, at(5, 22), at(6, 0), at(6, 4)),  # at night: wall-clock time counts
        Emergency(3, at(13, 10), None, None),  # still waiting
    ]
    first, second = expedite_summary(periods, BERLIN, emergencies)
    assert first.count == 2
    assert first.pulled_median == timedelta(hours=1.25)
    assert first.done_median == timedelta(hours=4)
    assert first.done_p85 == timedelta(hours=5.4)  # 2 h + 0.85 × (6 h − 2 h)
    assert second.count == 1 and second.pulled_median is None


# -- the property: nobody is credited with more than one person-day per working day ----

DAY0 = datetime(2026, 3, 23, tzinfo=BERLIN)  # a Monday; the clocks change that Sunday


@st.composite
def stint_sets(draw):
    count = draw(st.integers(1, 12))
    result = []
    for card_id in range(count):
        start = DAY0 + timedelta(minutes=draw(st.integers(0, 14 * 24 * 60)))
        length = timedelta(minutes=draw(st.integers(0, 6 * 24 * 60)))
        person = draw(st.sampled_from((ANN, BOB)))
        result.append(
            Stint(
                card_id,
                person,
                draw(st.sampled_from(("support", "feature"))),
                start,
                start + length,
            )
        )
    return result


@settings(max_examples=300, deadline=None)
@given(stint_sets())
def test_nobody_gets_more_than_one_person_day_per_working_day(stints):
    days = [DAY0.date() + timedelta(days=i) for i in range(22)]
    bounds = [Period(str(d), d, d).bounds(BERLIN) for d in days]
    credited = credit(stints, BERLIN, bounds)
    per_person_day: dict[tuple[int, int], float] = defaultdict(float)
    owner = {s.card_id: s.person_id for s in stints}
    for (card_id, _kind, day), value in credited.items():
        assert value > 0
        per_person_day[(owner[card_id], day)] += value
    for (_person, day), value in per_person_day.items():
        assert days[day].weekday() < 5
        assert value <= 1 + 1e-9
    # And nothing is lost: each person's credit is their working time holding any card.
    for person in (ANN, BOB):
        mine = sorted((s.start, s.end) for s in stints if s.person_id == person)
        merged: list[list[datetime]] = []
        for start, end in mine:
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        held = sum(working_days(a, b, BERLIN) for a, b in merged)
        total = sum(v for (p, _), v in per_person_day.items() if p == person)
        assert total == pytest.approx(held, abs=1e-9)


def test_credit_is_in_utc_and_local_time_alike():
    stint = Stint(1, ANN, "feature", at(2, 9).astimezone(UTC), at(2, 13).astimezone(UTC))
    assert per_card(credit([stint], BERLIN, whole_march())) == pytest.approx({1: 0.5})
