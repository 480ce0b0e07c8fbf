"""Flow metrics for a board (issue 15): cumulative flow, cycle and lead time, throughput,
aging work, blocked time, where support comes from, and the arrivals forecast.

The page covers whole weeks; each chart puts together the figures of its weeks
(tracker.services.flow_weeks: stored once a week has ended, the running week replayed from
the history). Cycle and lead time, throughput, aging and the forecast come from the cards'
own times (created, first started, last done: the history's replay kept on the card,
tests/test_demo_replay.py). Cumulative flow and blocked time replay the history of the
cards that existed in a week (tracker.services.flow_history). Person-days come from the
capacity report's stints (tracker.services.reports). The arithmetic is tracker.domain.flow.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select

from tracker import clock
from tracker.domain import flow as rules
from tracker.domain.allowance import period_to_plan
from tracker.domain.periods import monday_of
from tracker.domain.vocabulary import CardStatus, ColumnKind
from tracker.extensions import db
from tracker.models import Board, Card
from tracker.services import flow_weeks, reports
from tracker.services.common import today_on
from tracker.services.flow_history import (  # noqa: F401 - the Flow page's names
    DEFAULT_RANGE,
    KINDS,
    NO_COMPONENT,
    RANGES,
    SUPPORT_KINDS,
    CardInfo,
    Column,
    History,
    Range,
    _columns,
    _components_of,
    _done_tracks,
    _lane_kinds,
    history,
    week_range,
)


@dataclass
class Flow:
    """The cumulative flow diagram's figures: per day, cards per column."""

    range: Range
    kind: str | None
    columns: list[Column]
    days: list[date]
    counts: list[dict[int, int]]


def _days(board: Board, rng: Range) -> list[date]:
    last = min(rng.last, today_on(board))
    return [rng.first + timedelta(days=i) for i in range((last - rng.first).days + 1)]


def cumulative_flow(
    board: Board, rng: Range, kind: str | None = None, *, weeks: list | None = None
) -> Flow:
    """Cards per column at the end of each day of the range (up to today), from the weeks'
    figures (flow_weeks: stored for finished weeks)."""
    columns = _columns(board.id)
    counts: list[dict[int, int]] = []
    for week in weeks if weeks is not None else flow_weeks.weeks(board, rng.mondays, ["cfd"]):
        for day in week.cfd:
            totals = dict.fromkeys((c.id for c in columns), 0)
            for (column, lane_kind), n in day.items():
                if column in totals and (kind is None or lane_kind == kind):
                    totals[column] += n
            counts.append(totals)
    return Flow(rng, kind, columns, _days(board, rng), counts)


@dataclass
class BlockedCard:
    card: CardInfo
    hours: float


@dataclass
class Blocked:
    """Blocked time per week (hours, wall clock), the cards blocked longest, and the most
    frequent reasons of the blocks begun in the range."""

    range: Range
    weeks: list[tuple[date, float]]
    cards: list[BlockedCard]
    reasons: list[tuple[str, int]]


def blocked_time(board: Board, rng: Range, *, top: int = 10, weeks: list | None = None) -> Blocked:
    """Blocked time of the range, from the weeks' figures."""
    weeks = weeks if weeks is not None else flow_weeks.weeks(board, rng.mondays, ["blocks"])
    per_card: Counter = Counter()
    reasons: dict[str, tuple[str, int, datetime]] = {}
    for week in weeks:
        for card_id, hours in week.blocked_cards.items():
            per_card[card_id] += hours
        for key, (shown, n, first) in week.reasons.items():
            was = reasons.get(key)
            if was is None:
                reasons[key] = (shown, n, first)
            else:
                reasons[key] = (was[0], was[1] + n, was[2])
    longest = [(card_id, hours) for card_id, hours in per_card.most_common(top) if hours > 0]
    infos = card_infos(board, [card_id for card_id, _ in longest])
    return Blocked(
        rng,
        [(week.monday, week.blocked_hours) for week in weeks],
        [BlockedCard(infos[card_id], hours) for card_id, hours in longest],
        rules.top_reasons(reasons),
    )


