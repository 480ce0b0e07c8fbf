"""Yesterday's weather: what support took in past periods, and what to hold back next.

Everything here is a plain function of plain values (history turned into stints, done
cards, periods); the service reads the database and the clock.

Person-days. A person works Monday to Friday, 09:00 to 17:00 in the board's time zone:
eight hours are one person-day, and no other time counts (evenings, nights, weekends).
A card earns its assignee's working time while it sits in an active column of its board
with that assignee (a *stint*). A person who holds several cards at once, on any board,
shares their working time equally among them, so nobody is ever credited with more than
one person-day per working day.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tracker.domain.errors import InvalidRequest
from tracker.domain.vocabulary import CardStatus, LaneKind, Measure

EXPEDITE, SUPPORT, FEATURE = LaneKind.EXPEDITE, LaneKind.SUPPORT, LaneKind.FEATURE
KINDS = (SUPPORT, FEATURE, EXPEDITE)
PERSON_DAYS, POINTS, CARDS = Measure.PERSON_DAYS, Measure.POINTS, Measure.CARDS
MEASURES = {measure: measure.unit for measure in Measure}
WORK_START = 9  # local hour the working day starts
WORK_HOURS = 8  # hours of one person-day
DAY_SECONDS = WORK_HOURS * 3600
DEFAULT_WINDOW, DEFAULT_THRESHOLD = 3, 50


# -- periods -----------------------------------------------------------------------------


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
        if measure == PERSON_DAYS:
            return self.planned_days
        if measure == POINTS:
            return self.planned_points
        return None


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weeks(until: date, count: int) -> list[Period]:
    """The `count` calendar weeks (Monday to Sunday) up to the one containing `until`."""
    last = monday_of(until)
    starts = [last - timedelta(weeks=i) for i in reversed(range(count))]
    return [Period(f"Week of {s:%d %b %Y}", s, s + timedelta(days=6)) for s in starts]


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
    if (end - start).days > 92:
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


# -- working time and stints --------------------------------------------------------------


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
        holder = (state.get("assignee_id"), lane_kinds.get(state.get("lane_id"), FEATURE))
        if current is not None and (not counting or (current[0], current[1]) != holder):
            close(event.at)
        if counting and current is None:
            current = (holder[0], holder[1], event.at)
    close(until)
    return stints


def credit(
    stints: Iterable[Stint], tz: ZoneInfo, bounds: Sequence[tuple[datetime, datetime]]
) -> dict[tuple[int, str, int], float]:
    """Person-days each card earned in each period: {(card, lane kind, period index): days}.

    Each person's working time is split at every moment their set of held cards changes
    (and at period bounds); each piece is shared equally among the cards held in it.
    `bounds` are the periods' (start, end), sorted and not overlapping.
    """
    starts = [b[0] for b in bounds]
    by_person: dict[int, list[Stint]] = defaultdict(list)
    for stint in stints:
        by_person[stint.person_id].append(stint)
    result: dict[tuple[int, str, int], float] = defaultdict(float)
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
                            result[(stint.card_id, stint.lane_kind, period)] += share
                previous, previous_w = at, w
            if step == 1:
                held[index] = person_stints[index]
            elif step == -1:
                held.pop(index, None)
    return dict(result)


# -- what each period took ----------------------------------------------------------------


@dataclass(frozen=True)
class Done:
    """A card delivered: its lane kind, when, and its estimate (None: not estimated)."""

    card_id: int
    lane_kind: str
    done_at: datetime
    estimate: int | None


def _zero() -> dict[str, float]:
    return dict.fromkeys(KINDS, 0.0)


@dataclass
class Load:
    """One period's work by lane kind in each measure, and the WIP overrides recorded."""

    period: Period
    days: dict[str, float] = field(default_factory=_zero)
    cards: dict[str, float] = field(default_factory=_zero)
    points: dict[str, float] = field(default_factory=_zero)
    unestimated: dict[str, float] = field(default_factory=_zero)
    overrides: int = 0

    def of(self, measure: str) -> dict[str, float]:
        return {PERSON_DAYS: self.days, POINTS: self.points, CARDS: self.cards}[measure]

    def support(self, measure: str) -> float:
        """Support plus expedite: the interrupt work."""
        values = self.of(measure)
        return values[SUPPORT] + values[EXPEDITE]

    def total(self, measure: str) -> float:
        return sum(self.of(measure).values())

    def share(self, measure: str) -> float | None:
        """(support + expedite) / all, or None when the period holds no work at all."""
        total = self.total(measure)
        return self.support(measure) / total if total > 0 else None


