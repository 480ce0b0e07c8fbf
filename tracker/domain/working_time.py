"""Working time, and the person-days a card earns from it.

A person works Monday to Friday, 09:00 to 17:00 in the board's time zone: eight hours are
one person-day, and no other time counts (evenings, nights, weekends). A card earns its
assignee's working time while it sits in an active column of its board with that assignee
(a *stint*). A person who holds several cards at once, on any board, shares their working
time equally among them, so nobody is ever credited with more than one person-day per
working day.

The report counts working time with working_seconds_before; the demo moves through it
with WorkingTime.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tracker.domain.vocabulary import CardStatus, LaneKind

WORK_START = 9  # local hour the working day starts
WORK_HOURS = 8  # hours of one person-day
DAY_SECONDS = WORK_HOURS * 3600


def working_seconds_before(moment: datetime, tz: ZoneInfo) -> float:
    """Working seconds (Mon–Fri, 09–17 local) from 1 Jan of year 1 until moment.

    The difference of two of these is the working time between two moments; computing it
    in constant time keeps the report fast over thousands of stints.
    """
    local = moment.astimezone(tz)
    weeks_before, days_into_week = divmod(local.date().toordinal() - 1, 7)  # day 1 is a Monday
    seconds = float((weeks_before * 5 + min(days_into_week, 5)) * DAY_SECONDS)
    if local.weekday() < 5:
        clock = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
        seconds += min(max(clock - WORK_START * 3600, 0.0), DAY_SECONDS)
    return seconds


def working_days(start: datetime, end: datetime, tz: ZoneInfo) -> float:
    """Person-days of working time between two moments."""
    if end <= start:
        return 0.0
    return (working_seconds_before(end, tz) - working_seconds_before(start, tz)) / DAY_SECONDS


class WorkingTime:
    """Moving through working hours in a time zone: the first or last working moment near
    a moment, and a moment some hours of working time before or after another."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self.start = time(WORK_START)
        self.end = time(WORK_START + WORK_HOURS)

    def _at(self, day: datetime, moment: time) -> datetime:
        return datetime.combine(day.date(), moment, tzinfo=self.tz)

    def next_start(self, moment: datetime) -> datetime:
        """The first working moment at or after moment."""
        local = moment.astimezone(self.tz)
        while True:
            if local.weekday() < 5:
                if local < self._at(local, self.start):
                    return self._at(local, self.start)
                if local < self._at(local, self.end):
                    return local
            local = self._at(local + timedelta(days=1), self.start)

    def last_end(self, moment: datetime) -> datetime:
        """The last working moment at or before moment."""
        local = moment.astimezone(self.tz)
        while True:
            if local.weekday() < 5:
                if local > self._at(local, self.end):
                    return self._at(local, self.end)
                if local > self._at(local, self.start):
                    return local
            local = self._at(local - timedelta(days=1), self.end)

    def add(self, moment: datetime, hours: float) -> datetime:
        """The moment `hours` of working time after moment."""
        left = timedelta(hours=hours)
        local = self.next_start(moment)
        while True:
            end = self._at(local, self.end)
            if local + left <= end:
                return local + left
            left -= end - local
            local = self.next_start(end)

    def back(self, moment: datetime, hours: float) -> datetime:
        """The moment `hours` of working time before moment."""
        left = timedelta(hours=hours)
        local = self.last_end(moment)
        while True:
            start = self._at(local, self.start)
            if local - left >= start:
                return local - left
            left -= local - start
            local = self.last_end(start)

    def next_morning(self, moment: datetime) -> datetime:
        """The start of work on the calendar day after moment (a weekend day too)."""
        return self._at(moment.astimezone(self.tz) + timedelta(days=1), self.start)

    def day_moment(self, day: datetime, fraction: float) -> datetime:
        """A moment `fraction` of the way through day's working hours."""
        start = self._at(day.astimezone(self.tz), self.start)
        return start + (self._at(start, self.end) - start) * fraction


# -- stints: who held which card, and the person-days each card earned ---------------------


