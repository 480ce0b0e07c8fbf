"""The support rotation ("maintenance victim"): who is on support duty, term by term.

One to four people take support duty at once, for terms of one or more periods (sprints,
or weeks on a board without sprints). Terms are kept in seats: seat 0's person, seat 1's
person, ... With staggering, the seats' terms start on different periods, so that every
change of duty keeps someone on duty who already knows the current problems (Beck and
Fowler's rotating "maintenance victim").

The schedule is generated from a fair order (the least duty in the last six months first,
ties by name): each new term goes to the person free for the whole term (not on duty in
another seat, not away) with the fewest terms so far, then who has been off duty longest,
then in that order. A person skipped for being busy or away keeps their place and takes
the next term they can.
Terms already begun are kept as they are: regenerating never changes the past or the
running term.
"""

from __future__ import annotations

import bisect
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tracker.domain.errors import InvalidRequest
from tracker.domain.vocabulary import LaneKind
from tracker.domain.working_time import Stint, credit

MAX_ON_DUTY = 4
MAX_TERM_PERIODS = 4
# How many terms a generated schedule covers, and how far back duty counts for fairness.
TERMS_AHEAD = 12
FAIRNESS_DAYS = 183

Span = tuple[date, date]  # a period's first and last day, both included
# The lane kinds of interrupt work, which the people on duty are there to absorb.
INTERRUPT_KINDS = (LaneKind.SUPPORT, LaneKind.EXPEDITE)


class BadRotation(InvalidRequest):
    """A rotation set-up that cannot be run as asked."""


@dataclass(frozen=True)
class Setup:
    """How the rotation runs: how many on duty at once, a term's length in periods, and
    whether the seats' terms are staggered."""

    on_duty: int = 1
    term_periods: int = 1
    staggered: bool = False


def check_setup(setup: Setup, unit: str = "sprints") -> Setup:
    """The set-up if it can run, else BadRotation saying what to change."""
    if not 1 <= setup.on_duty <= MAX_ON_DUTY:
        raise BadRotation(f"Between 1 and {MAX_ON_DUTY} people can be on duty at once.")
    if not 1 <= setup.term_periods <= MAX_TERM_PERIODS:
        raise BadRotation(f"A term lasts between 1 and {MAX_TERM_PERIODS} {unit}.")
    if setup.staggered and setup.on_duty >= 2 and setup.term_periods < 2:
        raise BadRotation(
            f"Staggered terms need terms of at least 2 {unit}: with terms of one, everyone "
            "on duty changes at once. Make terms longer or turn staggering off."
        )
    return setup


@dataclass(frozen=True)
class Away:
    """A person away (holiday, leave) from start to end, both days included."""

    person: int
    start: date
    end: date


@dataclass(frozen=True)
class Term:
    """One seat's duty from start to end (both days included); person None when nobody in
    the pool was free to take it."""

    seat: int
    start: date
    end: date
    person: int | None

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end

    def overlaps(self, start: date, end: date) -> bool:
        return self.start <= end and start <= self.end


@dataclass(frozen=True)
class Schedule:
    """Terms in order of start, then seat, and what the lead should know about them."""

    terms: tuple[Term, ...]
    warnings: tuple[str, ...] = ()


def fair_order(pool: Mapping[int, str], duty_days: Mapping[int, int]) -> list[int]:
    """The pool (person id: name) in the order it takes duty: the least duty days in the
    last FAIRNESS_DAYS first, ties by name."""
    return sorted(
        pool, key=lambda person: (duty_days.get(person, 0), pool[person].casefold(), person)
    )


def duty_days(terms: Iterable[Term], since: date, until: date) -> dict[int, int]:
    """Days each person was on duty from since to until (both included)."""
    days: dict[int, int] = {}
    for term in terms:
        if term.person is None or not term.overlaps(since, until):
            continue
        first, last = max(term.start, since), min(term.end, until)
        days[term.person] = days.get(term.person, 0) + (last - first).days + 1
    return days


