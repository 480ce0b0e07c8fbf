"""What the flow figures read of a board (issue 15): its columns and lanes, the cards that
existed in a range replayed from their history (tracker.domain.flow.replay), and the cards
done in a span with their own times. tracker.services.flow_weeks computes each week's
figures from these; tracker.services.flow puts the weeks together for the Flow page."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, union_all

from tracker.domain import flow as rules
from tracker.domain.periods import monday_of
from tracker.domain.vocabulary import CardStatus, ColumnKind, EventKind, LaneKind
from tracker.extensions import db
from tracker.models import Board, BoardColumn, Card, CardEvent, Lane

KINDS = (LaneKind.EXPEDITE, LaneKind.SUPPORT, LaneKind.FEATURE)
SUPPORT_KINDS = (LaneKind.EXPEDITE, LaneKind.SUPPORT)
RANGES = (4, 8, 12, 26, 52)
DEFAULT_RANGE = 12
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


def history(
    board: Board, rng: Range, kind: str | None = None, *, settled: Counter | None = None
) -> History:
    """Replay the cards that existed in the range (created before its end, not done or
    closed before its start), reading only their column, status and blocked events.
    `settled`: the cards done before the range by (column id, lane kind), when known."""
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
    if settled is not None:
        infos = {i: CardInfo(i, r.ref, r.title, lanes[r.lane_id]) for i, r in cards.items()}
        return History(rng, tracks, infos, settled)
    settled = Counter()
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


def _done_tracks(board: Board, start: datetime, end: datetime, *, places: bool = False) -> list:
    """The cards done in [start, end): (card, track), and with `places` its column id."""
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
            Card.column_id,
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
            *((r.column_id,) if places else ()),
        )
        for r in rows
    ]


def _components_of(card_ids: Sequence[int]) -> dict[int, str]:
    result: dict[int, str] = {}
    for i in range(0, len(card_ids), 500):
        chunk = card_ids[i : i + 500]
        result.update(
            db.session.execute(select(Card.id, Card.component).where(Card.id.in_(chunk))).all()
        )
    return result
