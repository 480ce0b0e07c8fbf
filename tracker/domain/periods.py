"""Periods: sprints and calendar weeks, the measures their capacity is planned in, and the
dates a person may give. "This period" is the current sprint, or the current week for a
board without one."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from tracker.domain.errors import InvalidRequest
from tracker.domain.vocabulary import Measure

# Dates a person may give (sprints, report and audit ranges): wide, and far from the ends
# of Python's calendar so a period around them can always be computed.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 31)
# The longest sprint, first to last day: about three months.
MAX_SPRINT_DAYS = 92

# What a period's work (and a sprint's planned capacity) is measured in.
MEASURES = {measure: measure.unit for measure in Measure}


@dataclass(frozen=True)
class Period:
    """A sprint, or a calendar week: start and end are dates, both days included."""

    name: str
    start: date
    end: date
    planned_days: float | None = None
    planned_points: float | None = None
    sprint_id: int | None = None

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """From midnight at the start to midnight after the end, in tz, as aware UTC."""
        begin = datetime.combine(self.start, time(), tzinfo=tz)
        finish = datetime.combine(self.end + timedelta(days=1), time(), tzinfo=tz)
        return begin.astimezone(UTC), finish.astimezone(UTC)

    def finished(self, today: date) -> bool:
        return self.end < today

    def running(self, today: date) -> bool:
        return self.start <= today <= self.end

    def planned(self, measure: str) -> float | None:
        if measure == Measure.PERSON_DAYS:
            return self.planned_days
        if measure == Measure.POINTS:
            return self.planned_points
        return None


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weeks(until: date, count: int) -> list[Period]:
    """The `count` calendar weeks (Monday to Sunday) up to the one containing `until`."""
    last = monday_of(until)
    starts = [last - timedelta(weeks=i) for i in reversed(range(count))]
    return [Period(f"Week of {s:%d %b %Y}", s, s + timedelta(days=6)) for s in starts]


def week_of(moment: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The Monday-to-Monday week containing moment, in tz, returned as aware UTC bounds."""
    return weeks(moment.astimezone(tz).date(), 1)[0].bounds(tz)


def period_index(
    moment: datetime, starts: Sequence[datetime], bounds: Sequence[tuple[datetime, datetime]]
) -> int | None:
    """The index of the period whose bounds hold moment, or None. `bounds` are the periods'
    (start, end), sorted and not overlapping; `starts` their first items (computed once)."""
    i = bisect.bisect_right(starts, moment) - 1
    return i if i >= 0 and moment < bounds[i][1] else None


@cache
def _zone_names() -> frozenset[str]:
    """The IANA time zone names this machine has (read from its tz database once)."""
    return frozenset(available_timezones())


def valid_timezone(name: str) -> bool:
    """True for an IANA time zone name such as Europe/Berlin."""
    return name in _zone_names()


@cache
def timezone_names() -> tuple[str, ...]:
    """Every name valid_timezone accepts, sorted: the list a time zone field offers."""
    return tuple(sorted(_zone_names()))


class BadSprint(InvalidRequest):
    """A sprint's dates or capacity are not possible; `field` names the input to fix."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def check_sprint(
    start: date,
    end: date,
    capacity_days: float,
    capacity_points: float | None,
    others: Iterable[Period],
) -> None:
    """Refuse an end before the start, negative capacity, or an overlap with another sprint."""
    if end < start:
        raise BadSprint(
            f"The sprint ends ({end:%d %b %Y}) before it starts ({start:%d %b %Y}). "
            "Pick an end date on or after the start.",
            "end_on",
        )
    if (end - start).days > MAX_SPRINT_DAYS:
        raise BadSprint("A sprint is at most three months long; split it.", "end_on")
    if capacity_days < 0:
        raise BadSprint("Planned capacity cannot be negative.", "capacity_days")
    if capacity_points is not None and capacity_points < 0:
        raise BadSprint("Planned points cannot be negative.", "capacity_points")
    for other in others:
        if start <= other.end and other.start <= end:
            raise BadSprint(
                f"These dates overlap {other.name} ({other.start:%d %b} – {other.end:%d %b %Y}). "
                "Sprints may not overlap: start after it ends, or end before it starts.",
                "start_on",
            )
