"""Flow metrics for a board (issue 15): cumulative flow, cycle and lead time, throughput,
aging work, blocked time, where support comes from, and the arrivals forecast.

Each figure reads only what it needs for its range. Cycle and lead time, throughput, aging
and the forecast come from the cards' own times (created, first started, last done: the
history's replay kept on the card, tests/test_demo_replay.py). Cumulative flow and blocked
time replay the history of the cards that existed in the range, reading only the events
that change a card's column, status or blocked flag; cards done before the range sit in
their done column all along and are counted, not replayed. Person-days come from the
capacity report's stints (tracker.services.reports). The arithmetic is tracker.domain.flow.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, union_all

from tracker import clock
from tracker.domain import flow as rules
from tracker.domain import working_time
from tracker.domain.allowance import period_to_plan
from tracker.domain.periods import monday_of
from tracker.domain.vocabulary import CardStatus, ColumnKind, EventKind
from tracker.domain.wip import EXPEDITE, FEATURE, SUPPORT
from tracker.extensions import db
from tracker.models import Board, BoardColumn, Card, CardEvent, Lane
from tracker.services import reports
from tracker.services.common import today_on

KINDS = (EXPEDITE, SUPPORT, FEATURE)
SUPPORT_KINDS = (EXPEDITE, SUPPORT)
RANGES = (4, 8, 12, 26, 52)
DEFAULT_RANGE = 12
# The finished cards whose cycle times the aging chart and the board tile compare against.
AGING_HISTORY_WEEKS = 12
NO_COMPONENT = "(no component)"

# Events that can change a card's column, status or blocked flag.
FLOW_EVENTS = (
    EventKind.CREATED,
    EventKind.MOVED,
    EventKind.PULLED,
    EventKind.ESCALATED,
    EventKind.DEESCALATED,
    EventKind.CLOSED,
    EventKind.REOPENED,
    EventKind.BLOCKED,
    EventKind.UNBLOCKED,
)


@dataclass(frozen=True)
class Range:
    """Whole calendar weeks (Monday to Sunday), `weeks` of them up to the one of `until`."""

    weeks: int
    until: date
    first: date
    last: date

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        begin = datetime.combine(self.first, datetime.min.time(), tzinfo=tz)
        finish = datetime.combine(self.last + timedelta(days=1), datetime.min.time(), tzinfo=tz)
        return begin.astimezone(UTC), finish.astimezone(UTC)

    @property
    def mondays(self) -> list[date]:
        return [self.first + timedelta(weeks=i) for i in range(self.weeks)]


def week_range(weeks: int, until: date) -> Range:
    """The `weeks` calendar weeks up to the one containing `until`."""
    last_monday = monday_of(until)
    first = last_monday - timedelta(weeks=weeks - 1)
    return Range(weeks, until, first, last_monday + timedelta(days=6))


@dataclass(frozen=True)
class Column:
    id: int
    name: str
    kind: str


@dataclass(frozen=True)
class CardInfo:
    """What a chart shows of a card: its reference and title, and a link to it."""

    id: int
    ref: str
    title: str
    lane_kind: str


def _columns(board_id: int) -> list[Column]:
    rows = db.session.execute(
        select(BoardColumn.id, BoardColumn.name, BoardColumn.kind)
        .where(BoardColumn.board_id == board_id)
        .order_by(BoardColumn.position, BoardColumn.id)
    )
    return [Column(r.id, r.name, r.kind) for r in rows]


def _lane_kinds(board_id: int) -> dict[int, str]:
    rows = db.session.execute(select(Lane.id, Lane.kind).where(Lane.board_id == board_id))
    return {lane_id: kind for lane_id, kind in rows}


# -- cumulative flow and blocked time: replayed tracks --------------------------------------


@dataclass
class History:
    """The tracks of the cards that existed in a range (of one lane kind, or all), and the
    cards done before it by (column, lane kind)."""

    range: Range
    tracks: list[rules.Track]
    cards: dict[int, CardInfo]
    settled: Counter  # (column id, lane kind) -> cards done before the range, still done


def history(board: Board, rng: Range, kind: str | None = None) -> History:
    """Replay the cards that existed in the range (created before its end, not done or
    closed before its start), reading only their column, status and blocked events."""
    tz = ZoneInfo(board.timezone)
    start, end = rng.bounds(tz)
    lanes = _lane_kinds(board.id)
    lane_ids = [i for i, k in lanes.items() if kind is None or k == kind]
    mine = (Card.board_id == board.id, Card.lane_id.in_(lane_ids), Card.created_at < end)
    candidates = union_all(
        select(Card.id).where(*mine, Card.status == CardStatus.OPEN),
        select(Card.id).where(*mine, Card.status == CardStatus.DONE, Card.done_at >= start),
        select(Card.id).where(*mine, Card.status == CardStatus.CLOSED, Card.closed_at >= start),
    ).subquery()
    cards: dict[int, tuple] = {}
    for row in db.session.execute(
        select(
            Card.id,
            Card.ref,
            Card.title,
            Card.lane_id,
            Card.created_at,
            Card.component,
        ).where(Card.id.in_(select(candidates.c.id)))
    ):
        cards[row.id] = row
    active = {c.id for c in _columns(board.id) if c.kind == ColumnKind.ACTIVE}
    events: dict[int, list[rules.Change]] = defaultdict(list)
    for row in db.session.execute(
        select(CardEvent.card_id, CardEvent.at, CardEvent.changes, CardEvent.reason)
        .where(
            CardEvent.card_id.in_(select(candidates.c.id)),
            CardEvent.kind.in_(FLOW_EVENTS),
            CardEvent.at < end,
        )
        .order_by(CardEvent.card_id, CardEvent.id)
    ):
        events[row.card_id].append(rules.Change(row.card_id, row.at, row.changes, row.reason))
    tracks = [
        rules.replay(
            card_id, lanes[row.lane_id], row.created_at, events[card_id], active, row.component
        )
        for card_id, row in cards.items()
    ]
    settled: Counter = Counter()
    for row in db.session.execute(
        select(Card.column_id, Card.lane_id, func.count())
        .where(
            Card.board_id == board.id,
            Card.lane_id.in_(lane_ids),
            Card.status == CardStatus.DONE,
            Card.done_at < start,
        )
        .group_by(Card.column_id, Card.lane_id)
    ):
        settled[(row[0], lanes[row[1]])] += row[2]
    infos = {i: CardInfo(i, r.ref, r.title, lanes[r.lane_id]) for i, r in cards.items()}
    return History(rng, tracks, infos, settled)


@dataclass
class Flow:
    """The cumulative flow diagram's figures: per day, cards per column."""

    range: Range
    kind: str | None
    columns: list[Column]
    days: list[date]
    counts: list[dict[int, int]]