def card_infos(board: Board, card_ids: Sequence[int]) -> dict[int, CardInfo]:
    """The cards' references and titles, for the few a chart names."""
    lanes = _lane_kinds(board.id)
    result: dict[int, CardInfo] = {}
    ids = sorted(set(card_ids))
    for i in range(0, len(ids), 500):
        for row in db.session.execute(
            select(Card.id, Card.ref, Card.title, Card.lane_id).where(
                Card.board_id == board.id, Card.id.in_(ids[i : i + 500])
            )
        ):
            result[row.id] = CardInfo(row.id, row.ref, row.title, lanes[row.lane_id])
    return result


# -- cycle time, lead time, throughput: the cards' own times -------------------------------

# The scatter draws at most this many dots per chart (the outliers and an even sample of
# the rest); the percentiles come from every card, and the CSV lists every card.
SCATTER_DOTS = 240


@dataclass
class Done:
    """A card done in the range, with its cycle time (None if it never entered work) and
    lead time in days."""

    card: CardInfo
    done_at: datetime
    cycle: float | None
    lead: float


@dataclass
class Cycle:
    """Cycle and lead time of the cards done in the range, their percentiles per lane
    kind, and throughput per week per lane kind. `done` holds the cards drawn (every card
    when asked for all), `counts` how many were done per lane kind."""

    range: Range
    done: list[Done]
    cycle_percentiles: dict[str, dict[float, float | None]]
    lead_percentiles: dict[str, dict[float, float | None]]
    throughput: list[tuple[date, Counter]]
    counts: Counter = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def cycle_times(
    board: Board, rng: Range, *, every: bool = False, weeks: list | None = None
) -> Cycle:
    """The cards done in the range: percentiles per lane kind of every card's cycle and
    lead time, throughput per week, and the cards to draw (every card if `every`)."""
    weeks = weeks if weeks is not None else flow_weeks.weeks(board, rng.mondays, ["finished"])
    done = [d for week in weeks for d in week.done]  # by done time: each week's is
    cycles: dict[str, list[float]] = {k: [] for k in KINDS}
    leads: dict[str, list[float]] = {k: [] for k in KINDS}
    counts: Counter = Counter()
    all_cycles: list[float | None] = []
    all_leads: list[float] = []
    days_of = flow_weeks.days_of
    for _, kind, done_at, started, created in done:
        cycle = None if started is None else days_of(done_at - started)
        lead = days_of(done_at - created)
        if cycle is not None:
            cycles.setdefault(kind, []).append(cycle)
        leads.setdefault(kind, []).append(lead)
        all_cycles.append(cycle)
        all_leads.append(lead)
        counts[kind] += 1
    throughput = [(week.monday, Counter(d[1] for d in week.done)) for week in weeks]
    kept = range(len(done)) if every else rules.thin(all_cycles, all_leads, SCATTER_DOTS)
    infos = card_infos(board, [done[i][0] for i in kept])
    return Cycle(
        rng,
        [
            Done(infos[done[i][0]], flow_weeks.moment(done[i][2]), all_cycles[i], all_leads[i])
            for i in kept
        ],
        {k: rules.percentiles(v) for k, v in cycles.items()},
        {k: rules.percentiles(v) for k, v in leads.items()},
        throughput,
        counts,
    )


# -- aging work in progress ----------------------------------------------------------------


@dataclass
class AgingCard:
    card: CardInfo
    column: str
    days: float
    p85: float | None

    @property
    def old(self) -> bool:
        return self.p85 is not None and self.days > self.p85


@dataclass
class Aging:
    """The cards in active columns now, oldest first, against their lane kind's cycle-time
    percentiles over the last flow_weeks.AGING_HISTORY_WEEKS finished weeks."""

    cards: list[AgingCard]
    percentiles: dict[str, dict[float, float | None]]


