"""Response targets of the support desk: how long a request may wait for its first reply
and for its resolution, per board and severity, and how much of that time is used.

A target counts either around the clock or in working hours (Monday to Friday, 09:00 to
17:00 in the board's time zone: the calendar of the capacity report,
tracker.domain.working_time). A working day is eight working hours. Time while the request
waits for the requester (the team asked something) does not count. A clock stops when its
target is met: the first reply to the requester (an internal note does not count) for the
first response; done or closed for the resolution.

Everything here takes plain values (moments, waiting intervals, a time zone) and returns
plain values, so the board tile, the queue, the status page and the report share one rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tracker.domain.errors import InvalidRequest
from tracker.domain.vocabulary import Severity, TargetKind
from tracker.domain.working_time import WORK_HOURS, WorkingTime, working_seconds_before

MINUTE = 60
HOUR = 60 * MINUTE
WORKING_DAY = WORK_HOURS * HOUR  # seconds of working time in one working day
NEARLY = 0.2  # "under 20% left": the tile's clock shows
MAX_TARGET_MINUTES = 60 * 24 * 365  # a year, in either way of counting

Interval = tuple[datetime, datetime | None]  # a waiting period; None: still waiting


@dataclass(frozen=True)
class Target:
    """One severity's targets, in minutes of counted time, and how time is counted."""

    first_response_minutes: int
    resolution_minutes: int
    working_hours: bool  # True: Mon–Fri 09–17 only; False: around the clock

    def minutes(self, kind: str) -> int:
        return (
            self.first_response_minutes
            if kind == TargetKind.FIRST_RESPONSE
            else self.resolution_minutes
        )


_DAY = WORKING_DAY // MINUTE  # minutes of one working day
DEFAULT_TARGETS: Mapping[str, Target] = {
    Severity.S1: Target(30, 4 * 60, working_hours=False),
    Severity.S2: Target(4 * 60, 2 * _DAY, working_hours=True),
    Severity.S3: Target(1 * _DAY, 5 * _DAY, working_hours=True),
    Severity.S4: Target(2 * _DAY, 10 * _DAY, working_hours=True),
}


def targets_with(overrides: Mapping[str, Target]) -> dict[str, Target]:
    """The board's targets: its own where a lead set them, the defaults elsewhere."""
    return {severity: overrides.get(severity, DEFAULT_TARGETS[severity]) for severity in Severity}


def check_target(first_response_minutes: int, resolution_minutes: int) -> None:
    """A target is a positive number of minutes, resolution no sooner than first response."""
    for minutes in (first_response_minutes, resolution_minutes):
        if not 1 <= minutes <= MAX_TARGET_MINUTES:
            raise InvalidRequest("A target is at least one minute and at most a year.")
    if resolution_minutes < first_response_minutes:
        raise InvalidRequest("The resolution target cannot be shorter than the first response.")


def parse_duration(text: str, working_hours: bool) -> int:
    """Minutes from what a lead types: "30m", "4h", "2d" (a day is a working day of
    WORK_HOURS hours when counting working hours, else 24 hours), or plain minutes."""
    cleaned = "".join((text or "").split()).lower()
    unit = cleaned[-1:] if cleaned[-1:] in ("m", "h", "d") else "m"
    number = cleaned[:-1] if cleaned[-1:] in ("m", "h", "d") else cleaned
    if not number.isdigit() or len(number) > 7:
        raise InvalidRequest('Write a target as minutes, hours or days: "30m", "4h" or "2d".')
    day = _DAY if working_hours else 24 * 60
    return int(number) * {"m": 1, "h": 60, "d": day}[unit]


def format_minutes(minutes: float, working_hours: bool) -> str:
    """A target or a time left in words: "30 min", "4 h", "2 working days", "1 h 15 min"."""
    minutes = int(round(abs(minutes)))
    day = _DAY if working_hours else 24 * 60
    days, rest = divmod(minutes, day)
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        word = "working day" if working_hours else "day"
        parts.append(f"{days} {word}{'s' if days != 1 else ''}")
    if hours:
        parts.append(f"{hours} h")
    if mins or not parts:
        parts.append(f"{mins} min")
    return " ".join(parts[:2])


# -- counting time -----------------------------------------------------------------------


def _measure(start: datetime, end: datetime, tz: ZoneInfo, working_hours: bool) -> float:
    """Seconds of counted time from start to end (0 if end is not after start)."""
    if end <= start:
        return 0.0
    if working_hours:
        return working_seconds_before(end, tz) - working_seconds_before(start, tz)
    return (end - start).total_seconds()


def merge(waits: Iterable[Interval], until: datetime) -> list[tuple[datetime, datetime]]:
    """Waiting periods sorted and merged, an open one ending at until; empty ones dropped."""
    spans = sorted((start, min(end or until, until)) for start, end in waits)
    merged: list[tuple[datetime, datetime]] = []
    for start, end in spans:
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def counted_seconds(
    start: datetime,
    end: datetime,
    waits: Iterable[Interval],
    tz: ZoneInfo,
    working_hours: bool,
) -> float:
    """Seconds that count toward a target from start to end: working time (or all time),
    less the time spent waiting for the requester."""
    if end <= start:
        return 0.0
    total = _measure(start, end, tz, working_hours)
    for wait_start, wait_end in merge(waits, end):
        total -= _measure(max(wait_start, start), min(wait_end, end), tz, working_hours)
    return max(total, 0.0)