def cumulative_flow(board: Board, rng: Range, kind: str | None = None, *, hist=None) -> Flow:
    """Cards per column at the end of each day of the range (up to today)."""
    tz = ZoneInfo(board.timezone)
    hist = hist if hist is not None else history(board, rng, kind)
    columns = _columns(board.id)
    last = min(rng.last, today_on(board))
    days = [rng.first + timedelta(days=i) for i in range((last - rng.first).days + 1)]
    tracks = [t for t in hist.tracks if kind is None or t.lane_kind == kind]
    counts = rules.cumulative_flow(tracks, [c.id for c in columns], days, tz)
    settled: Counter = Counter()
    for (column, lane_kind), n in hist.settled.items():
        if kind is None or lane_kind == kind:
            settled[column] += n
    return Flow(rng, kind, columns, days, rules.add_counts(counts, settled))


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


def blocked_time(board: Board, rng: Range, *, hist=None, top: int = 10) -> Blocked:
    tz = ZoneInfo(board.timezone)
    hist = hist if hist is not None else history(board, rng)
    now = clock.now()
    per_week = []
    per_card: Counter = Counter()
    for monday in rng.mondays:
        begin = datetime.combine(monday, datetime.min.time(), tzinfo=tz)
        finish = begin + timedelta(weeks=1)
        begin, finish = begin.astimezone(UTC), min(finish.astimezone(UTC), now)
        total = 0.0
        for track in hist.tracks:
            if track.blocks and finish > begin:
                hours = track.blocked_between(begin, finish, now).total_seconds() / 3600
                total += hours
                per_card[track.card_id] += hours
        per_week.append((monday, total))
    longest = [
        BlockedCard(hist.cards[card_id], hours)
        for card_id, hours in per_card.most_common(top)
        if hours > 0
    ]
    start, end = rng.bounds(tz)
    return Blocked(rng, per_week, longest, rules.block_reasons(hist.tracks, start, end))