def _index(moment: datetime, starts: list[datetime], bounds) -> int | None:
    i = bisect.bisect_right(starts, moment) - 1
    return i if i >= 0 and moment < bounds[i][1] else None


def loads(
    periods: Sequence[Period],
    tz: ZoneInfo,
    stints: Iterable[Stint],
    done: Iterable[Done],
    overrides: Iterable[datetime],
    cards: Collection[int] | None = None,
) -> list[Load]:
    """Each period's load. `cards` limits the effort to one board's cards (others' stints
    still share their person's time); periods must be sorted and not overlap."""
    bounds = [p.bounds(tz) for p in periods]
    starts = [b[0] for b in bounds]
    result = [Load(p) for p in periods]
    for (card_id, kind, index), days in credit(stints, tz, bounds).items():
        if cards is None or card_id in cards:
            result[index].days[kind] += days
    for card in done:
        i = _index(card.done_at, starts, bounds)
        if i is None:
            continue
        result[i].cards[card.lane_kind] += 1
        if card.estimate is None:
            result[i].unestimated[card.lane_kind] += 1
        else:
            result[i].points[card.lane_kind] += card.estimate
    for at in overrides:
        i = _index(at, starts, bounds)
        if i is not None:
            result[i].overrides += 1
    return result


# -- the allowance ------------------------------------------------------------------------


@dataclass(frozen=True)
class Allowance:
    """What to hold back for support in the next period, and where the figure comes from."""

    measure: str
    wanted: int  # N, the window the board asks for
    window: tuple[Load, ...]  # the last finished periods used, oldest first
    average: float | None
    low: float | None
    high: float | None
    planned: float | None
    feature_capacity: float | None
    average_share: float | None
    threshold: int
    alarm: bool

    @property
    def short(self) -> bool:
        """Fewer finished periods than the board asks for."""
        return len(self.window) < self.wanted

    @property
    def unestimated_support(self) -> int:
        """Support and expedite cards done in the window without an estimate: not in a
        figure measured in points."""
        return int(
            sum(load.unestimated[SUPPORT] + load.unestimated[EXPEDITE] for load in self.window)
        )


def allowance(
    finished: Sequence[Load], wanted: int, measure: str, planned: float | None, threshold: int
) -> Allowance:
    """The average support + expedite load over the last `wanted` finished periods, with the
    lowest and highest beside it; feature capacity = planned − that; the alarm when the
    window's average support share is above threshold percent."""
    window = tuple(finished[-wanted:]) if wanted > 0 else ()
    values = [load.support(measure) for load in window]
    average = sum(values) / len(values) if values else None
    shares = [s for s in (load.share(measure) for load in window) if s is not None]
    average_share = sum(shares) / len(shares) if shares else None
    capacity = planned - average if planned is not None and average is not None else None
    return Allowance(
        measure=measure,
        wanted=wanted,
        window=window,
        average=average,
        low=min(values) if values else None,
        high=max(values) if values else None,
        planned=planned,
        feature_capacity=capacity,
        average_share=average_share,
        threshold=threshold,
        alarm=average_share is not None and average_share * 100 > threshold + 1e-9,
    )


# -- the headline: which period it plans, and whether there is a figure -------------------

