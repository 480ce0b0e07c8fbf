"""Yesterday's weather: what support took in past periods, and what to hold back next.

Everything here is a plain function of plain values (stints, done cards, periods); the
service reads the database and the clock. Person-days come from tracker.domain.working_time.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from tracker.domain.periods import Period, period_index, weeks
from tracker.domain.rotation import OFF_DUTY_MARK, PersonDuty, Term, duty_figures
from tracker.domain.vocabulary import LaneKind, Measure
from tracker.domain.working_time import Stint, credit

KINDS = (LaneKind.SUPPORT, LaneKind.FEATURE, LaneKind.EXPEDITE)
DEFAULT_WINDOW, DEFAULT_THRESHOLD = 3, 50


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
    # With a support rotation: each person's support and expedite person-days on and off
    # duty, and their interruptions (tracker.domain.rotation.duty_figures).
    duty: dict[int, PersonDuty] = field(default_factory=dict)

    @property
    def on_duty_days(self) -> float:
        return sum(d.on_days for d in self.duty.values())

    @property
    def off_duty_days(self) -> float:
        return sum(d.off_days for d in self.duty.values())

    @property
    def interruptions(self) -> int:
        return sum(d.interruptions for d in self.duty.values())

    @property
    def absorbed(self) -> float | None:
        """The share of support person-days the people on duty did (None: no support)."""
        total = self.on_duty_days + self.off_duty_days
        return self.on_duty_days / total if total > 0 else None

    @property
    def off_duty_marked(self) -> bool:
        """People off duty did more than a quarter of the support work."""
        absorbed = self.absorbed
        return absorbed is not None and 1 - absorbed > OFF_DUTY_MARK + 1e-9

    def of(self, measure: str) -> dict[str, float]:
        return {
            Measure.PERSON_DAYS: self.days,
            Measure.POINTS: self.points,
            Measure.CARDS: self.cards,
        }[measure]

    def support(self, measure: str) -> float:
        """Support plus expedite: the interrupt work."""
        values = self.of(measure)
        return values[LaneKind.SUPPORT] + values[LaneKind.EXPEDITE]

    def total(self, measure: str) -> float:
        return sum(self.of(measure).values())

    def share(self, measure: str) -> float | None:
        """(support + expedite) / all, or None when the period holds no work at all."""
        total = self.total(measure)
        return self.support(measure) / total if total > 0 else None


def loads(
    periods: Sequence[Period],
    tz: ZoneInfo,
    stints: Iterable[Stint],
    done: Iterable[Done],
    overrides: Iterable[datetime],
    cards: Collection[int] | None = None,
    terms: Sequence[Term] = (),
) -> list[Load]:
    """Each period's load. `cards` limits the effort to one board's cards (others' stints
    still share their person's time); periods must be sorted and not overlap. With the
    terms of a support rotation, each load also splits support work on and off duty."""
    stints = list(stints)
    bounds = [p.bounds(tz) for p in periods]
    starts = [b[0] for b in bounds]
    result = [Load(p) for p in periods]
    if terms:
        for load, duty in zip(result, duty_figures(stints, terms, tz, bounds, cards), strict=True):
            load.duty = duty
    for (card_id, kind, index), days in credit(stints, tz, bounds).items():
        if cards is None or card_id in cards:
            result[index].days[kind] += days
    for card in done:
        i = period_index(card.done_at, starts, bounds)
        if i is None:
            continue
        result[i].cards[card.lane_kind] += 1
        if card.estimate is None:
            result[i].unestimated[card.lane_kind] += 1
        else:
            result[i].points[card.lane_kind] += card.estimate
    for at in overrides:
        i = period_index(at, starts, bounds)
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
            sum(
                load.unestimated[LaneKind.SUPPORT] + load.unestimated[LaneKind.EXPEDITE]
                for load in self.window
            )
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
    unestimated = allowance.unestimated_support if allowance.measure == Measure.POINTS else 0
    if allowance.average is None:
        kind = NO_HISTORY
    elif unestimated and not any(load.support(Measure.POINTS) for load in allowance.window):
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
