"""Flow metrics: how work moves across the board, computed from the card history at query
time (DESIGN.md "Next": flow metrics).

Each card's history is replayed into a `Track`: when it was created, where it was from
each change on, when it first entered work, when it was done (the last time, if it was
reopened) or closed, and when it was blocked. Every figure reads tracks:

- Cumulative flow: at the end of each day, how many cards are in each column. A card
  counts from its creation until it is closed (a closed card leaves the board, and comes
  back when reopened); a done card stays in its done column. So the bands of a day always
  sum to the cards existing then, and a day's counts depend only on what happened by then.
- Cycle time: from the first entry into an active column to done; lead time: from
  creation to done. A card reopened and done again is measured to its last done, and counts
  in the week of that done. A card never in an active column has no cycle time.
- Percentiles: linear interpolation between closest ranks, Python's
  `statistics.quantiles(method="inclusive")`.
- Throughput: cards done per (ISO) week, by the week of their last done.
- Aging: a card in an active column now, its age since it first entered work, against its
  lane kind's cycle-time percentiles.
- Blocked time: the time a card spent blocked (wall clock) until it was unblocked, done
  or closed, per period by when it was.
- Pareto: work by component, largest first, with the cumulative share, and the fewest
  components behind 80% of it.
- Forecast: arrivals next sprint by Monte Carlo over weekly arrival counts.
"""

from __future__ import annotations

import heapq
import math
import random
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from tracker.domain.vocabulary import CardStatus

QUANTILES = (0.50, 0.85, 0.95)
Q = TypeVar("Q", float, timedelta)
PARETO_SHARE = 0.8
FORECAST_TRIALS = 10_000
FORECAST_WEEKS = 12
# Aging flags a card only against a lane kind with at least this many finished cards: a
# percentile of one or two cycle times says nothing about what is usual.
AGING_MIN_HISTORY = 5


@dataclass(frozen=True)
class Change:
    """One history event as flow reads it: the card, the time, {field: [old, new]}, and
    the event's reason (a block's reason)."""

    card_id: int
    at: datetime
    changes: Mapping[str, Sequence[object]]
    reason: str = ""


@dataclass
class Track:
    """A card's way across the board, replayed from its history."""

    card_id: int
    lane_kind: str
    created_at: datetime
    # (since, column id) for each place the card was, oldest first.
    places: list[tuple[datetime, int]] = field(default_factory=list)
    started_at: datetime | None = None  # first entry into an active column
    done_at: datetime | None = None  # the last time it was done, while it is done
    closed_at: datetime | None = None  # while closed: since when
    # (closed, reopened or None while still closed) for each time it was closed
    closures: list[tuple[datetime, datetime | None]] = field(default_factory=list)
    # (from, until or None while still blocked, reason)
    blocks: list[tuple[datetime, datetime | None, str]] = field(default_factory=list)
    component: str = ""

    def column_at(self, moment: datetime) -> int | None:
        """The column the card was in at moment (None: not created yet, or closed)."""
        if moment < self.created_at or self.closed_then(moment):
            return None
        column = None
        for since, place in self.places:
            if since > moment:
                break
            column = place
        return column

    def closed_then(self, moment: datetime) -> bool:
        return any(
            since <= moment and (until is None or moment < until) for since, until in self.closures
        )

    def present(
        self, begin: datetime, until: datetime | None
    ) -> list[tuple[datetime, datetime | None]]:
        """[begin, until) less the times the card was closed."""
        pieces: list[tuple[datetime, datetime | None]] = [(begin, until)]
        for shut, back in self.closures:
            cut: list[tuple[datetime, datetime | None]] = []
            for first, last in pieces:
                if (last is not None and last <= shut) or (back is not None and back <= first):
                    cut.append((first, last))
                    continue
                if first < shut:
                    cut.append((first, shut))
                if back is not None and (last is None or back < last):
                    cut.append((back, last))
            pieces = cut
        return pieces

    @property
    def cycle_time(self) -> timedelta | None:
        if self.started_at is None or self.done_at is None:
            return None
        return self.done_at - self.started_at

    @property
    def lead_time(self) -> timedelta | None:
        return None if self.done_at is None else self.done_at - self.created_at

    def blocked_between(self, start: datetime, end: datetime, now: datetime) -> timedelta:
        """How long the card was blocked within [start, end)."""
        total = timedelta()
        for begin, until, _ in self.blocks:
            first, last = max(begin, start), min(until or now, end)
            if last > first:
                total += last - first
        return total