def aging(board: Board) -> Aging:
    now = clock.now()
    columns = {c.id: c for c in _columns(board.id) if c.kind == ColumnKind.ACTIVE}
    lanes = _lane_kinds(board.id)
    figures = flow_weeks.aging_percentiles(board)
    rows = list(
        db.session.execute(
            select(
                Card.id,
                Card.ref,
                Card.title,
                Card.lane_id,
                Card.column_id,
                Card.created_at,
                Card.started_at,
            ).where(
                Card.board_id == board.id,
                Card.status == CardStatus.OPEN,
                Card.column_id.in_(list(columns)),
            )
        )
    )
    tracks = [
        rules.Track(
            r.id,
            lanes[r.lane_id],
            r.created_at,
            places=[(r.created_at, r.column_id)],
            started_at=r.started_at,
        )
        for r in rows
    ]
    ages = rules.aged(tracks, set(columns), now, figures.p85)
    by_id = {r.id: r for r in rows}
    cards = [
        AgingCard(
            CardInfo(a.card_id, by_id[a.card_id].ref, by_id[a.card_id].title, a.lane_kind),
            columns[by_id[a.card_id].column_id].name,
            a.days,
            a.p85,
        )
        for a in ages
    ]
    return Aging(cards, figures.percentiles)


def fmt_days(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


# -- where support comes from --------------------------------------------------------------


@dataclass
class Pareto:
    """Support and expedite work by component over the range: cards that arrived, and
    person-days of active work; each sorted with the cumulative share, and the components
    behind PARETO_SHARE of it."""

    range: Range
    cards: list[rules.ParetoRow]
    cards_behind: list[str]
    days: list[rules.ParetoRow]
    days_behind: list[str]

    @property
    def total_cards(self) -> int:
        return round(sum(r.value for r in self.cards))

    @property
    def total_days(self) -> float:
        return sum(r.value for r in self.days)


def where_support_comes_from(board: Board, rng: Range, *, weeks: list | None = None) -> Pareto:
    """Support and expedite arrivals and person-days by component, from the weeks' figures."""
    arrived: Counter = Counter()
    days: Counter = Counter()
    for week in weeks if weeks is not None else flow_weeks.weeks(board, rng.mondays, ["sources"]):
        arrived.update(week.arrived)
        for name, value in week.days.items():
            days[name] += value
    cards_rows, cards_behind = rules.pareto(arrived)
    days_rows, days_behind = rules.pareto(days)
    return Pareto(rng, cards_rows, cards_behind, days_rows, days_behind)


# -- the forecast --------------------------------------------------------------------------


@dataclass
class Forecast:
    """Support and expedite arrivals over the period to plan (next sprint, or next week),
    from the last FORECAST_WEEKS weeks' arrivals."""

    period_name: str | None
    weeks_ahead: float
    weekly: list[tuple[date, int]]
    figures: dict[float, int] | None = field(default=None)


def arrivals_forecast(board: Board, *, seed: int = 0) -> Forecast:
    """Monte Carlo over the weekly support + expedite arrivals of the last finished
    FORECAST_WEEKS weeks (tracker.domain.flow.forecast), for the period the capacity
    report plans."""
    today = today_on(board)
    this_monday = monday_of(today)
    mondays = [this_monday - timedelta(weeks=i) for i in range(rules.FORECAST_WEEKS, 0, -1)]
    counts = [sum(w.arrived.values()) for w in flow_weeks.weeks(board, mondays, ["sources"])]
    target = period_to_plan([reports._period(s) for s in reports.sprints_of(board.id)], today)
    period = target.period
    if period is None:
        return Forecast(None, 0, list(zip(mondays, counts, strict=True)))
    weeks_ahead = ((period.end - period.start).days + 1) / 7
    figures = rules.forecast(counts, weeks_ahead, seed=seed)
    return Forecast(period.name, weeks_ahead, list(zip(mondays, counts, strict=True)), figures)