FIGURE, NO_HISTORY, NO_ESTIMATES = "figure", "no_history", "no_estimates"


@dataclass(frozen=True)
class Target:
    """The period the allowance plans. `fallback`: no later sprint is planned yet, so the
    running one stands in (what is left for features is then that sprint's, and the page
    must say so)."""

    period: Period | None
    fallback: bool = False


def period_to_plan(sprints: Sequence[Period], today: date) -> Target:
    """The first sprint that has not started; until a lead adds it, the running one (a
    fallback); after the last sprint, none. A board without sprints plans next week."""
    if not sprints:
        return Target(weeks(today + timedelta(days=7), 1)[0])
    upcoming = [p for p in sprints if p.start > today]
    if upcoming:
        return Target(upcoming[0])
    running = [p for p in sprints if p.running(today)]
    return Target(running[0], fallback=True) if running else Target(None)


@dataclass(frozen=True)
class Headline:
    """What the report's headline may claim. `kind` FIGURE: hold back `hold_back`, leaving
    `left` for features in `target` (None without a planned capacity); NO_HISTORY: no
    finished period yet; NO_ESTIMATES: in points, the window's support work has no
    estimate at all (`unestimated` cards), so 0 would be missing data, not an allowance."""

    kind: str
    hold_back: float | None
    left: float | None
    target: Period | None
    fallback: bool
    unestimated: int


def headline(allowance: Allowance, target: Target) -> Headline:
    """Decide whether the data give an allowance, and for which period (see Headline)."""
    unestimated = allowance.unestimated_support if allowance.measure == POINTS else 0
    if allowance.average is None:
        kind = NO_HISTORY
    elif unestimated and not any(load.support(POINTS) for load in allowance.window):
        kind = NO_ESTIMATES
    else:
        kind = FIGURE
    figure = kind == FIGURE
    return Headline(
        kind=kind,
        hold_back=allowance.average if figure else None,
        left=allowance.feature_capacity if figure else None,
        target=target.period,
        fallback=target.fallback,
        unestimated=unestimated,
    )


# -- emergencies --------------------------------------------------------------------------


@dataclass(frozen=True)
class Emergency:
    """An expedite card: when it entered the lane, was first worked on, and was done."""

    card_id: int
    opened_at: datetime
    pulled_at: datetime | None
    done_at: datetime | None


@dataclass(frozen=True)
class ExpediteRow:
    period: Period
    count: int
    pulled_median: timedelta | None
    pulled_p85: timedelta | None
    done_median: timedelta | None
    done_p85: timedelta | None


def percentile(values: Sequence[timedelta], q: float) -> timedelta | None:
    """The q-th quantile (0..1) by linear interpolation between closest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    lower, upper = math.floor(position), math.ceil(position)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def expedite_summary(
    periods: Sequence[Period], tz: ZoneInfo, emergencies: Iterable[Emergency]
) -> list[ExpediteRow]:
    """Per period, the emergencies opened in it and their times until pulled and until done
    (wall-clock time: emergencies do not wait for office hours)."""
    bounds = [p.bounds(tz) for p in periods]
    starts = [b[0] for b in bounds]
    pulled: list[list[timedelta]] = [[] for _ in periods]
    done: list[list[timedelta]] = [[] for _ in periods]
    counts = [0] * len(periods)
    for card in emergencies:
        i = _index(card.opened_at, starts, bounds)
        if i is None:
            continue
        counts[i] += 1
        if card.pulled_at is not None:
            pulled[i].append(max(card.pulled_at - card.opened_at, timedelta()))
        if card.done_at is not None:
            done[i].append(max(card.done_at - card.opened_at, timedelta()))
    return [
        ExpediteRow(
            p,
            counts[i],
            percentile(pulled[i], 0.5),
            percentile(pulled[i], 0.85),
            percentile(done[i], 0.5),
            percentile(done[i], 0.85),
        )
        for i, p in enumerate(periods)
    ]
