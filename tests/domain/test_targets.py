"""Response targets: counted time in working hours or around the clock, paused while the
request waits for the requester, across weekends, time zones and clock changes."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.domain import targets
from tracker.domain.errors import InvalidRequest
from tracker.domain.targets import (
    DEFAULT_TARGETS,
    HOUR,
    MINUTE,
    WORKING_DAY,
    Target,
    counted_seconds,
    merge,
    standing,
)
from tracker.domain.vocabulary import Severity, TargetKind

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
SYDNEY = ZoneInfo("Australia/Sydney")
ZONES = [UTC, BERLIN, NEW_YORK, SYDNEY, ZoneInfo("Asia/Kolkata")]
WORKING = Target(4 * 60, 2 * 8 * 60, working_hours=True)
AROUND = Target(30, 4 * 60, working_hours=False)


def at(day: int, hour: float, tz=BERLIN) -> datetime:
    """A local time in March 2026 (Monday the 2nd; Berlin's clocks change on Sunday the
    29th, New York's on Sunday the 8th)."""
    return datetime(2026, 3, day, tzinfo=tz) + timedelta(hours=hour)


def test_the_defaults_follow_the_issue():
    s1, s2, s3, s4 = (DEFAULT_TARGETS[s] for s in Severity)
    assert (s1.first_response_minutes, s1.resolution_minutes, s1.working_hours) == (30, 240, False)
    assert (s2.first_response_minutes, s2.resolution_minutes, s2.working_hours) == (240, 960, True)
    assert (s3.first_response_minutes, s3.resolution_minutes) == (480, 5 * 480)
    assert (s4.first_response_minutes, s4.resolution_minutes) == (2 * 480, 10 * 480)
    assert all(t.working_hours for t in (s2, s3, s4))


def test_a_board_overrides_some_targets_and_keeps_the_defaults_for_the_rest():
    mine = Target(60, 120, working_hours=False)
    board = targets.targets_with({Severity.S2: mine})
    assert board[Severity.S2] == mine
    assert board[Severity.S3] == DEFAULT_TARGETS[Severity.S3]


def test_working_time_skips_nights_and_weekends():
    # Friday 16:00 to Monday 10:00: one hour on Friday, one on Monday.
    assert counted_seconds(at(6, 16), at(9, 10), [], BERLIN, True) == 2 * HOUR
    assert counted_seconds(at(6, 16), at(9, 10), [], BERLIN, False) == 66 * HOUR


def test_a_request_filed_at_the_weekend_starts_counting_on_monday_morning():
    c = targets.clock(TargetKind.FIRST_RESPONSE, WORKING, at(7, 12), None, [], at(9, 12), BERLIN)
    assert c.used_seconds == 3 * HOUR
    assert c.left_seconds == HOUR
    assert not c.late and not c.nearly_late
    assert c.due_at == at(9, 13)


def test_waiting_for_the_requester_does_not_count():
    waits = [(at(3, 10), at(3, 14))]
    used = counted_seconds(at(3, 9), at(3, 17), waits, BERLIN, True)
    assert used == 4 * HOUR
    # Still waiting: the clock is paused and has no due time.
    c = targets.clock(
        TargetKind.RESOLUTION, WORKING, at(3, 9), None, [(at(3, 10), None)], at(3, 16), BERLIN
    )
    assert c.used_seconds == HOUR and c.paused and c.due_at is None
    assert "paused" in c.words()


def test_overlapping_and_open_waits_merge():
    merged = merge([(at(3, 12), at(3, 14)), (at(3, 10), at(3, 13)), (at(3, 15), None)], at(3, 16))
    assert merged == [(at(3, 10), at(3, 14)), (at(3, 15), at(3, 16))]


def test_a_clock_stops_when_the_target_is_met_and_when_it_is_missed():
    met = targets.clock(
        TargetKind.FIRST_RESPONSE, AROUND, at(3, 9), at(3, 9.25), [], at(5, 9), BERLIN
    )
    assert met.stopped and met.met and met.words() == "met"
    missed = targets.clock(
        TargetKind.FIRST_RESPONSE, AROUND, at(3, 9), at(3, 10), [], at(5, 9), BERLIN
    )
    assert missed.stopped and missed.late and missed.words() == "missed by 30 min"


def test_under_a_fifth_left_then_late():
    def clock_at(hour: float) -> targets.Clock:
        return targets.clock(
            TargetKind.FIRST_RESPONSE, AROUND, at(3, 9), None, [], at(3, hour), BERLIN
        )

    assert not clock_at(9 + 23 / 60).nearly_late  # 7 of 30 minutes left
    assert clock_at(9 + 25 / 60).nearly_late  # 5 left
    assert clock_at(9.5).nearly_late and not clock_at(9.5).late  # exactly at the target
    late = clock_at(10)
    assert late.late and not late.nearly_late
    assert late.words() == "late by 30 min"


def test_the_standing_minds_the_resolution_once_answered():
    s = standing(AROUND, at(3, 9), at(3, 9.1), None, [], at(3, 12.5), BERLIN)
    assert s.current.kind == TargetKind.RESOLUTION
    assert s.nearly_late and not s.late
    s = standing(AROUND, at(3, 9), None, None, [], at(3, 12.5), BERLIN)
    assert s.current.kind == TargetKind.FIRST_RESPONSE and s.late


def test_the_tile_changes_at_the_warning_then_at_the_due_time():
    s = standing(AROUND, at(3, 9), None, None, [], at(3, 9), BERLIN)
    assert s.changes_at(at(3, 9), BERLIN) == at(3, 9.4)  # 24 of 30 minutes used
    assert s.changes_at(at(3, 9.45), BERLIN) == at(3, 9.5)
    after = s.changes_at(at(3, 9.5), BERLIN)
    assert after is not None and after - at(3, 9.5) == timedelta(microseconds=1)


def test_durations_in_words_and_back():
    assert targets.parse_duration("30m", True) == 30
    assert targets.parse_duration("4h", True) == 240
    assert targets.parse_duration("2d", True) == 960
    assert targets.parse_duration("2d", False) == 2880
    assert targets.parse_duration(" 45 ", False) == 45
    for bad in ("", "h", "-3h", "3w", "1.5h", "9" * 9):
        with pytest.raises(InvalidRequest):
            targets.parse_duration(bad, True)
    assert targets.format_minutes(960, True) == "2 working days"
    assert targets.format_minutes(75, False) == "1 h 15 min"
    assert targets.format_minutes(0, False) == "0 min"


def test_targets_are_checked():
    targets.check_target(30, 30)
    for first, resolution in ((0, 10), (10, 5), (10, targets.MAX_TARGET_MINUTES + 1)):
        with pytest.raises(InvalidRequest):
            targets.check_target(first, resolution)


def test_the_share_within_target():
    s = [
        targets.clock(TargetKind.FIRST_RESPONSE, AROUND, at(3, 9), stop, [], at(3, 12), BERLIN)
        for stop in (at(3, 9.1), at(3, 11), None)
    ]
    running = targets.clock(
        TargetKind.FIRST_RESPONSE, AROUND, at(3, 11.9), None, [], at(3, 12), BERLIN
    )
    within = targets.within_target([*s, running])
    assert (within.met, within.counted) == (1, 3)
    assert targets.within_target([]).share is None


# -- properties ---------------------------------------------------------------------------

START = datetime(2026, 1, 1, tzinfo=UTC)
moments = st.integers(0, 400 * 24 * 60).map(lambda m: START + timedelta(minutes=m))
spans = st.tuples(moments, st.integers(0, 20 * 24 * 60)).map(
    lambda p: (p[0], p[0] + timedelta(minutes=p[1]))
)
zones = st.sampled_from(ZONES)
waits_lists = st.lists(spans, max_size=5)


@given(moments, moments, moments, waits_lists, zones, st.booleans())
def test_counted_time_adds_up_across_any_split(a, b, c, waits, tz, working):
    a, b, c = sorted((a, b, c))
    whole = counted_seconds(a, c, waits, tz, working)
    parts = counted_seconds(a, b, waits, tz, working) + counted_seconds(b, c, waits, tz, working)
    assert whole == pytest.approx(parts, abs=1e-3)


@given(spans, waits_lists, zones, st.booleans())
def test_waiting_only_ever_takes_time_away(span, waits, tz, working):
    start, end = span
    without = counted_seconds(start, end, [], tz, working)
    with_waits = counted_seconds(start, end, waits, tz, working)
    assert 0 <= with_waits <= without + 1e-6
    assert without <= (end - start).total_seconds() + 1e-6
    # Waiting through the whole span leaves nothing counted.
    assert counted_seconds(start, end, [*waits, (start, None)], tz, working) == 0


@given(spans, zones)
def test_around_the_clock_without_waits_is_elapsed_time(span, tz):
    start, end = span
    assert counted_seconds(start, end, [], tz, False) == (end - start).total_seconds()


@given(spans, zones)
def test_working_time_is_at_most_eight_hours_a_day_and_none_at_weekends(span, tz):
    start, end = span
    used = counted_seconds(start, end, [], tz, True)
    days = (end - start).total_seconds() / 86400
    assert used <= (days + 2) * WORKING_DAY
    local = start.astimezone(tz)
    saturday = datetime(local.year, local.month, local.day, tzinfo=tz) + timedelta(
        days=(5 - local.weekday()) % 7
    )
    assert counted_seconds(saturday, saturday + timedelta(days=2), [], tz, True) == 0


@given(moments, st.integers(1, 20 * 8 * 60), zones, st.booleans(), waits_lists)
def test_a_clock_is_due_exactly_when_its_target_is_used(filed, minutes, tz, working, waits):
    target = Target(minutes, minutes, working)
    waits = [(s, e) for s, e in waits if e <= filed]  # settled before now: none running
    c = targets.clock(TargetKind.FIRST_RESPONSE, target, filed, None, waits, filed, tz)
    assert c.due_at is not None and not c.late
    later = targets.clock(TargetKind.FIRST_RESPONSE, target, filed, None, waits, c.due_at, tz)
    assert later.used_seconds == pytest.approx(minutes * MINUTE, abs=1e-3)
    assert not later.late
    just_after = c.due_at + timedelta(seconds=1)
    after = targets.clock(TargetKind.FIRST_RESPONSE, target, filed, None, waits, just_after, tz)
    # One second later counts (around the clock) or may fall outside working hours.
    assert after.used_seconds >= later.used_seconds


@given(moments, moments, moments, waits_lists, zones, st.booleans())
def test_used_time_never_goes_backwards_and_freezes_when_stopped(filed, now1, now2, waits, tz, w):
    now1, now2 = sorted((now1, now2))
    target = Target(60, 600, w)
    first = targets.clock(TargetKind.RESOLUTION, target, filed, None, waits, now1, tz)
    second = targets.clock(TargetKind.RESOLUTION, target, filed, None, waits, now2, tz)
    assert second.used_seconds >= first.used_seconds - 1e-6
    stopped_a = targets.clock(TargetKind.RESOLUTION, target, filed, now1, waits, now1, tz)
    stopped_b = targets.clock(TargetKind.RESOLUTION, target, filed, now1, waits, now2, tz)
    assert stopped_a.used_seconds == stopped_b.used_seconds


@given(st.sampled_from([BERLIN, NEW_YORK, SYDNEY]), st.integers(0, 364))
def test_a_working_day_is_eight_hours_even_on_the_day_the_clocks_change(tz, day):
    local = datetime(2026, 1, 1, tzinfo=tz) + timedelta(days=day)
    start = local.replace(hour=0)
    end = datetime(*(start + timedelta(days=1)).timetuple()[:3], tzinfo=tz)  # next midnight
    expected = WORKING_DAY if start.weekday() < 5 else 0
    assert counted_seconds(start, end, [], tz, True) == expected
