"""The capacity report ("yesterday's weather"), its settings, and the sprints it runs on.

The report reads only the span of the periods it shows (and of the allowance's window):
the cards that may have been worked on in it, their history events, the cards done in it,
and the WIP overrides recorded in it. The domain does the arithmetic: tracker.domain.periods,
.working_time (person-days), .allowance and .emergency_figures.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, union_all
from sqlalchemy.exc import IntegrityError

from tracker import clock, database
from tracker.domain import allowance as weather
from tracker.domain import rotation as duty_rules
from tracker.domain.allowance import Done, Load
from tracker.domain.emergency_figures import Emergency, ExpediteRow, Step, expedite_summary
from tracker.domain.emergency_figures import emergency as emergency_of
from tracker.domain.errors import InvalidRequest
from tracker.domain.periods import (
    FIRST_DAY,
    LAST_DAY,
    MEASURES,
    BadSprint,
    Period,
    check_sprint,
    weeks,
)
from tracker.domain.policy import Action
from tracker.domain.rotation import Away, Cover, PersonDuty, Term
from tracker.domain.vocabulary import CardStatus, ColumnKind, EventKind, LaneKind, Measure
from tracker.domain.working_time import Change, Stint, stints_from_events
from tracker.extensions import db
from tracker.models import (
    Board,
    BoardColumn,
    Card,
    CardEvent,
    Lane,
    ReportPeriodCache,
    ReportSettings,
    Rotation,
    RotationAway,
    RotationPerson,
    RotationTerm,
    Sprint,
    User,
)
from tracker.services import audit, desk
from tracker.services import incidents as incident_service
from tracker.services.common import Actor, require_lead, row_of_board, today_on
from tracker.store import bump_version, lock_board

# Events that can change what a stint depends on: column, assignee, status, lane.
STINT_EVENTS = (
    EventKind.CREATED,
    EventKind.MOVED,
    EventKind.PULLED,
    EventKind.ASSIGNED,
    EventKind.ESCALATED,
    EventKind.DEESCALATED,
    EventKind.CLOSED,
    EventKind.REOPENED,
)
RANGES = (6, 12, 26, 52)
DEFAULT_RANGE = 12


# -- settings -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    window_size: int = weather.DEFAULT_WINDOW
    measure: str = Measure.PERSON_DAYS
    threshold: int = weather.DEFAULT_THRESHOLD


def settings_of(board_id: int) -> Settings:
    """The board's report settings, or the defaults when the lead never changed them."""
    row = db.session.get(ReportSettings, board_id)
    if row is None:
        return Settings()
    return Settings(row.window_size, row.measure, row.threshold)


def update_settings(
    board_id: int, actor: Actor, *, window_size: int, measure: str, threshold: int
) -> Settings:
    """Save N (finished periods averaged), the measure, and the alarm threshold."""
    require_lead(actor, "the report settings and sprints", Action.MANAGE_SPRINTS)
    if not 1 <= window_size <= 12:
        raise InvalidRequest("Average over 1 to 12 finished periods.")
    if measure not in MEASURES:
        raise InvalidRequest("Measure in person-days, points or cards.")
    if not 1 <= threshold <= 100:
        raise InvalidRequest("The alarm threshold is a percentage from 1 to 100.")
    row = db.session.get(ReportSettings, board_id)
    if row is None:
        row = ReportSettings(board_id=board_id)
        db.session.add(row)
    row.window_size, row.measure, row.threshold = window_size, measure, threshold
    db.session.commit()
    return Settings(window_size, measure, threshold)


# -- sprints ------------------------------------------------------------------------------


def sprints_of(board_id: int, *, every: bool = False) -> list[Sprint]:
    """A board's sprints by first day. Only those within the dates the sprint form takes
    (tracker.domain.periods), unless `every`: a row from before the form refused year 1 or 9999
    would run the report's period arithmetic off the calendar, yet a lead must see it on
    the sprints page to delete it."""
    query = select(Sprint).where(Sprint.board_id == board_id)
    if not every:
        query = query.where(Sprint.start_on >= FIRST_DAY, Sprint.end_on <= LAST_DAY)
    return list(db.session.execute(query.order_by(Sprint.start_on, Sprint.id)).scalars())