def replay(
    card_id: int,
    lane_kind: str,
    created_at: datetime,
    events: Iterable[Change],
    active_columns: frozenset[int] | set[int],
    component: str = "",
) -> Track:
    """A card's Track from its events, oldest first (the created event included)."""
    track = Track(card_id, lane_kind, created_at, component=component)
    status = CardStatus.OPEN
    blocked_since: datetime | None = None
    for event in events:
        changes = event.changes
        if "column_id" in changes:
            column = changes["column_id"][1]
            track.places.append((event.at, column))  # type: ignore[arg-type]
            if column in active_columns and track.started_at is None:
                track.started_at = event.at
        if "status" in changes:
            status = changes["status"][1]  # type: ignore[assignment]
            if status == CardStatus.DONE:
                track.done_at = event.at
            elif status == CardStatus.CLOSED:
                track.closed_at, track.done_at = event.at, None
                track.closures.append((event.at, None))
            else:  # reopened
                if track.closed_at is not None:
                    track.closures[-1] = (track.closed_at, event.at)
                track.closed_at = track.done_at = None
            if status != CardStatus.OPEN and blocked_since is not None:
                # A block ends when its card leaves work (done or closed), flagged or not.
                begin, _, reason = track.blocks[-1]
                track.blocks[-1] = (begin, event.at, reason)
                blocked_since = None
        if "blocked" in changes:
            if changes["blocked"][1] and blocked_since is None:
                blocked_since = event.at
                track.blocks.append((event.at, None, event.reason))
            elif not changes["blocked"][1] and blocked_since is not None:
                begin, _, reason = track.blocks[-1]
                track.blocks[-1] = (begin, event.at, reason)
                blocked_since = None
    if status != CardStatus.DONE:
        track.done_at = None
    return track


# -- percentiles ----------------------------------------------------------------------------


def quantile(values: Sequence[Q], q: float) -> Q | None:
    """The q-th quantile (0..1) of numbers or durations: linear interpolation between
    closest ranks, as statistics.quantiles(values, n=100, method="inclusive") gives for
    whole percents."""
    if not values:
        return None
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    lower, upper = math.floor(position), math.ceil(position)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def percentiles(values: Sequence[float]) -> dict[float, float | None]:
    """The 50th, 85th and 95th percentiles."""
    return {q: quantile(values, q) for q in QUANTILES}


# -- cumulative flow --------------------------------------------------------------------


