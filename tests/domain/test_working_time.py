"""Moving through working time (Mon–Fri, 09–17 local): the arithmetic the demo plans with
agrees with the person-days the report counts."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.domain.working_time import WorkingTime, working_days

BERLIN = ZoneInfo("Europe/Berlin")
WORK = WorkingTime(BERLIN)


def at(day: int, hour: float) -> datetime:
    """A local time in March 2026 (Monday the 2nd; the clocks change on Sunday the 29th)."""
    return datetime(2026, 3, day, tzinfo=BERLIN) + timedelta(hours=hour)


def test_the_next_working_moment_skips_evenings_and_weekends():
    assert WORK.next_start(at(3, 7)) == at(3, 9)
    assert WORK.next_start(at(3, 12.5)) == at(3, 12.5)
    assert WORK.next_start(at(3, 17)) == at(4, 9)
    assert WORK.next_start(at(6, 18)) == at(9, 9)  # Friday evening → Monday


def test_the_last_working_moment_skips_back_over_nights_and_weekends():
    assert WORK.last_end(at(3, 20)) == at(3, 17)
    assert WORK.last_end(at(3, 12.5)) == at(3, 12.5)
    assert WORK.last_end(at(3, 9)) == at(2, 17)
    assert WORK.last_end(at(9, 8)) == at(6, 17)  # Monday morning → Friday


def test_adding_and_taking_back_hours_of_working_time():
    assert WORK.add(at(3, 16), 3) == at(4, 11)
    assert WORK.add(at(6, 15), 4) == at(9, 11)  # over the weekend
    assert WORK.add(at(27, 16), 2) == at(30, 10)  # over the clock change
    assert WORK.back(at(4, 11), 3) == at(3, 16)
    assert WORK.back(at(9, 11), 4) == at(6, 15)


def test_moments_through_a_working_day_and_the_next_morning():
    assert WORK.day_moment(at(3, 0), 0) == at(3, 9)
    assert WORK.day_moment(at(3, 0), 0.5) == at(3, 13)
    assert WORK.next_morning(at(6, 12)) == at(7, 9)  # a Saturday too


@given(st.integers(0, 40 * 24 * 60), st.floats(0, 80, allow_nan=False))
def test_hours_added_are_the_person_days_the_report_counts(start_minute, hours):
    start = at(2, 0) + timedelta(minutes=start_minute)
    end = WORK.add(start, hours)
    assert end >= start
    assert working_days(start, end, BERLIN) == pytest.approx(hours / 8, abs=1e-6)