def _period(sprint: Sprint) -> Period:
    return Period(
        sprint.name,
        sprint.start_on,
        sprint.end_on,
        sprint.capacity_days,
        sprint.capacity_points,
        sprint.id,
    )


@dataclass
class SprintInput:
    name: str
    start_on: date
    end_on: date
    capacity_days: float
    capacity_points: float | None


def _checked(board_id: int, sprint_id: int | None, data: SprintInput) -> None:
    name = data.name.strip()
    if not name or len(name) > 60:
        raise BadSprint("Give the sprint a name of up to 60 characters.", "name")
    others = [_period(s) for s in sprints_of(board_id) if s.id != sprint_id]
    if any(o.name == name for o in others):
        raise BadSprint(f"There is already a sprint called {name}.", "name")
    check_sprint(data.start_on, data.end_on, data.capacity_days, data.capacity_points, others)


def add_sprint(board_id: int, actor: Actor, data: SprintInput) -> Sprint:
    """A new sprint for the board, refused when its dates are impossible or overlap."""
    require_lead(actor, "the report settings and sprints", Action.MANAGE_SPRINTS)
    board = lock_board(board_id)
    _checked(board_id, None, data)
    sprint = Sprint(board_id=board_id, created_at=clock.now())
    _fill(sprint, data)
    db.session.add(sprint)
    db.session.flush()
    _audit("sprint.added", actor, sprint, new=_described(sprint))
    bump_version(board)  # the board shows the period it is in (its done cells, days left)
    db.session.commit()
    return sprint


def get_sprint(board_id: int, sprint_id: Any) -> Sprint:
    return row_of_board(Sprint, board_id, sprint_id, "That sprint is not on this board.")


def update_sprint(board_id: int, actor: Actor, sprint_id: Any, data: SprintInput) -> Sprint:
    """Change a sprint's name, dates or planned capacity."""
    require_lead(actor, "the report settings and sprints", Action.MANAGE_SPRINTS)
    board = lock_board(board_id)
    sprint = get_sprint(board_id, sprint_id)
    _checked(board_id, sprint.id, data)
    old = _described(sprint)
    _fill(sprint, data)
    new = _described(sprint)
    if new != old:
        _audit("sprint.changed", actor, sprint, old=old, new=new)
        bump_version(board)
    db.session.commit()
    return sprint


def delete_sprint(board_id: int, actor: Actor, sprint_id: Any) -> None:
    """Remove a sprint; its weeks then count toward no sprint (history is untouched)."""
    require_lead(actor, "the report settings and sprints", Action.MANAGE_SPRINTS)
    board = lock_board(board_id)
    sprint = get_sprint(board_id, sprint_id)
    _audit("sprint.removed", actor, sprint, old=_described(sprint))
    db.session.delete(sprint)
    bump_version(board)
    db.session.commit()


def _described(sprint: Sprint) -> dict[str, Any]:
    """A sprint as the audit log keeps it: name, dates and planned capacity."""
    return {
        "name": sprint.name,
        "start": sprint.start_on.isoformat(),
        "end": sprint.end_on.isoformat(),
        "person_days": sprint.capacity_days,
        "points": sprint.capacity_points,
    }


def _audit(action: str, actor: Actor, sprint: Sprint, **detail: dict[str, Any]) -> None:
    audit.record(
        action,
        actor_id=actor.id,
        address=actor.address,
        board_id=sprint.board_id,
        target_type="sprint",
        target_id=sprint.id,
        detail=detail,
    )


def _fill(sprint: Sprint, data: SprintInput) -> None:
    sprint.name = data.name.strip()
    sprint.start_on, sprint.end_on = data.start_on, data.end_on
    sprint.capacity_days, sprint.capacity_points = data.capacity_days, data.capacity_points


# -- the report ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FairnessRow:
    """One person's share of the rotation over the last six months."""

    name: str
    terms: int
    on_days: float
    off_days: float
    interruptions: int


@dataclass(frozen=True)
class RotationFigures:
    """The support rotation in the report: the next period's cover beside yesterday's
    weather (person-days; None when no period is planned), and fairness per person."""

    cover: Cover | None
    fairness: list[FairnessRow]
    names: dict[int, str]