def end_of_day(day: date, tz: ZoneInfo) -> datetime:
    """The last moment of day in tz (midnight after it), as an aware datetime."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=tz)


def cumulative_flow(
    tracks: Iterable[Track], columns: Sequence[int], days: Sequence[date], tz: ZoneInfo
) -> list[dict[int, int]]:
    """For each day, the cards in each column at its end (see the module docstring).

    Each place a card held is a span of time; the days whose end falls in it count the card
    in that place's column. A sweep over the spans (by bisection into the days), so a long
    range over many cards costs their places, not days times cards."""
    # In UTC: comparing datetimes of one tzinfo skips a time zone look-up per comparison.
    moments = [(end_of_day(day, tz) - timedelta(microseconds=1)).astimezone(UTC) for day in days]
    wanted = set(columns)
    diff = {column: [0] * (len(days) + 1) for column in columns}
    for track in tracks:
        places = track.places
        for i, (since, column) in enumerate(places):
            if column not in wanted:
                continue
            begin = max(since, track.created_at)
            until = places[i + 1][0] if i + 1 < len(places) else None
            spans = track.present(begin, until) if track.closures else [(begin, until)]
            for first, last in spans:
                lo = bisect_left(moments, first)
                hi = len(moments) if last is None else bisect_left(moments, last)
                if hi > lo:
                    diff[column][lo] += 1
                    diff[column][hi] -= 1
    result = [dict.fromkeys(columns, 0) for _ in days]
    for column in columns:
        running = 0
        for i in range(len(days)):
            running += diff[column][i]
            result[i][column] = running
    return result


def add_counts(flow: list[dict[int, int]], constant: Mapping[int, int]) -> list[dict[int, int]]:
    """The flow with cards that sat in one column all along (done before the range) added."""
    return [{c: n + constant.get(c, 0) for c, n in day.items()} for day in flow]


# -- cycle time, throughput, aging -------------------------------------------------------


@dataclass(frozen=True)
class Point:
    """A finished card on the cycle-time chart: when it was done and how long it took."""

    card_id: int
    lane_kind: str
    done_at: datetime
    days: float


def cycle_points(tracks: Iterable[Track], *, lead: bool = False) -> list[Point]:
    """Each done card's cycle time (or lead time) in days, by when it was done."""
    points = []
    for track in tracks:
        span = track.lead_time if lead else track.cycle_time
        if span is not None and track.done_at is not None:
            days = span.total_seconds() / 86400
            points.append(Point(track.card_id, track.lane_kind, track.done_at, days))
    return sorted(points, key=lambda p: (p.done_at, p.card_id))


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def throughput(tracks: Iterable[Track], weeks: Sequence[date], tz: ZoneInfo) -> list[Counter]:
    """For each week (its Monday), the cards done in it by lane kind."""
    index = {week: i for i, week in enumerate(weeks)}
    result: list[Counter] = [Counter() for _ in weeks]
    for track in tracks:
        if track.done_at is None:
            continue
        week = monday(track.done_at.astimezone(tz).date())
        if week in index:
            result[index[week]][track.lane_kind] += 1
    return result


@dataclass(frozen=True)
class Aging:
    """A card in progress: its age in days since it entered work, and whether it is older
    than its kind's 85th percentile cycle time."""

    card_id: int
    lane_kind: str
    days: float
    p85: float | None

    @property
    def old(self) -> bool:
        return self.p85 is not None and self.days > self.p85


def aging_thresholds(history: Mapping[str, Sequence[float]]) -> dict[str, float]:
    """Each lane kind's 85th percentile cycle time, for kinds with at least
    AGING_MIN_HISTORY finished cards."""
    return {
        kind: quantile(values, 0.85)  # type: ignore[misc]
        for kind, values in history.items()
        if len(values) >= AGING_MIN_HISTORY
    }


def aging(
    tracks: Iterable[Track],
    active_columns: frozenset[int] | set[int],
    now: datetime,
    history: Mapping[str, Sequence[float]],
) -> list[Aging]:
    """Every card in an active column now, oldest first; `history` holds each lane kind's
    finished cycle times (days) that its percentile comes from (none with fewer than
    AGING_MIN_HISTORY of them)."""
    return aged(tracks, active_columns, now, aging_thresholds(history))


def aged(
    tracks: Iterable[Track],
    active_columns: frozenset[int] | set[int],
    now: datetime,
    p85: Mapping[str, float],
) -> list[Aging]:
    """Every card in an active column now, oldest first, against its lane kind's 85th
    percentile (aging_thresholds)."""
    result = []
    for track in tracks:
        if track.column_at(now) not in active_columns or track.started_at is None:
            continue
        days = (now - track.started_at).total_seconds() / 86400
        result.append(Aging(track.card_id, track.lane_kind, days, p85.get(track.lane_kind)))
    return sorted(result, key=lambda a: -a.days)


def aged_words(started_on: date, p85: float, lane_kind: str) -> str:
    """A board tile's aging marker, in words that stay the same while it stays aged."""
    shown = f"{p85:.1f}".removesuffix(".0")
    return (
        f"In progress since {started_on.day} {started_on:%b}: longer than 85% of recent "
        f"{lane_kind} cards took ({shown} days)"
    )