# -- cycle time, lead time, throughput: the cards' own times -------------------------------


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
    """Cycle and lead time of the cards done in the range, their percentiles per lane kind,
    and throughput per week per lane kind."""

    range: Range
    done: list[Done]
    cycle_percentiles: dict[str, dict[float, float | None]]
    lead_percentiles: dict[str, dict[float, float | None]]
    throughput: list[tuple[date, Counter]]


def _done_tracks(
    board: Board, start: datetime, end: datetime
) -> list[tuple[CardInfo, rules.Track]]:
    lanes = _lane_kinds(board.id)
    rows = db.session.execute(
        select(
            Card.id,
            Card.ref,
            Card.title,
            Card.lane_id,
            Card.created_at,
            Card.started_at,
            Card.done_at,
        )
        .where(
            Card.board_id == board.id,
            Card.status == CardStatus.DONE,
            Card.done_at >= start,
            Card.done_at < end,
        )
        .order_by(Card.done_at, Card.id)
    )
    return [
        (
            CardInfo(r.id, r.ref, r.title, lanes[r.lane_id]),
            rules.Track(
                r.id, lanes[r.lane_id], r.created_at, started_at=r.started_at, done_at=r.done_at
            ),
        )
        for r in rows
    ]


def cycle_times(board: Board, rng: Range) -> Cycle:
    """The cards done in the range: each one's cycle and lead time, percentiles per lane
    kind, and throughput per week."""
    tz = ZoneInfo(board.timezone)
    start, end = rng.bounds(tz)
    pairs = _done_tracks(board, start, end)
    done = []
    cycles: dict[str, list[float]] = {k: [] for k in KINDS}
    leads: dict[str, list[float]] = {k: [] for k in KINDS}
    for info, track in pairs:
        cycle = track.cycle_time
        lead = track.lead_time.total_seconds() / 86400  # type: ignore[union-attr]
        days = None if cycle is None else cycle.total_seconds() / 86400
        done.append(Done(info, track.done_at, days, lead))  # type: ignore[arg-type]
        if days is not None:
            cycles.setdefault(info.lane_kind, []).append(days)
        leads.setdefault(info.lane_kind, []).append(lead)
    weekly = rules.throughput([t for _, t in pairs], rng.mondays, tz)
    return Cycle(
        rng,
        done,
        {k: rules.percentiles(v) for k, v in cycles.items()},
        {k: rules.percentiles(v) for k, v in leads.items()},
        list(zip(rng.mondays, weekly, strict=True)),
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
    percentiles over the last AGING_HISTORY_WEEKS weeks."""

    cards: list[AgingCard]
    percentiles: dict[str, dict[float, float | None]]


def _recent_cycle_times(board: Board) -> dict[str, list[float]]:
    now = clock.now()
    since = now - timedelta(weeks=AGING_HISTORY_WEEKS)
    history: dict[str, list[float]] = {k: [] for k in KINDS}
    for info, track in _done_tracks(board, since, now):
        if track.cycle_time is not None:
            history.setdefault(info.lane_kind, []).append(track.cycle_time.total_seconds() / 86400)
    return history


def aging(board: Board) -> Aging:
    now = clock.now()
    columns = {c.id: c for c in _columns(board.id) if c.kind == ColumnKind.ACTIVE}
    lanes = _lane_kinds(board.id)
    history = _recent_cycle_times(board)
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
    ages = rules.aging(tracks, set(columns), now, history)
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
    return Aging(cards, {k: rules.percentiles(v) for k, v in history.items()})


def aging_marks(board: Board) -> tuple[dict[int, str], datetime | None]:
    """The board tiles' aging marker: for each card in progress older than its lane kind's
    85th percentile cycle time, the marker's words; and when the next card crosses its
    percentile (a kept board grid is good until then)."""
    now = clock.now()
    marks: dict[int, str] = {}
    crossing: datetime | None = None
    for a in aging(board).cards:
        if a.p85 is None:
            continue
        if a.old:
            marks[a.card.id] = (
                f"In progress {fmt_days(a.days)} days: longer than 85% of recent "
                f"{a.card.lane_kind} cards took ({fmt_days(a.p85)} days)"
            )
        else:
            at = now + timedelta(days=a.p85 - a.days)
            crossing = at if crossing is None else min(crossing, at)
    return marks, crossing


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


def where_support_comes_from(board: Board, rng: Range) -> Pareto:
    tz = ZoneInfo(board.timezone)
    start, end = rng.bounds(tz)
    lanes = _lane_kinds(board.id)
    support_lanes = [i for i, k in lanes.items() if k in SUPPORT_KINDS]
    arrived: Counter = Counter()
    for (component,) in db.session.execute(
        select(Card.component).where(
            Card.board_id == board.id,
            Card.lane_id.in_(support_lanes),
            Card.created_at >= start,
            Card.created_at < end,
        )
    ):
        arrived[component or NO_COMPONENT] += 1
    all_lanes = dict(db.session.execute(select(Lane.id, Lane.kind)).all())
    stints, board_cards = reports.stints_between(start, end, all_lanes, board.id)
    credited = working_time.credit(stints, tz, [(start, end)])
    per_card: Counter = Counter()
    for (card_id, kind, _), days in credited.items():
        if card_id in board_cards and kind in SUPPORT_KINDS:
            per_card[card_id] += days
    components = _components_of(list(per_card))
    days: Counter = Counter()
    for card_id, value in per_card.items():
        days[components.get(card_id) or NO_COMPONENT] += value
    cards_rows, cards_behind = rules.pareto(arrived)
    days_rows, days_behind = rules.pareto(days)
    return Pareto(rng, cards_rows, cards_behind, days_rows, days_behind)


def _components_of(card_ids: Sequence[int]) -> dict[int, str]:
    result: dict[int, str] = {}
    for i in range(0, len(card_ids), 500):
        chunk = card_ids[i : i + 500]
        result.update(
            db.session.execute(select(Card.id, Card.component).where(Card.id.in_(chunk))).all()
        )
    return result


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
    tz = ZoneInfo(board.timezone)
    today = today_on(board)
    this_monday = monday_of(today)
    mondays = [this_monday - timedelta(weeks=i) for i in range(rules.FORECAST_WEEKS, 0, -1)]
    start = datetime.combine(mondays[0], datetime.min.time(), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(this_monday, datetime.min.time(), tzinfo=tz).astimezone(UTC)
    lanes = _lane_kinds(board.id)
    support_lanes = [i for i, k in lanes.items() if k in SUPPORT_KINDS]
    created = db.session.execute(
        select(Card.created_at).where(
            Card.board_id == board.id,
            Card.lane_id.in_(support_lanes),
            Card.created_at >= start,
            Card.created_at < end,
        )
    ).scalars()
    counts = rules.weekly_arrivals(created, mondays, tz)
    target = period_to_plan([reports._period(s) for s in reports.sprints_of(board.id)], today)
    period = target.period
    if period is None:
        return Forecast(None, 0, list(zip(mondays, counts, strict=True)))
    weeks_ahead = ((period.end - period.start).days + 1) / 7
    figures = rules.forecast(counts, weeks_ahead, seed=seed)
    return Forecast(period.name, weeks_ahead, list(zip(mondays, counts, strict=True)), figures)