@dataclass
class Report:
    """Everything the report page, the chart and the CSV show."""

    board: Board
    settings: Settings
    today: date
    by_sprint: bool
    loads: list[Load]  # the periods shown, oldest first
    expedite: list[ExpediteRow]
    allowance: weather.Allowance
    headline: weather.Headline  # whether there is a figure, and for which period
    count: int
    until: date
    rotation: RotationFigures | None = None
    incidents: incident_service.ReportSection | None = None
    # Per period shown: the share of its requests answered and resolved within their
    # response targets, per severity (services.desk.within_targets).
    targets: list = field(default_factory=list)

    @property
    def measure(self) -> str:
        return self.settings.measure

    @property
    def next_period(self) -> Period | None:
        """The period the allowance plans (the running sprint when headline.fallback)."""
        return self.headline.target

    @property
    def unit(self) -> str:
        return MEASURES[self.settings.measure]


def _periods(board: Board, today: date, count: int, until: date) -> tuple[bool, list, list, Any]:
    """(by sprint?, periods shown, finished periods for the window, the period to plan)."""
    sprints = [_period(s) for s in sprints_of(board.id)]
    target = weather.period_to_plan(sprints, today)
    if sprints:
        shown = [p for p in sprints if p.start <= until][-count:]
        finished = [p for p in sprints if p.finished(today)]
        return True, shown, finished, target
    shown = weeks(until, count)
    finished = weeks(today - timedelta(days=7), 12)
    return False, shown, finished, target


def build_report(board: Board, *, count: int = DEFAULT_RANGE, until: date | None = None) -> Report:
    """The report for the `count` periods up to the one containing `until` (default today)."""
    settings = settings_of(board.id)
    today = today_on(board)
    until = until or today
    by_sprint, shown, finished, target = _periods(board, today, count, until)
    window = finished[-settings.window_size :]
    tz = ZoneInfo(board.timezone)
    loaded = {(load.period.start, load.period.end): load for load in cached_loads(board, shown)}
    missing = [p for p in window if (p.start, p.end) not in loaded]
    for load in cached_loads(board, missing):
        loaded[(load.period.start, load.period.end)] = load
    planned = target.period.planned(settings.measure) if target.period else None
    allowance = weather.allowance(
        [loaded[(p.start, p.end)] for p in window],
        settings.window_size,
        settings.measure,
        planned,
        settings.threshold,
    )
    window_loads = [loaded[(p.start, p.end)] for p in window]
    headline = weather.headline(allowance, target)
    figures = _rotation_figures(board, today, by_sprint, target, window_loads, settings, loaded)
    if (
        figures is not None
        and figures.cover is not None
        and settings.measure == Measure.PERSON_DAYS
        and headline.kind == weather.FIGURE
    ):
        # The plan holds back the larger of the rotation's cover and yesterday's weather.
        cover = figures.cover
        headline = replace(headline, hold_back=cover.held_back, left=cover.feature_capacity)
    return Report(
        board=board,
        settings=settings,
        today=today,
        by_sprint=by_sprint,
        loads=[loaded[(p.start, p.end)] for p in shown],
        expedite=expedite_summary(shown, tz, emergencies(board, shown)),
        allowance=allowance,
        headline=headline,
        count=count,
        until=until,
        rotation=figures,
        incidents=incident_service.report_section(board, shown),
        targets=_targets(board, shown, tz),
    )


def _targets(board: Board, shown: Sequence[Period], tz: ZoneInfo) -> list:
    """(period, its shares within target) for the periods shown."""
    bounds = [period.bounds(tz) for period in shown]
    return list(zip(shown, desk.within_targets(board, bounds, clock.now()), strict=True))


