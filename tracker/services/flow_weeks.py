"""Flow figures per calendar week, stored once a week has ended (issue 15's speed).

The Flow page covers whole weeks (Monday to Sunday in the board's time zone). A finished
week's figures depend only on the history up to its end, so they are computed once from
the history, kept in `flow_week_cache` (as the capacity report keeps its periods in
`report_period_cache`), and the page replays only the running week. A week's figures:
the cumulative flow's count per day, column and lane kind; each card done in it (cycle
and lead time); blocked hours per card and the block reasons begun in it; and support and
expedite arrivals and person-days by component.

A stored week is not used again when what it was computed from changes:
- `basis` (the board's time zone and the active columns of every board), as the report's;
- a change that rewrites the past as flow reads it (flow_rewrite, written in the change's
  own transaction by `note_event`, and by the erasure): a card reopened or moved back out
  of Done (its last done moves) or from one done column to another, a card moved to
  another lane or component (the figures count a card under its lane kind and component
  now), a requester's data erased (a block reason may name them), or an event dated
  before the settled past. Such a change removes the stored weeks that end after the
  card's creation, and the rewrite's row keeps a request that read the history just
  before it from storing what it computed.

tests/test_flow_weeks.py checks that the stored figures equal a fresh computation over
random histories, with reopens, lane moves and erasure among them.
"""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, delete, exists, insert, literal, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracker import clock, database
from tracker.domain import flow as rules
from tracker.domain import working_time
from tracker.domain.periods import monday_of
from tracker.domain.vocabulary import CardStatus, EventKind
from tracker.extensions import db
from tracker.models import Card, FlowRewrite, FlowWeekCache, Lane
from tracker.services import flow_history as read
from tracker.services import reports