def thin(cycles: Sequence[float | None], leads: Sequence[float], limit: int) -> list[int]:
    """Which of many finished cards a scatter draws (their indexes, in order): all of them
    up to `limit`; past it, the limit // 8 longest cycle times and the limit // 8 longest
    lead times (the outliers a reader looks for) and an even sample of the rest."""
    count = len(leads)
    if count <= limit:
        return list(range(count))
    share = limit // 8
    timed = [i for i in range(count) if cycles[i] is not None]
    kept = set(heapq.nsmallest(share, timed, key=lambda i: (-cycles[i], i)))  # type: ignore[operator]
    kept.update(heapq.nsmallest(share, range(count), key=lambda i: (-leads[i], i)))
    rest = [i for i in range(count) if i not in kept]
    room = limit - len(kept)
    step = len(rest) / room
    kept.update(rest[int(n * step)] for n in range(room))
    return sorted(kept)


# -- blocked time -----------------------------------------------------------------------


def block_reasons(
    tracks: Iterable[Track], start: datetime, end: datetime, top: int = 5
) -> list[tuple[str, int]]:
    """The most frequent block reasons of blocks begun in [start, end) (case and
    surrounding space ignored), most frequent first, each as first written."""
    found: dict[str, tuple[str, int, datetime]] = {}
    for track in tracks:
        for begin, _, reason in track.blocks:
            text = reason.strip()
            if start <= begin < end and text:
                key = text.casefold()
                shown, n, first = found.get(key, (text, 0, begin))
                if begin < first:
                    shown, first = text, begin
                found[key] = (shown, n + 1, first)
    return top_reasons(found, top)


def top_reasons(
    found: Mapping[str, tuple[str, int, datetime]], top: int = 5
) -> list[tuple[str, int]]:
    """From {reason folded: (as first written, blocks, first begun)}: the `top` most
    frequent, ties by which was first written earlier."""
    ranked = sorted(found.values(), key=lambda r: (-r[1], r[2], r[0]))
    return [(shown, n) for shown, n, _ in ranked[:top]]


# -- where support comes from (Pareto) -----------------------------------------------------


@dataclass(frozen=True)
class ParetoRow:
    name: str
    value: float
    cumulative_share: float


def pareto(values: Mapping[str, float]) -> tuple[list[ParetoRow], list[str]]:
    """Components by value, largest first (ties by name), with the cumulative share; and
    the fewest components whose values reach PARETO_SHARE of the total."""
    total = sum(v for v in values.values() if v > 0)
    rows, running, behind = [], 0.0, []
    for name, value in sorted(values.items(), key=lambda item: (-item[1], item[0])):
        if value <= 0:
            continue
        before = running
        running += value
        rows.append(ParetoRow(name, value, running / total))
        if before / total < PARETO_SHARE - 1e-9:
            behind.append(name)
    return rows, behind


# -- forecast ---------------------------------------------------------------------------


def weekly_arrivals(created: Iterable[datetime], weeks: Sequence[date], tz: ZoneInfo) -> list[int]:
    """How many cards arrived in each week (by Monday)."""
    index = {week: i for i, week in enumerate(weeks)}
    counts = [0] * len(weeks)
    for moment in created:
        week = monday(moment.astimezone(tz).date())
        if week in index:
            counts[index[week]] += 1
    return counts


def forecast(
    weekly: Sequence[int], weeks_ahead: float, *, trials: int = FORECAST_TRIALS, seed: int = 0
) -> dict[float, int] | None:
    """Arrivals over the next `weeks_ahead` weeks by Monte Carlo: each trial draws a past
    week's count for each week ahead (a part week scales its draw); the 50th, 85th and 95th
    percentiles of the trials' totals ("at most this many, in that share of trials").
    None without history."""
    if not weekly or weeks_ahead <= 0:
        return None
    rng = random.Random(seed)
    whole, part = int(weeks_ahead), weeks_ahead - int(weeks_ahead)
    totals = []
    for _ in range(trials):
        total = sum(rng.choice(weekly) for _ in range(whole))
        if part:
            total += rng.choice(weekly) * part
        totals.append(total)
    return {q: math.ceil(quantile(totals, q) - 1e-9) for q in QUANTILES}