def _rotation_figures(
    board: Board,
    today: date,
    by_sprint: bool,
    target: weather.Target,
    window: list[Load],
    settings: Settings,
    loaded: dict[tuple[date, date], Load],
) -> RotationFigures | None:
    """The rotation's cover for the period to plan, and fairness over the last six months
    (from the loads already `loaded`, reading only those missing); None for a board that
    runs no rotation."""
    row = db.session.get(Rotation, board.id)
    if row is None or not row.enabled:
        return None
    cover = None
    period = target.period
    if period is not None:
        away = [
            Away(a.user_id, a.start_on, a.end_on)
            for a in db.session.execute(
                select(RotationAway).where(RotationAway.board_id == board.id)
            ).scalars()
        ]
        days = duty_rules.cover_days(
            rotation_terms(board.id, period.start, period.end), away, period.start, period.end
        )
        in_days = weather.allowance(
            window, settings.window_size, Measure.PERSON_DAYS, None, settings.threshold
        )
        cover = Cover(days, in_days.average, period.planned_days)
    since = today - timedelta(days=duty_rules.FAIRNESS_DAYS)
    if by_sprint:
        recent = [
            p
            for p in (_period(s) for s in sprints_of(board.id))
            if since <= p.end and p.start <= today
        ]
    else:
        recent = weeks(today, duty_rules.FAIRNESS_DAYS // 7 + 1)
    missing = [p for p in recent if (p.start, p.end) not in loaded]
    for load in cached_loads(board, missing):
        loaded[(load.period.start, load.period.end)] = load
    per_person: dict[int, PersonDuty] = {}
    for load in (loaded[(p.start, p.end)] for p in recent):
        for person, duty in load.duty.items():
            total = per_person.setdefault(person, PersonDuty())
            total.on_days += duty.on_days
            total.off_days += duty.off_days
            total.interruptions += duty.interruptions
    terms = [t for t in rotation_terms(board.id, since, today) if t.person is not None]
    counted: dict[int, int] = {}
    for term in terms:
        counted[term.person] = counted.get(term.person, 0) + 1
    pool = db.session.execute(
        select(RotationPerson.user_id).where(RotationPerson.board_id == board.id)
    ).scalars()
    people = set(per_person) | set(counted) | set(pool)
    names = dict(db.session.execute(select(User.id, User.name).where(User.id.in_(people))).all())
    fairness = sorted(
        (
            FairnessRow(
                names.get(person, "someone removed"),
                counted.get(person, 0),
                per_person.get(person, PersonDuty()).on_days,
                per_person.get(person, PersonDuty()).off_days,
                per_person.get(person, PersonDuty()).interruptions,
            )
            for person in people
        ),
        key=lambda row: row.name.casefold(),
    )
    return RotationFigures(cover, fairness, names)


def _span(periods: Sequence[Period], tz: ZoneInfo) -> tuple[datetime, datetime]:
    return periods[0].bounds(tz)[0], periods[-1].bounds(tz)[1]


# A finished period's figures are stored once its end is this far in the past: every
# change recorded in it has been committed by then.
SETTLED = timedelta(hours=1)


def _basis(board: Board) -> str:
    """What a period's figures depend on besides the history: the board's time zone and the
    active columns of every board (a person's time is shared across boards)."""
    active = db.session.execute(
        select(BoardColumn.id).where(BoardColumn.kind == ColumnKind.ACTIVE).order_by(BoardColumn.id)
    ).scalars()
    text = board.timezone + "|" + ",".join(str(i) for i in active)
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def _load_json(load: Load) -> dict[str, Any]:
    return {
        "days": load.days,
        "cards": load.cards,
        "points": load.points,
        "unestimated": load.unestimated,
        "overrides": load.overrides,
        "duty": {
            str(person): [d.on_days, d.off_days, d.interruptions] for person, d in load.duty.items()
        },
    }


def _stored_load(period: Period, stored: dict[str, Any]) -> Load:
    """A period's load from its stored figures (_load_json)."""
    values = dict(stored)
    duty = values.pop("duty", {})
    load = Load(period, **values)
    load.duty = {int(person): PersonDuty(*figures) for person, figures in duty.items()}
    return load


def _store(board_id: int, basis: str, loads: list[Load], now: datetime) -> None:
    """Keep settled periods' figures. The report is a page (GET): its reads ran in a
    read-only transaction, so the figures are written in a write transaction of their own."""
    db.session.commit()  # end the read
    with database.writing():
        db.session.add_all(
            ReportPeriodCache(
                board_id=board_id,
                start_on=load.period.start,
                end_on=load.period.end,
                basis=basis,
                load=_load_json(load),
                computed_at=now,
            )
            for load in loads
        )
        try:
            db.session.commit()
        except IntegrityError:  # another request stored the same figures just now
            db.session.rollback()


def cached_loads(board: Board, periods: Sequence[Period]) -> list[Load]:
    """Each period's load: settled (finished) periods from the stored figures, computing and
    storing those missing; the running period, and any later, always from the history.

    Stored figures are what compute_loads gives, so the page reads the same numbers either
    way (tests/test_reports_cache.py checks this over random histories).
    """
    if not periods:
        return []
    tz = ZoneInfo(board.timezone)
    now = clock.now()
    settled = [p for p in periods if p.bounds(tz)[1] + SETTLED <= now]
    basis = _basis(board)
    stored = {
        (row.start_on, row.end_on): row.load
        for row in db.session.execute(
            select(ReportPeriodCache).where(
                ReportPeriodCache.board_id == board.id,
                ReportPeriodCache.basis == basis,
                ReportPeriodCache.start_on >= periods[0].start,
                ReportPeriodCache.end_on <= periods[-1].end,
            )
        ).scalars()
    }
    result: dict[tuple[date, date], Load] = {}
    for p in settled:
        if (p.start, p.end) in stored:
            result[(p.start, p.end)] = _stored_load(p, stored[(p.start, p.end)])
    missing = [p for p in settled if (p.start, p.end) not in result]
    if missing:
        computed = list(_compute_in_runs(board, missing, periods))
        for load in computed:
            result[(load.period.start, load.period.end)] = load
        _store(board.id, basis, computed, now)
    live = [p for p in periods if (p.start, p.end) not in result]
    for load in _compute_in_runs(board, live, periods):
        result[(load.period.start, load.period.end)] = load
    return [result[(p.start, p.end)] for p in periods]


def _compute_in_runs(board: Board, some: Sequence[Period], all_: Sequence[Period]) -> list[Load]:
    """compute_loads over runs of neighbouring periods, so a gap is never read."""
    index = {(p.start, p.end): i for i, p in enumerate(all_)}
    runs: list[list[Period]] = []
    for p in some:
        if runs and index[(p.start, p.end)] == index[(runs[-1][-1].start, runs[-1][-1].end)] + 1:
            runs[-1].append(p)
        else:
            runs.append([p])
    return [load for run in runs for load in compute_loads(board, run)]


def compute_loads(board: Board, periods: Sequence[Period]) -> list[Load]:
    """Each period's load, from the history of the span the periods cover."""
    if not periods:
        return []
    tz = ZoneInfo(board.timezone)
    start, end = _span(periods, tz)
    lanes = dict(db.session.execute(select(Lane.id, Lane.kind)).all())
    stints, board_cards = stints_between(start, end, lanes, board.id)
    done = [
        Done(row.id, lanes[row.lane_id], row.done_at, row.estimate)
        for row in db.session.execute(
            select(Card.id, Card.lane_id, Card.done_at, Card.estimate).where(
                Card.board_id == board.id,
                Card.status == CardStatus.DONE,
                Card.done_at >= start,
                Card.done_at < end,
            )
        )
    ]
    overrides = db.session.execute(
        select(CardEvent.at).where(
            CardEvent.board_id == board.id,
            CardEvent.at >= start,
            CardEvent.at < end,
            CardEvent.kind == EventKind.WIP_OVERRIDE,
        )
    ).scalars()
    terms = rotation_terms(board.id, periods[0].start, periods[-1].end)
    return weather.loads(periods, tz, stints, done, overrides, cards=board_cards, terms=terms)


def rotation_terms(board_id: int, start: date, end: date) -> list[Term]:
    """The board's support rotation terms that overlap start..end (both days included)."""
    rows = db.session.execute(
        select(RotationTerm).where(
            RotationTerm.board_id == board_id,
            RotationTerm.start_on <= end,
            RotationTerm.end_on >= start,
        )
    ).scalars()
    return [Term(t.seat, t.start_on, t.end_on, t.user_id) for t in rows]


def stints_between(
    start: datetime, end: datetime, lanes: dict[int, str], board_id: int
) -> tuple[list[Stint], set[int]]:
    """Every stint, on any board, that may overlap [start, end): a person's time is shared
    among all the cards they hold. Reads the cards started before `end` that were still
    open, or were done or closed after `start`, and only their stint-changing events.
    Returns the stints and the ids of the cards among them that are board_id's."""
    now = clock.now()
    active = set(
        db.session.execute(
            select(BoardColumn.id).where(BoardColumn.kind == ColumnKind.ACTIVE)
        ).scalars()
    )
    board_ids = list(db.session.execute(select(Board.id)).scalars())
    # Three index-friendly pieces (board, status, done time) instead of one OR over all cards.
    on_boards = Card.board_id.in_(board_ids)
    candidates = union_all(
        select(Card.id).where(on_boards, Card.status == CardStatus.OPEN, Card.started_at < end),
        select(Card.id).where(
            on_boards, Card.status == CardStatus.DONE, Card.done_at >= start, Card.started_at < end
        ),
        select(Card.id).where(
            on_boards,
            Card.status == CardStatus.CLOSED,
            Card.closed_at >= start,
            Card.started_at < end,
        ),
    )
    rows = db.session.execute(
        select(CardEvent.card_id, CardEvent.board_id, CardEvent.at, CardEvent.changes)
        .where(
            CardEvent.card_id.in_(candidates),
            CardEvent.kind.in_(STINT_EVENTS),
            CardEvent.at < end,
        )
        .order_by(CardEvent.card_id, CardEvent.id)
    )
    board_cards: set[int] = set()

    def changes() -> Iterable[Change]:
        for row in rows:
            if row.board_id == board_id:
                board_cards.add(row.card_id)
            yield Change(row.card_id, row.at, row.changes)

    stints = stints_from_events(changes(), active, lanes, until=min(now, end))
    return [s for s in stints if s.end > start], board_cards


def emergencies(board: Board, periods: Sequence[Period]) -> list[Emergency]:
    """The board's expedite cards that may have opened in the periods, with the time
    someone started on them and the time they were done (the rule:
    tracker.domain.emergency_figures). An emergency opens at its creation or its first
    escalation, so those are the expedite cards created in the span and the cards
    escalated in it. Read from the events' column fields only, so the report never
    decodes these cards' change sets.
    """
    if not periods:
        return []
    tz = ZoneInfo(board.timezone)
    start, end = _span(periods, tz)
    expedite = select(Lane.id).where(Lane.board_id == board.id, Lane.kind == LaneKind.EXPEDITE)
    escalated = set(
        db.session.execute(
            select(CardEvent.card_id).where(
                CardEvent.board_id == board.id,
                CardEvent.at >= start,
                CardEvent.at < end,
                CardEvent.kind == EventKind.ESCALATED,
            )
        ).scalars()
    )
    columns = (Card.id, Card.created_at, Card.done_at, Card.status)
    cards = {
        row.id: row
        for row in db.session.execute(
            select(*columns).where(
                Card.lane_id == expedite.scalar_subquery(),
                Card.board_id == board.id,
                Card.created_at >= start,
                Card.created_at < end,
            )
        )
    }
    missing = list(escalated - set(cards))
    for i in range(0, len(missing), 500):
        for row in db.session.execute(select(*columns).where(Card.id.in_(missing[i : i + 500]))):
            cards[row.id] = row
    if not cards:
        return []
    active = set(
        db.session.execute(
            select(BoardColumn.id).where(
                BoardColumn.board_id == board.id, BoardColumn.kind == ColumnKind.ACTIVE
            )
        ).scalars()
    )
    history: dict[int, list[Step]] = {card_id: [] for card_id in cards}
    for row in db.session.execute(
        select(CardEvent.card_id, CardEvent.kind, CardEvent.at, CardEvent.to_column_id)
        .where(
            CardEvent.card_id.in_(list(cards)),
            or_(CardEvent.kind == EventKind.ESCALATED, CardEvent.to_column_id.is_not(None)),
        )
        .order_by(CardEvent.card_id, CardEvent.id)
    ):
        history[row.card_id].append(Step(row.kind, row.at, row.to_column_id))
    return [
        emergency_of(card_id, row.created_at, row.status, row.done_at, history[card_id], active)
        for card_id, row in cards.items()
    ]