WEEK = "week"
AGING = "aging"
# The finished weeks whose cycle times the aging chart and the board's marker compare with.
AGING_HISTORY_WEEKS = 12
# A rewrite spoils what was computed until this long after it: a request that began reading
# before the rewrite's transaction committed stores figures that miss it (the rewrite's time
# is taken before its commit, and no transaction here takes a minute).
RACE = timedelta(minutes=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def moment(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


PARTS = ("cfd", "finished", "blocks", "sources")


@dataclass
class Week:
    """One week's flow figures (see the module's docstring), in four parts: cfd (and
    settled), finished (the cards done), blocks (hours, cards, reasons), sources
    (arrived, days)."""

    monday: date
    # Per day of the week (up to today for the running week): (column id, lane kind) -> cards.
    cfd: list[dict[tuple[int, str], int]] = field(default_factory=list)
    # The cards done before the week's end and done still, by (column id, lane kind): the
    # next week's cumulative flow starts from them.
    settled: dict[tuple[int, str], int] = field(default_factory=dict)
    # (card id, lane kind, done, first started or None, created), in microseconds since the
    # epoch (exact, and quick to read back), by done time.
    done: list[tuple[int, str, int, int | None, int]] = field(default_factory=list)
    blocked_hours: float = 0.0
    blocked_cards: dict[int, float] = field(default_factory=dict)
    # casefolded reason -> (as first written, blocks, first begun)
    reasons: dict[str, tuple[str, int, datetime]] = field(default_factory=dict)
    arrived: dict[str, int] = field(default_factory=dict)  # support + expedite, by component
    days: dict[str, float] = field(default_factory=dict)  # their person-days, by component

    def to_json(self) -> dict[str, Any]:
        return {
            "cfd": {
                "days": [[[c, k, n] for (c, k), n in day.items()] for day in self.cfd],
                "settled": [[c, k, n] for (c, k), n in self.settled.items()],
            },
            # By column: five lists of numbers read back faster than a list per card.
            "finished": [list(column) for column in zip(*self.done, strict=True)]
            if self.done
            else [[], [], [], [], []],
            "blocks": {
                "hours": self.blocked_hours,
                "cards": [[i, h] for i, h in self.blocked_cards.items()],
                "reasons": [[k, s, n, _micros(at)] for k, (s, n, at) in self.reasons.items()],
            },
            "sources": {"arrived": self.arrived, "days": self.days},
        }

    @classmethod
    def from_json(cls, monday: date, data: dict[str, Any]) -> Week:
        week = cls(monday)
        if data.get("cfd") is not None:
            week.cfd = [{(c, k): n for c, k, n in day} for day in data["cfd"]["days"]]
            week.settled = {(c, k): n for c, k, n in data["cfd"]["settled"]}
        if data.get("finished") is not None:
            week.done = list(zip(*data["finished"], strict=True))
        if data.get("blocks") is not None:
            blocked = data["blocks"]
            week.blocked_hours = blocked["hours"]
            week.blocked_cards = {i: h for i, h in blocked["cards"]}
            week.reasons = {k: (s, n, moment(at)) for k, s, n, at in blocked["reasons"]}
        if data.get("sources") is not None:
            week.arrived = dict(data["sources"]["arrived"])
            week.days = dict(data["sources"]["days"])
        return week


def days_of(micros: int) -> float:
    """A span in microseconds, in days (as timedelta.total_seconds() / 86400 gives it)."""
    return micros / 10**6 / 86400


def _bounds(monday: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    begin = datetime.combine(monday, datetime.min.time(), tzinfo=tz)
    end = datetime.combine(monday + timedelta(weeks=1), datetime.min.time(), tzinfo=tz)
    return begin.astimezone(UTC), end.astimezone(UTC)


# -- computing weeks from the history --------------------------------------------------------


def compute(
    board: Any,
    mondays: Sequence[date],
    settled: dict[tuple[int, str], int] | None = None,
    parts: Iterable[str] = PARTS,
) -> list[Week]:
    """The weeks' figures (only `parts` of them) from the history of consecutive Mondays,
    reading their span once. `settled`: the week before's (Week.settled), when known (else
    counted)."""
    if not mondays:
        return []
    tz = ZoneInfo(board.timezone)
    now = clock.now()
    today = now.astimezone(tz).date()
    start, end = _bounds(mondays[0], tz)[0], _bounds(mondays[-1], tz)[1]
    rng = read.Range(len(mondays), mondays[-1], mondays[0], mondays[-1] + timedelta(days=6))
    weeks = {m: Week(m) for m in mondays}
    parts = set(parts)
    if "cfd" not in parts:
        settled = {}  # nothing starts from it: not counted

    hist = None
    if parts & {"cfd", "blocks", "sources"}:
        hist = read.history(board, rng, settled=None if settled is None else Counter(settled))
    if "cfd" in parts and hist is not None:
        _cfd(board, hist, mondays, weeks, today, tz)
    if parts & {"cfd", "finished"}:
        _done(board, hist, weeks, start, end, tz)
    if "blocks" in parts and hist is not None:
        _blocked(hist, weeks, now, tz)
    if "sources" in parts and hist is not None:
        _support(board, hist, mondays, weeks, start, end, tz)
    return [weeks[m] for m in mondays]


def _cfd(board, hist, mondays, weeks, today, tz) -> None:
    """Cumulative flow: each lane kind's tracks swept over the days, plus the cards that
    sat in their done column since before the span."""
    columns = [c.id for c in read._columns(board.id)]
    days = [
        mondays[0] + timedelta(days=i)
        for i in range(len(mondays) * 7)
        if mondays[0] + timedelta(days=i) <= today
    ]
    per_kind = {
        kind: rules.cumulative_flow(
            [t for t in hist.tracks if t.lane_kind == kind], columns, days, tz
        )
        for kind in read.KINDS
    }
    for d, day in enumerate(days):
        counts: dict[tuple[int, str], int] = {}
        for kind in read.KINDS:
            for column, n in per_kind[kind][d].items():
                n += hist.settled.get((column, kind), 0)
                if n:
                    counts[(column, kind)] = n
        weeks[monday_of(day)].cfd.append(counts)


def _done(board, hist, weeks, start, end, tz) -> None:
    """The cards done in each week (their own times), and the done cards at each week's end."""
    running = Counter(hist.settled if hist is not None else {})
    done_places: dict[date, Counter] = defaultdict(Counter)
    for info, track, column in read._done_tracks(board, start, end, places=True):
        monday = monday_of(track.done_at.astimezone(tz).date())
        done_places[monday][(column, info.lane_kind)] += 1
        started = track.started_at
        weeks[monday].done.append(
            (
                info.id,
                info.lane_kind,
                _micros(track.done_at),
                None if started is None else _micros(started),
                _micros(track.created_at),
            )
        )
    for monday, week in weeks.items():
        running.update(done_places[monday])
        week.settled = {place: n for place, n in running.items() if n}


def _blocked(hist, weeks, now, tz) -> None:
    """Hours blocked per card within each week (up to now), reasons of blocks begun in it."""
    for monday, week in weeks.items():
        begin, finish = _bounds(monday, tz)
        finish = min(finish, now)
        for track in hist.tracks:
            if not track.blocks:
                continue
            if finish > begin:
                hours = track.blocked_between(begin, finish, now).total_seconds() / 3600
                if hours > 0:
                    week.blocked_cards[track.card_id] = hours
                    week.blocked_hours += hours
            for since, _, reason in track.blocks:
                text = reason.strip()
                if begin <= since < _bounds(monday, tz)[1] and text:  # begun in the week
                    key = text.casefold()
                    shown, n, first = week.reasons.get(key, (text, 0, since))
                    if since < first:
                        shown, first = text, since
                    week.reasons[key] = (shown, n + 1, first)


def _support(board, hist, mondays, weeks, start, end, tz) -> None:
    """Where support comes from: arrivals and person-days by component."""
    # (Every card created in the span is among the history's: none was done before it.)
    for track in hist.tracks:
        if track.lane_kind in read.SUPPORT_KINDS and start <= track.created_at < end:
            arrived = weeks[monday_of(track.created_at.astimezone(tz).date())].arrived
            name = track.component or read.NO_COMPONENT
            arrived[name] = arrived.get(name, 0) + 1
    all_lanes = dict(db.session.execute(select(Lane.id, Lane.kind)).all())
    stints, board_cards = reports.stints_between(start, end, all_lanes, board.id)
    credited = working_time.credit(stints, tz, [_bounds(m, tz) for m in mondays])
    per_card: dict[tuple[int, int], float] = defaultdict(float)
    for (card_id, kind, period), value in credited.items():
        if card_id in board_cards and kind in read.SUPPORT_KINDS:
            per_card[(card_id, period)] += value
    components = read._components_of(sorted({card for card, _ in per_card}))
    for (card_id, period), value in per_card.items():
        spent = weeks[mondays[period]].days
        name = components.get(card_id) or read.NO_COMPONENT
        spent[name] = spent.get(name, 0.0) + value


# -- stored weeks ---------------------------------------------------------------------------


def _runs(some: Sequence[date]) -> list[list[date]]:
    """Consecutive Mondays grouped, so a gap is never read."""
    runs: list[list[date]] = []
    for monday in some:
        if runs and monday - runs[-1][-1] == timedelta(weeks=1):
            runs[-1].append(monday)
        else:
            runs.append([monday])
    return runs


def _unspoiled():
    """No rewrite spoiled the row: none since before its end, recorded after its reading."""
    return ~exists().where(
        or_(FlowRewrite.board_id == FlowWeekCache.board_id, FlowRewrite.board_id.is_(None)),
        FlowRewrite.since < FlowWeekCache.ends_at,
        FlowRewrite.at > FlowWeekCache.computed_at,
    )


def _stored(
    board: Any, part: str, mondays: Sequence[date], basis: str, columns: Iterable[str]
) -> dict[date, dict[str, Any]]:
    """The usable stored rows of these weeks, in one statement: {Monday: {column: JSON}}."""
    names = list(columns)
    rows = db.session.execute(
        select(FlowWeekCache.week_on, *(getattr(FlowWeekCache, name) for name in names)).where(
            FlowWeekCache.board_id == board.id,
            FlowWeekCache.part == part,
            FlowWeekCache.basis == basis,
            FlowWeekCache.week_on >= min(mondays),
            FlowWeekCache.week_on <= max(mondays),
            _unspoiled(),
        )
    ).all()
    return {row.week_on: {name: getattr(row, name) for name in names} for row in rows}


def _store(board_id: int, part: str, basis: str, rows: list[tuple[date, datetime, dict]], began):
    """Keep figures of settled weeks, in a write transaction of their own (the page is a
    GET; its reads ran read-only), replacing any spoiled row of the same week. What the
    request loaded stays loaded (the board page goes on with its lanes and columns)."""
    session = db.session()
    session.expire_on_commit = False
    try:
        _write(board_id, part, basis, rows, began)
    finally:
        session.expire_on_commit = True


def _write(board_id: int, part: str, basis: str, rows: list[tuple[date, datetime, dict]], began):
    db.session.commit()  # end the read
    with database.writing():
        for monday, ends_at, figures in rows:
            db.session.execute(
                delete(FlowWeekCache).where(
                    FlowWeekCache.board_id == board_id,
                    FlowWeekCache.part == part,
                    FlowWeekCache.week_on == monday,
                    FlowWeekCache.basis == basis,
                )
            )
            db.session.add(
                FlowWeekCache(
                    board_id=board_id,
                    part=part,
                    week_on=monday,
                    ends_at=ends_at,
                    basis=basis,
                    computed_at=began,
                    **figures,
                )
            )
        try:
            db.session.commit()
        except IntegrityError:  # another request stored the same week just now
            db.session.rollback()


def weeks(board: Any, mondays: Sequence[date], parts: Iterable[str] = PARTS) -> list[Week]:
    """Each week's figures (`parts` of them): finished weeks from the stored figures,
    computing and storing those missing (whole); the running week always from the history;
    weeks to come empty."""
    if not mondays:
        return []
    parts = [p for p in PARTS if p in set(parts)]
    tz = ZoneInfo(board.timezone)
    began = clock.now()
    today = began.astimezone(tz).date()
    settled = [m for m in mondays if _bounds(m, tz)[1] + reports.SETTLED <= began]
    basis = reports._basis(board)
    found: dict[date, Week] = {}
    if settled:
        for monday, figures in _stored(board, WEEK, settled, basis, parts).items():
            found[monday] = Week.from_json(monday, figures)
        missing = [m for m in settled if m not in found]
        computed = [w for run in _runs(missing) for w in compute(board, run)]
        found.update((w.monday, w) for w in computed)
        if computed:
            _store(
                board.id,
                WEEK,
                basis,
                [(w.monday, _bounds(w.monday, tz)[1], w.to_json()) for w in computed],
                began,
            )
    live = [m for m in mondays if m not in found and m <= today]
    for run in _runs(live):
        before = None
        if "cfd" in parts:
            before = found.get(run[0] - timedelta(weeks=1)) or _week_before(
                board, run[0], basis, began
            )
        found.update((w.monday, w) for w in compute(board, run, before and before.settled, parts))
    return [found.get(m, Week(m)) for m in mondays]


def _week_before(board: Any, monday: date, basis: str, began: datetime) -> Week | None:
    """The stored week before `monday` (for where its cumulative flow starts), if any."""
    earlier = monday - timedelta(weeks=1)
    tz = ZoneInfo(board.timezone)
    if _bounds(earlier, tz)[1] + reports.SETTLED > began:
        return None
    figures = _stored(board, WEEK, [earlier], basis, ["cfd"]).get(earlier)
    return None if figures is None else Week.from_json(earlier, figures)


# -- the aging percentiles --------------------------------------------------------------------


@dataclass(frozen=True)
class Percentiles:
    """Each lane kind's cycle-time percentiles over the AGING_HISTORY_WEEKS finished weeks
    before this one, how many cards they come from, and the 85th where there are enough
    (rules.AGING_MIN_HISTORY) to flag a card against."""

    percentiles: dict[str, dict[float, float | None]]
    counts: dict[str, int]

    @property
    def p85(self) -> dict[str, float]:
        return {
            kind: qs[0.85]  # type: ignore[misc]
            for kind, qs in self.percentiles.items()
            if self.counts.get(kind, 0) >= rules.AGING_MIN_HISTORY
        }


def compute_percentiles(board: Any, monday: date) -> Percentiles:
    """From the cards done in the AGING_HISTORY_WEEKS weeks before `monday`: their own
    start and done times, one narrow read."""
    tz = ZoneInfo(board.timezone)
    start = _bounds(monday - timedelta(weeks=AGING_HISTORY_WEEKS), tz)[0]
    end = _bounds(monday, tz)[0]
    lanes = dict(db.session.execute(select(Lane.id, Lane.kind)).all())
    cycles: dict[str, list[float]] = {}
    for lane_id, started, done in db.session.execute(
        select(Card.lane_id, Card.started_at, Card.done_at).where(
            Card.board_id == board.id,
            Card.status == CardStatus.DONE,
            Card.done_at >= start,
            Card.done_at < end,
        )
    ):
        if started is not None:
            cycles.setdefault(lanes[lane_id], []).append((done - started).total_seconds() / 86400)
    return Percentiles(
        {k: rules.percentiles(v) for k, v in cycles.items()},
        {k: len(v) for k, v in cycles.items()},
    )


@functools.cache
def _aging_statement() -> Any:
    """The board's stored percentiles of a week, if unspoiled: composed once (the board page
    reads it on every render of its grid; composing costs more than running it)."""
    return select(FlowWeekCache.finished).where(
        FlowWeekCache.board_id == bindparam("board_id"),
        FlowWeekCache.part == AGING,
        FlowWeekCache.week_on == bindparam("week_on"),
        FlowWeekCache.basis == bindparam("basis"),
        _unspoiled(),
    )


def aging_percentiles(board: Any) -> Percentiles:
    """The percentiles aging compares with (compute_percentiles), stored per board and week:
    the board page reads one small row (one statement)."""
    tz = ZoneInfo(board.timezone)
    began = clock.now()
    monday = monday_of(began.astimezone(tz).date())
    basis = board.timezone  # the cards' own times, by the board's weeks: nothing else
    params = {"board_id": board.id, "week_on": monday, "basis": basis}
    stored = db.session.execute(_aging_statement(), params).scalar()
    if stored is not None:
        return Percentiles(
            {k: dict(zip(rules.QUANTILES, v, strict=True)) for k, v in stored["q"].items()},
            stored["n"],
        )
    figures = compute_percentiles(board, monday)
    _store(
        board.id,
        AGING,
        basis,
        [
            (
                monday,
                _bounds(monday, tz)[0],
                {
                    "finished": {
                        "q": {
                            k: [v[q] for q in rules.QUANTILES]
                            for k, v in figures.percentiles.items()
                        },
                        "n": figures.counts,
                    }
                },
            )
        ],
        began,
    )
    return figures


# -- what rewrites the past ------------------------------------------------------------------


def _rewrites(values: dict[str, Any]) -> bool:
    """Whether a card's event changes how flow reads its past (a new card has no past)."""
    if values["kind"] == EventKind.CREATED:
        return False
    changes = values["changes"] or {}
    status = changes.get("status")
    return (
        (status is not None and status[0] in (CardStatus.DONE, CardStatus.CLOSED))
        or "lane_id" in changes
        or "component" in changes
    )


def _between_done_columns(session: Session, values: dict[str, Any]) -> bool:
    """Whether the event moved a done card from one done column to another (a board may
    end in several, such as Done and Released). Done cards are counted by column from the
    stored weeks on, so such a move rewrites them; its change set names only the column.
    The card is the one the change just wrote, so the session has it: no statement."""
    changes = values["changes"] or {}
    if "column_id" not in changes or "status" in changes:
        return False
    card = session.get(Card, values["card_id"])
    return card is not None and card.status == CardStatus.DONE


def note_event(session: Session, _event_id: int, values: dict[str, Any]) -> None:
    """The store's "history event written" listener: an event that rewrites the board's
    past (see the module's docstring) forgets the stored weeks it spoils, in its own
    transaction. Nothing for the others."""
    now = clock.now()
    if values["at"] < now - reports.SETTLED:
        forget(session, None, values["at"], now)
    elif _rewrites(values) or _between_done_columns(session, values):
        forget(session, values["board_id"], values["card_id"], now)


def forget(session: Session, board_id: int | None, what: int | datetime, now: datetime) -> None:
    """Record a rewrite of a board's past (every board's: board_id None) since a moment, or
    since a card's creation (`what` a card id), and remove the stored weeks it spoils. The
    rewrite's `at` is RACE after `now`: figures computed before then are not used."""
    connection = session.connection()
    now = now + RACE
    if isinstance(what, datetime):
        connection.execute(insert(FlowRewrite).values(board_id=board_id, since=what, at=now))
        since: Any = what
    else:
        created = select(Card.created_at).where(Card.id == what).scalar_subquery()
        connection.execute(
            insert(FlowRewrite).from_select(
                ["board_id", "since", "at"],
                select(literal(board_id), Card.created_at, literal(now, FlowRewrite.at.type)).where(
                    Card.id == what
                ),
            )
        )
        since = created
    query = delete(FlowWeekCache).where(FlowWeekCache.ends_at > since)
    if board_id is not None:
        query = query.where(FlowWeekCache.board_id == board_id)
    connection.execute(query)


def forget_cards(session: Session, card_ids: Iterable[tuple[int, int]]) -> None:
    """The erasure's rewrite: each (board id, card id) erased."""
    now = clock.now()
    for board_id, card_id in card_ids:
        forget(session, board_id, card_id, now)
