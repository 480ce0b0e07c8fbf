"""The support rotation's schedule (domain.rotation): properties over many set-ups, and
the worked examples a lead would check by hand."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.domain.periods import Period
from tracker.domain.rotation import (
    Away,
    BadRotation,
    Cover,
    PersonDuty,
    Setup,
    Term,
    check_setup,
    clashes,
    cover_days,
    duty_days,
    duty_figures,
    fair_order,
    last_weekday,
    next_up,
    on_duty,
    plan,
    split_by_duty,
    swap,
    upcoming_spans,
)
from tracker.domain.working_time import Stint

MONDAY = date(2026, 11, 30)
ANN, BOB = 7, 8


def sprints(count: int, days: int = 14) -> list[tuple[date, date]]:
    return upcoming_spans([(MONDAY, MONDAY + timedelta(days=days - 1))], MONDAY, count)


def people(n: int) -> list[int]:
    return list(range(1, n + 1))


def every_day(spans):
    day = spans[0][0]
    while day <= spans[-1][1]:
        yield day
        day += timedelta(days=1)


def covered_until(schedule, setup) -> date:
    """The last day every seat has a term (the end of the schedule is ragged per seat)."""
    ends = [[t.end for t in schedule.terms if t.seat == s] for s in range(setup.on_duty)]
    return min((max(e) if e else date.min) for e in ends)


setups = st.builds(
    Setup,
    on_duty=st.integers(1, 4),
    term_periods=st.integers(1, 4),
    staggered=st.booleans(),
).filter(lambda s: not (s.staggered and s.on_duty >= 2 and s.term_periods < 2))


@given(setup=setups, extra=st.integers(0, 8), count=st.integers(1, 30))
def test_nobody_on_duty_twice_at_once_and_every_seat_filled(setup, extra, count):
    spans = sprints(count)
    schedule = plan(spans, people(setup.on_duty + extra), setup)
    assert clashes(list(schedule.terms)) == []
    assert schedule.warnings == ()
    assert all(t.person is not None for t in schedule.terms)
    for day in every_day(spans):
        if day <= covered_until(schedule, setup):
            assert len(on_duty(schedule.terms, day)) == setup.on_duty


@given(
    setup=setups.filter(lambda s: s.staggered and s.on_duty >= 2),
    extra=st.integers(0, 8),
    count=st.integers(2, 30),
)
def test_staggered_changes_of_duty_keep_someone_who_was_on_duty(setup, extra, count):
    spans = sprints(count)
    schedule = plan(spans, people(setup.on_duty + extra), setup)
    last = covered_until(schedule, setup)
    for (start, _), (next_start, _) in zip(spans, spans[1:], strict=False):
        if next_start > last:
            break
        before = {t.person for t in on_duty(schedule.terms, start)}
        after = {t.person for t in on_duty(schedule.terms, next_start)}
        assert before & after, (start, before, after)


@given(setup=setups, extra=st.integers(0, 6), count=st.integers(1, 40))
def test_fair_over_a_long_schedule(setup, extra, count):
    pool = people(setup.on_duty + extra)
    schedule = plan(sprints(count), pool, setup)
    served = {p: 0 for p in pool}
    for term in schedule.terms:
        served[term.person] += 1
    assert max(served.values()) - min(served.values()) <= 1, served


@given(
    setup=setups,
    extra=st.integers(0, 6),
    away=st.lists(
        st.tuples(st.integers(1, 10), st.integers(0, 200), st.integers(0, 40)), max_size=6
    ),
)
def test_away_dates_are_respected_and_a_gap_is_warned_about(setup, extra, away):
    pool = people(setup.on_duty + extra)
    aways = [
        Away(p, MONDAY + timedelta(days=s), MONDAY + timedelta(days=s + n)) for p, s, n in away
    ]
    schedule = plan(sprints(16), pool, setup, away=aways)
    assert clashes(list(schedule.terms)) == []
    for term in schedule.terms:
        assert not any(
            a.person == term.person and a.start <= term.end and term.start <= a.end for a in aways
        )
    gaps = [t for t in schedule.terms if t.person is None]
    assert len(schedule.warnings) == len(gaps)


def test_a_pool_too_small_is_warned_about_and_leaves_seats_empty():
    schedule = plan(sprints(4), people(1), Setup(on_duty=2, term_periods=1))
    assert "The pool has 1 person for 2 on duty at once" in schedule.warnings[0]
    assert any(t.person is None for t in schedule.terms)


def test_the_least_duty_goes_first_ties_by_name():
    pool = {1: "Noor", 2: "max", 3: "Mia", 4: "Ann"}
    assert fair_order(pool, {4: 10, 1: 3}) == [2, 3, 1, 4]


def test_two_on_duty_for_two_sprints_staggered_worked_example():
    spans = sprints(6)
    schedule = plan(spans, [1, 2, 3, 4], Setup(on_duty=2, term_periods=2, staggered=True))
    by_seat = {
        seat: [(t.start, t.person) for t in schedule.terms if t.seat == seat] for seat in (0, 1)
    }
    # Seat 0: two sprints each. Seat 1 starts with one sprint, so the seats change on
    # alternate sprints. Each new term goes to the free person with the fewest terms, then
    # the one off duty longest: 3 and 4 before anyone's second term.
    assert by_seat[0] == [(spans[0][0], 1), (spans[2][0], 4), (spans[4][0], 1)]
    assert by_seat[1] == [(spans[0][0], 2), (spans[1][0], 3), (spans[3][0], 2)]


def test_a_skipped_person_keeps_their_place():
    spans = sprints(3)
    away = [Away(1, spans[0][0], spans[0][1])]
    schedule = plan(spans, [1, 2, 3], Setup(), away=away)
    assert [t.person for t in schedule.terms] == [2, 1, 3]


def test_kept_terms_stay_and_the_seat_goes_on_after_them():
    spans = sprints(4)
    running = Term(0, spans[0][0], spans[1][1], 7)
    schedule = plan(spans, [7, 8], Setup(term_periods=2), kept=[running])
    assert schedule.terms[0] == running
    assert [(t.start, t.person) for t in schedule.terms[1:]] == [(spans[2][0], 8)]


def test_duty_days_next_up_and_swap():
    a = Term(0, date(2026, 11, 2), date(2026, 11, 15), 1)
    b = Term(0, date(2026, 11, 16), date(2026, 11, 29), 2)
    c = Term(0, date(2026, 11, 30), date(2026, 12, 13), 3)
    assert duty_days([a, b, c], date(2026, 11, 10), date(2026, 11, 20)) == {1: 6, 2: 5}
    assert next_up([a, b, c], date(2026, 11, 20)) == [c]
    assert next_up([a, b, c], date(2026, 12, 1)) == []
    assert [t.person for t in swap([a, b, c], 0, 2)] == [3, 2, 1]
    with pytest.raises(BadRotation):
        swap([a, b], 1, 1)


def test_weeks_when_the_board_has_no_sprints():
    spans = upcoming_spans([], date(2026, 12, 3), 2)
    assert spans == [
        (date(2026, 11, 30), date(2026, 12, 6)),
        (date(2026, 12, 7), date(2026, 12, 13)),
    ]


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (Setup(on_duty=0), "Between 1 and 4"),
        (Setup(on_duty=5), "Between 1 and 4"),
        (Setup(term_periods=0), "between 1 and 4 sprints"),
        (Setup(on_duty=2, term_periods=1, staggered=True), "at least 2 sprints"),
    ],
)
def test_set_ups_that_cannot_run_are_refused(setup, message):
    with pytest.raises(BadRotation, match=message):
        check_setup(setup)
    assert check_setup(Setup(on_duty=1, term_periods=1, staggered=True)).staggered


def test_sprints_go_on_at_the_last_ones_length_even_when_all_are_past():
    old = [(date(2026, 10, 5), date(2026, 10, 16))]  # a two-week sprint, Monday to Friday
    spans = upcoming_spans(old, date(2026, 11, 30), 2)
    assert spans == [
        (date(2026, 11, 30), date(2026, 12, 11)),
        (date(2026, 12, 14), date(2026, 12, 25)),
    ]
    # Two known sprints: their cadence (three weeks, with a week between) goes on.
    known = [(date(2026, 11, 2), date(2026, 11, 13)), (date(2026, 11, 23), date(2026, 12, 4))]
    assert upcoming_spans(known, date(2026, 12, 1), 2)[1] == (
        date(2026, 12, 14),
        date(2026, 12, 25),
    )


def test_a_gap_between_sprints_belongs_to_the_term_before_it():
    spans = upcoming_spans([(MONDAY, MONDAY + timedelta(days=11))], MONDAY, 3)  # Mon-Fri
    schedule = plan(spans, [1, 2, 3], Setup())
    saturday = MONDAY + timedelta(days=12)
    assert [t.person for t in on_duty(schedule.terms, saturday)] == [1]
    assert schedule.terms[0].end == spans[1][0] - timedelta(days=1)


def test_a_term_shown_until_its_last_working_day():
    assert last_weekday(date(2026, 12, 13)) == date(2026, 12, 11)  # Sunday -> Friday
    assert last_weekday(date(2026, 12, 12)) == date(2026, 12, 11)
    assert last_weekday(date(2026, 12, 10)) == date(2026, 12, 10)


# The rotation in the capacity report -----------------------------------------------------

BERLIN = ZoneInfo("Europe/Berlin")


def at(day: int, hour: float = 9) -> datetime:
    """A moment in March 2026 (2 March is a Monday), Berlin time."""
    return datetime(2026, 3, day, int(hour), int(hour % 1 * 60), tzinfo=BERLIN)


def march_weeks() -> list[tuple[datetime, datetime]]:
    return [
        Period("Week 10", date(2026, 3, 2), date(2026, 3, 8)).bounds(BERLIN),
        Period("Week 11", date(2026, 3, 9), date(2026, 3, 15)).bounds(BERLIN),
    ]


def test_cover_counts_each_terms_working_days_less_its_persons_away_days():
    terms = [
        Term(0, date(2026, 3, 2), date(2026, 3, 15), 1),  # two weeks: 10 working days
        Term(1, date(2026, 3, 9), date(2026, 3, 22), 2),  # 5 of them in the range
    ]
    away = [
        Away(1, date(2026, 3, 12), date(2026, 3, 13)),
        Away(3, date(2026, 3, 2), date(2026, 3, 6)),
    ]
    assert cover_days(terms, away, date(2026, 3, 2), date(2026, 3, 15)) == 8 + 5


@pytest.mark.parametrize(
    ("days", "allowance", "planned", "sentence", "left"),
    [
        (
            10,
            12,
            40,
            "Rotation covers 10 person-days; yesterday's weather says 12: add cover or hold "
            "back 2 more for support.",
            28,
        ),
        (
            10,
            7.5,
            40,
            "Rotation covers 10 person-days; yesterday's weather says 7.5: the rotation covers it.",
            30,
        ),
        (
            4,
            None,
            None,
            "Rotation covers 4 person-days; there is no yesterday's weather yet to compare "
            "it with.",
            None,
        ),
    ],
)
def test_the_plan_holds_back_the_larger_of_cover_and_weather(
    days, allowance, planned, sentence, left
):
    cover = Cover(days, allowance, planned)
    assert cover.sentence() == sentence
    assert cover.feature_capacity == left


def test_stints_are_cut_where_their_person_goes_on_or_off_duty():
    # Ann holds a support card Thursday 5 March 09:00 to Tuesday 10 March 17:00; her term
    # starts Monday 9 March.
    stint = Stint(1, ANN, "support", at(5), at(10, 17))
    pieces = split_by_duty([stint], [Term(0, date(2026, 3, 9), date(2026, 3, 22), ANN)], BERLIN)
    assert [(p.start, p.end, p.on_duty, p.first) for p in pieces] == [
        (at(5), at(9, 0), False, True),
        (at(9, 0), at(10, 17), True, False),
    ]


def test_duty_figures_split_support_days_and_count_interruptions_per_period():
    terms = [Term(0, date(2026, 3, 9), date(2026, 3, 22), ANN)]
    stints = [
        Stint(1, ANN, "support", at(5), at(10, 17)),  # Thu, Fri off duty; Mon, Tue on
        Stint(2, BOB, "support", at(10), at(11, 17)),  # off duty: an interruption
        Stint(3, BOB, "feature", at(2), at(3, 17)),  # feature work: not support
        Stint(4, BOB, "expedite", at(12), at(12, 17)),  # expedite: interrupt work, no card taken
    ]
    weeks_ = duty_figures(stints, terms, BERLIN, march_weeks())
    assert weeks_[0] == {ANN: PersonDuty(0, 2, 1)}
    assert weeks_[1][ANN] == PersonDuty(pytest.approx(2), 0, 0)
    assert weeks_[1][BOB] == PersonDuty(0, pytest.approx(3), 1)
    # Another board's cards share the person's time but are not credited.
    assert duty_figures(stints, terms, BERLIN, march_weeks(), cards={1})[1] == {
        ANN: PersonDuty(pytest.approx(2), 0, 0)
    }