def upcoming_spans(
    known: Sequence[Span], start: date, count: int, default_days: int = 7
) -> list[Span]:
    """`count` periods from the one holding `start` (or the first after it): the known ones
    (sprints), then more like the last one at the same cadence (from one start to the next:
    that of the last two, or the last one's length in whole weeks, so a Monday-to-Friday
    sprint is followed by the next Monday's). Without known periods, calendar weeks from
    the Monday of `start`'s week."""
    spans = sorted(known)
    if not spans:
        monday = start - timedelta(days=start.weekday())
        spans = [(monday, monday + timedelta(days=default_days - 1))]
    last_start, last_end = spans[-1]
    length = last_end - last_start
    if len(spans) >= 2 and spans[-1][0] - spans[-2][0] > length:
        step = spans[-1][0] - spans[-2][0]
    else:
        step = timedelta(weeks=(length.days + 7) // 7)
    while spans[-1][1] < start or sum(1 for s in spans if s[1] >= start) < count:
        begin = spans[-1][0] + step
        spans.append((begin, begin + length))
    return [span for span in spans if span[1] >= start][:count]


def _seat_slots(
    seat: int, first: int, setup: Setup, count: int, *, new: bool
) -> list[tuple[int, int]]:
    """A seat's terms as (first period, last period) indexes, from period `first` on; a new
    staggered seat's first term is shortened so the seats change on different periods."""
    length = setup.term_periods
    offset = (seat * length) // setup.on_duty if setup.staggered and new else 0
    slots = []
    begin = first
    if offset:
        if length - offset > count:
            return slots
        slots.append((0, length - offset - 1))
        begin = length - offset
    while begin + length <= count:
        slots.append((begin, begin + length - 1))
        begin += length
    return slots


def plan(
    spans: Sequence[Span],
    order: Sequence[int],
    setup: Setup,
    *,
    kept: Sequence[Term] = (),
    away: Sequence[Away] = (),
) -> Schedule:
    """Fill the periods `spans` (consecutive, from now on) with terms for each seat, after
    the `kept` terms (those already begun, kept as they are), from the fair `order`."""
    warnings: list[str] = []
    if len(order) < setup.on_duty:
        warnings.append(
            f"The pool has {len(order)} {'person' if len(order) == 1 else 'people'} for "
            f"{setup.on_duty} on duty at once: add people to the pool or put fewer on duty."
        )
    last_kept: dict[int, date] = {}
    for term in kept:
        last_kept[term.seat] = max(term.end, last_kept.get(term.seat, term.end))
    slots: list[tuple[int, int, int]] = []  # first period, seat, last period
    for seat in range(setup.on_duty):
        first = 0
        if seat in last_kept:
            after = (i for i, span in enumerate(spans) if span[0] > last_kept[seat])
            first = next(after, len(spans))
        for begin, end in _seat_slots(seat, first, setup, len(spans), new=seat not in last_kept):
            slots.append((begin, seat, end))
    slots.sort()

    # Who takes the next term: whoever has the fewest terms in this schedule, then whoever
    # has been off duty longest (the earliest end of their last term; never served: first),
    # then the fair order.
    rank = {person: i for i, person in enumerate(order)}
    served = dict.fromkeys(order, 0)
    last_end: dict[int, date] = {}
    for term in kept:
        if term.person in rank:
            last_end[term.person] = max(term.end, last_end.get(term.person, term.end))
    taken: list[Term] = [term for term in kept if term.person is not None]
    made: list[Term] = []
    for begin, seat, end in slots:
        start, finish = spans[begin][0], spans[end][1]
        if end + 1 < len(spans):  # a weekend between sprints is still this term's
            finish = max(finish, spans[end + 1][0] - timedelta(days=1))
        busy = {t.person for t in taken if t.seat != seat and t.overlaps(start, finish)}
        busy |= {a.person for a in away if a.start <= finish and start <= a.end}
        free = [p for p in order if p not in busy]
        person = min(
            free, key=lambda p: (served[p], last_end.get(p, date.min), rank[p]), default=None
        )
        term = Term(seat, start, finish, person)
        made.append(term)
        if person is None:
            warnings.append(
                f"Nobody can take duty from {start:%a %d %b} to {finish:%a %d %b}: everyone "
                "in the pool is on duty or away then."
            )
            continue
        taken.append(term)
        last_end[person] = finish
        served[person] += 1
    terms = sorted([*kept, *made], key=lambda t: (t.start, t.seat))
    return Schedule(tuple(terms), tuple(warnings))


def last_weekday(day: date) -> date:
    """day, or the Friday before it when it falls on a weekend."""
    return day - timedelta(days=max(0, day.weekday() - 4))


def on_duty(terms: Iterable[Term], day: date) -> list[Term]:
    """The terms running on day, by seat."""
    return sorted(
        (t for t in terms if t.covers(day) and t.person is not None), key=lambda t: t.seat
    )


def next_up(terms: Iterable[Term], day: date) -> list[Term]:
    """The terms that start next after day (the next change of duty), by seat."""
    later = [t for t in terms if t.start > day and t.person is not None]
    if not later:
        return []
    first = min(t.start for t in later)
    return sorted((t for t in later if t.start == first), key=lambda t: t.seat)


def swap(terms: Sequence[Term], one: int, other: int) -> list[Term]:
    """The terms with the people of terms[one] and terms[other] exchanged."""
    if one == other:
        raise BadRotation("Pick two different terms to swap.")
    swapped = list(terms)
    swapped[one] = replace(terms[one], person=terms[other].person)
    swapped[other] = replace(terms[other], person=terms[one].person)
    return swapped


def clashes(terms: Sequence[Term]) -> list[tuple[Term, Term]]:
    """Pairs of terms that put one person on duty twice at once."""
    found = []
    for i, term in enumerate(terms):
        for other in terms[i + 1 :]:
            if (
                term.person is not None
                and term.person == other.person
                and term.seat != other.seat
                and term.overlaps(other.start, other.end)
            ):
                found.append((term, other))
    return found


# What the rotation does to the plan (the capacity report) -------------------------------

# A period where people off duty did more than this share of the support work is marked.
OFF_DUTY_MARK = 0.25


def _weekdays(start: date, end: date) -> list[date]:
    days, day = [], start
    while day <= end:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def cover_days(terms: Iterable[Term], away: Iterable[Away], start: date, end: date) -> float:
    """Person-days the people on duty give support from start to end: each term's working
    days (Monday to Friday) in that range, less the days its person is away."""
    away_days: dict[int, set[date]] = {}
    for a in away:
        away_days.setdefault(a.person, set()).update(_weekdays(a.start, a.end))
    total = 0
    for term in terms:
        if term.person is None or not term.overlaps(start, end):
            continue
        days = _weekdays(max(term.start, start), min(term.end, end))
        total += sum(1 for day in days if day not in away_days.get(term.person, ()))
    return float(total)


@dataclass(frozen=True)
class Cover:
    """The next period's support cover beside yesterday's weather (both in person-days)."""

    days: float
    allowance: float | None
    planned: float | None

    @property
    def short_by(self) -> float:
        """How much more support yesterday's weather expects than the rotation covers."""
        return max(0.0, (self.allowance or 0.0) - self.days)

    @property
    def held_back(self) -> float:
        """What the plan holds back for support: the larger of the two."""
        return max(self.days, self.allowance or 0.0)

    @property
    def feature_capacity(self) -> float | None:
        return None if self.planned is None else self.planned - self.held_back

    def sentence(self) -> str:
        covers = f"Rotation covers {self.days:g} person-days"
        if self.allowance is None:
            return f"{covers}; there is no yesterday's weather yet to compare it with."
        weather = f"yesterday's weather says {self.allowance:.1f}".replace(".0", "")
        if self.short_by > 0:
            more = f"{self.short_by:.1f}".replace(".0", "")
            return f"{covers}; {weather}: add cover or hold back {more} more for support."
        return f"{covers}; {weather}: the rotation covers it."


@dataclass(frozen=True)
class DutyStint(Stint):
    """A piece of a stint, on duty or not; `first` when it begins the stint (the moment the
    person took the card into work)."""

    on_duty: bool = False
    first: bool = True


def _duty_windows(
    terms: Iterable[Term], tz: ZoneInfo
) -> dict[int, list[tuple[datetime, datetime]]]:
    """Each person's time on duty as aware UTC intervals, from local midnight to midnight."""
    windows: dict[int, list[tuple[datetime, datetime]]] = {}
    for term in terms:
        if term.person is None:
            continue
        begin = datetime.combine(term.start, time(), tzinfo=tz).astimezone(UTC)
        end = datetime.combine(term.end + timedelta(days=1), time(), tzinfo=tz).astimezone(UTC)
        windows.setdefault(term.person, []).append((begin, end))
    return {person: sorted(spans) for person, spans in windows.items()}


def split_by_duty(stints: Iterable[Stint], terms: Iterable[Term], tz: ZoneInfo) -> list[DutyStint]:
    """The stints cut where their person goes on or off duty, each piece marked."""
    windows = _duty_windows(terms, tz)
    pieces: list[DutyStint] = []
    for stint in stints:
        cuts = {stint.start, stint.end}
        for begin, end in windows.get(stint.person_id, ()):
            cuts.update(at for at in (begin, end) if stint.start < at < stint.end)
        edges = sorted(cuts)
        for i, (begin, end) in enumerate(zip(edges, edges[1:], strict=False)):
            on = any(b <= begin and end <= e for b, e in windows.get(stint.person_id, ()))
            pieces.append(
                DutyStint(
                    stint.card_id, stint.person_id, stint.lane_kind, begin, end, on, first=i == 0
                )
            )
    return pieces


@dataclass
class PersonDuty:
    """One person's support work in a period: person-days on duty and off duty, and the
    support cards they took into work while off duty (the interruptions)."""

    on_days: float = 0.0
    off_days: float = 0.0
    interruptions: int = 0


def duty_figures(
    stints: Iterable[Stint],
    terms: Sequence[Term],
    tz: ZoneInfo,
    bounds: Sequence[tuple[datetime, datetime]],
    cards: Collection[int] | None = None,
) -> list[dict[int, PersonDuty]]:
    """Per period (bounds: sorted, not overlapping), each person's support and expedite
    person-days on and off duty, and their interruptions. A person's time is shared among
    all the cards they hold (as the capacity report shares it); `cards` limits the credit
    to one board's cards."""
    pieces = split_by_duty(stints, terms, tz)
    result: list[dict[int, PersonDuty]] = [{} for _ in bounds]
    credited = credit(pieces, tz, bounds, label=lambda s: (s.lane_kind, s.person_id, s.on_duty))
    for (card_id, (kind, person, on), index), days in credited.items():
        if kind not in INTERRUPT_KINDS or (cards is not None and card_id not in cards):
            continue
        figures = result[index].setdefault(person, PersonDuty())
        if on:
            figures.on_days += days
        else:
            figures.off_days += days
    starts = [b[0] for b in bounds]
    for piece in pieces:
        if not piece.first or piece.on_duty or piece.lane_kind != LaneKind.SUPPORT:
            continue
        if cards is not None and piece.card_id not in cards:
            continue
        i = bisect.bisect_right(starts, piece.start) - 1
        if i >= 0 and piece.start < bounds[i][1]:
            result[i].setdefault(piece.person_id, PersonDuty()).interruptions += 1
    return result