@dataclass(frozen=True)
class Stint:
    """A person holding a card in an active column, in a lane of this kind, start to end."""

    card_id: int
    person_id: int
    lane_kind: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Change:
    """One history event as the report reads it: the card, the time, {field: [old, new]}."""

    card_id: int
    at: datetime
    changes: Mapping[str, Sequence[Any]]


def stints_from_events(
    events: Iterable[Change],
    active_columns: Collection[int],
    lane_kinds: Mapping[int, str],
    until: datetime,
) -> list[Stint]:
    """Replay cards' events (grouped by card, oldest first) into their stints.

    A stint runs while the card is open, in an active column and assigned; it ends when any
    of those stops (moved back to Ready, to Done, unassigned, closed), and a new one starts
    when the assignee or the lane kind changes. A stint still running ends at `until`.
    """
    stints: list[Stint] = []
    state: dict[str, Any] = {}
    current: tuple[int, str, datetime] | None = None
    card_id: int | None = None

    def close(at: datetime) -> None:
        nonlocal current
        if current is not None and at > current[2]:
            stints.append(Stint(card_id, current[0], current[1], current[2], at))  # type: ignore[arg-type]
        current = None

    for event in events:
        if event.card_id != card_id:
            close(until)
            card_id, state = event.card_id, {}
        for name, (_old, new) in event.changes.items():
            state[name] = new
        counting = (
            state.get("column_id") in active_columns
            and state.get("assignee_id") is not None
            and state.get("status", CardStatus.OPEN) == CardStatus.OPEN
        )
        holder = (state.get("assignee_id"), lane_kinds.get(state.get("lane_id"), LaneKind.FEATURE))
        if current is not None and (not counting or (current[0], current[1]) != holder):
            close(event.at)
        if counting and current is None:
            current = (holder[0], holder[1], event.at)
    close(until)
    return stints


def _lane_kind(stint: Stint) -> str:
    return stint.lane_kind


def credit(
    stints: Iterable[Stint],
    tz: ZoneInfo,
    bounds: Sequence[tuple[datetime, datetime]],
    label: Callable[[Stint], Hashable] | None = None,
) -> dict[tuple[int, Any, int], float]:
    """Person-days each card earned in each period: {(card, lane kind, period index): days}.

    Each person's working time is split at every moment their set of held cards changes
    (and at period bounds); each piece is shared equally among the cards held in it.
    `bounds` are the periods' (start, end), sorted and not overlapping. `label` names what
    a stint's days are credited to in place of its lane kind (the support rotation's
    figures credit a lane kind and whether its person was on duty).
    """
    label = label or _lane_kind
    starts = [b[0] for b in bounds]
    by_person: dict[int, list[Stint]] = defaultdict(list)
    for stint in stints:
        by_person[stint.person_id].append(stint)
    result: dict[tuple[int, Any, int], float] = defaultdict(float)
    for person_stints in by_person.values():
        points: list[tuple[datetime, int, int]] = []  # (time, +1 start / -1 end, stint index)
        for i, stint in enumerate(person_stints):
            if stint.end > stint.start:
                points.append((stint.start, 1, i))
                points.append((stint.end, -1, i))
        if not points:
            continue
        first, last = points[0][0], points[0][0]
        for at, _, _ in points:
            first, last = min(first, at), max(last, at)
        for begin, finish in bounds:
            for at in (begin, finish):
                if first < at < last:
                    points.append((at, 0, -1))
        points.sort(key=lambda p: (p[0], p[1]))
        held: dict[int, Stint] = {}
        previous: datetime | None = None
        previous_w = 0.0
        for at, step, index in points:
            if previous is None or at > previous:
                w = working_seconds_before(at, tz)
                if previous is not None and held and w > previous_w:
                    period = bisect.bisect_right(starts, previous) - 1
                    if period >= 0 and previous < bounds[period][1]:
                        share = (w - previous_w) / DAY_SECONDS / len(held)
                        for stint in held.values():
                            result[(stint.card_id, label(stint), period)] += share
                previous, previous_w = at, w
            if step == 1:
                held[index] = person_stints[index]
            elif step == -1:
                held.pop(index, None)
    return dict(result)