def _advance(moment: datetime, seconds: float, tz: ZoneInfo, working_hours: bool) -> datetime:
    if working_hours:
        return WorkingTime(tz).add(moment, seconds / HOUR)
    return moment + timedelta(seconds=seconds)


@dataclass(frozen=True)
class Clock:
    """One target's clock on one request at one moment."""

    kind: str  # TargetKind
    target_seconds: float
    used_seconds: float
    stopped: bool  # the target was met or missed for good: replied / resolved
    paused: bool  # waiting for the requester right now
    working_hours: bool
    # When it will be (or was) late if nothing pauses it: None when stopped or paused.
    due_at: datetime | None

    @property
    def left_seconds(self) -> float:
        return self.target_seconds - self.used_seconds

    @property
    def late(self) -> bool:
        return self.used_seconds > self.target_seconds

    @property
    def nearly_late(self) -> bool:
        """Under 20% of the target left, not yet late."""
        return not self.late and self.left_seconds < NEARLY * self.target_seconds

    @property
    def met(self) -> bool:
        """Stopped within its target."""
        return self.stopped and not self.late

    def words(self) -> str:
        """Time left or how late, in words: "1 h 20 min left", "late by 2 working days"."""
        amount = format_minutes(self.left_seconds / MINUTE, self.working_hours)
        if self.stopped:
            return "met" if not self.late else f"missed by {amount}"
        if self.late:
            return f"late by {amount}"
        return f"{amount} left" + (" (paused)" if self.paused else "")


def clock(
    kind: str,
    target: Target,
    start: datetime,
    stop: datetime | None,
    waits: Sequence[Interval],
    now: datetime,
    tz: ZoneInfo,
) -> Clock:
    """The clock of one target: counted time from start (the request was filed) until stop
    (first reply, or resolution; None: not yet) or now, waiting periods left out."""
    end = min(stop, now) if stop is not None else now
    end = max(end, start)
    used = counted_seconds(start, end, waits, tz, target.working_hours)
    seconds = float(target.minutes(kind) * MINUTE)
    stopped = stop is not None and stop <= now
    paused = not stopped and any(
        wait_start <= now and (wait_end is None or wait_end > now) for wait_start, wait_end in waits
    )
    due_at = None
    if not stopped and not paused and used <= seconds:
        due_at = _advance(now, seconds - used, tz, target.working_hours)
    return Clock(kind, seconds, used, stopped, paused, target.working_hours, due_at)


def warn_at(clock_: Clock, now: datetime, tz: ZoneInfo) -> datetime | None:
    """When a running clock will have under 20% left (None: stopped, paused, or already)."""
    if clock_.stopped or clock_.paused or clock_.nearly_late or clock_.late:
        return None
    to_go = clock_.left_seconds - NEARLY * clock_.target_seconds
    return _advance(now, to_go, tz, clock_.working_hours)


@dataclass(frozen=True)
class Standing:
    """A request's two clocks, and which of them the team should mind now."""

    response: Clock
    resolution: Clock

    @property
    def current(self) -> Clock:
        """The first response until it is given, then the resolution."""
        return self.resolution if self.response.stopped else self.response

    @property
    def late(self) -> bool:
        """Late on a clock still running (a missed first response that was then given
        no longer makes the request late; the resolution clock decides)."""
        return self.current.late and not self.current.stopped

    @property
    def nearly_late(self) -> bool:
        return self.current.nearly_late and not self.current.stopped

    def changes_at(self, now: datetime, tz: ZoneInfo) -> datetime | None:
        """The next moment the tile's look would change with nothing else happening (under
        20% left, then late), so a kept picture of the board knows when it goes stale."""
        current = self.current
        if current.stopped:
            return None
        moments = [m for m in (warn_at(current, now, tz), current.due_at) if m is not None]
        if current.due_at is not None and not current.late:
            # Late means used > target: the instant just after due_at.
            moments.append(current.due_at + timedelta(microseconds=1))
        later = [m for m in moments if m > now]
        return min(later) if later else None


def standing(
    target: Target,
    filed_at: datetime,
    first_reply_at: datetime | None,
    resolved_at: datetime | None,
    waits: Sequence[Interval],
    now: datetime,
    tz: ZoneInfo,
) -> Standing:
    """A request's first response and resolution clocks at now."""
    return Standing(
        clock(TargetKind.FIRST_RESPONSE, target, filed_at, first_reply_at, waits, now, tz),
        clock(TargetKind.RESOLUTION, target, filed_at, resolved_at, waits, now, tz),
    )


def urgency(standing_: Standing) -> float:
    """A sort key for "most urgent first": the share of the current target left (negative
    when late), stopped clocks last."""
    current = standing_.current
    if current.stopped:
        return float("inf")
    return current.left_seconds / current.target_seconds


@dataclass(frozen=True)
class Within:
    """How many requests of a period met a target, of how many that could."""

    met: int
    counted: int

    @property
    def share(self) -> float | None:
        return self.met / self.counted if self.counted else None


def within_target(clocks: Iterable[Clock]) -> Within:
    """Of the stopped clocks (replied or resolved), how many within target. A clock still
    running but already late counts as missed; one still running in time is not counted."""
    met = counted = 0
    for c in clocks:
        if c.stopped:
            counted += 1
            met += not c.late
        elif c.late:
            counted += 1
    return Within(met, counted)
