"""What the board page shows, read in a fixed number of queries whatever the card count."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from tracker import clock
from tracker.domain import periods, wip
from tracker.extensions import db
from tracker.models import Board, BoardColumn, Card, Lane, Membership, User
from tracker.services.common import column_rule, lane_rule


@dataclass
class BoardView:
    board: Board
    lanes: list[Lane]
    columns: list[BoardColumn]
    wip: wip.BoardWip
    cells: dict[tuple[int, int], list[Card]]
    done_total: dict[int, int]
    period_start: datetime
    period_end: datetime
    now: datetime
    done_shown: dict[int, int] = field(default_factory=dict)
    filtered: bool = False
    hidden: int = 0
    notices: list[str] = field(default_factory=list)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.board.timezone)

    def cell(self, lane: Lane, column: BoardColumn) -> list[Card]:
        return self.cells.get((lane.id, column.id), [])

    def done_more(self, lane: Lane) -> int:
        """How many of the lane's cards done this period are not shown on the board."""
        return self.done_total.get(lane.id, 0) - self.done_shown.get(lane.id, 0)


def _matches(card: Card, mine: int | None, text: str) -> bool:
    if mine is not None and card.assignee_id != mine:
        return False
    if text:
        needle = text.casefold()
        return needle in card.title.casefold() or needle in card.ref.casefold()
    return True


def load_board_view(
    board: Board, *, done_per_lane: int, mine: int | None = None, text: str = ""
) -> BoardView:
    """Lanes, columns, open cards and the latest cards done this period, with counts."""
    now = clock.now()
    start, end = periods.week_of(now, ZoneInfo(board.timezone))
    lanes = list(
        db.session.execute(
            select(Lane).where(Lane.board_id == board.id).order_by(Lane.position)
        ).scalars()
    )
    columns = list(
        db.session.execute(
            select(BoardColumn)
            .where(BoardColumn.board_id == board.id)
            .order_by(BoardColumn.position)
        ).scalars()
    )
    open_cards = list(
        db.session.execute(
            select(Card)
            .options(joinedload(Card.assignee))
            .where(Card.board_id == board.id, Card.status == "open")
            .order_by(Card.rank)
        ).scalars()
    )
    counts = wip.BoardWip(
        [lane_rule(x) for x in lanes],
        [column_rule(c) for c in columns],
        (wip.Placement(c.lane_id, c.column_id, c.assignee_id) for c in open_cards),
        board.per_person_limit,
    )
    latest = (
        select(
            Card.id,
            func.row_number()
            .over(partition_by=Card.lane_id, order_by=(Card.done_at.desc(), Card.id.desc()))
            .label("n"),
            func.count().over(partition_by=Card.lane_id).label("total"),
        )
        .where(Card.board_id == board.id, Card.status == "done", Card.done_at >= start)
        .subquery()
    )
    done_rows = db.session.execute(
        select(Card, latest.c.total)
        .options(joinedload(Card.assignee))
        .join(latest, latest.c.id == Card.id)
        .where(latest.c.n <= done_per_lane)
        .order_by(Card.done_at.desc())
    ).all()
    cells: dict[tuple[int, int], list[Card]] = defaultdict(list)
    hidden = 0
    for card in open_cards:
        if _matches(card, mine, text):
            cells[(card.lane_id, card.column_id)].append(card)
        else:
            hidden += 1
    done_total: dict[int, int] = {}
    done_shown: dict[int, int] = defaultdict(int)
    for card, total in done_rows:
        done_total[card.lane_id] = total
        if _matches(card, mine, text):
            cells[(card.lane_id, card.column_id)].append(card)
            done_shown[card.lane_id] += 1
    return BoardView(
        board,
        lanes,
        columns,
        counts,
        dict(cells),
        done_total,
        start,
        end,
        now,
        done_shown=dict(done_shown),
        filtered=bool(mine is not None or text),
        hidden=hidden,
    )


def members(board_id: int) -> list[tuple[User, str]]:
    """The board's people and their roles, by name."""
    rows = db.session.execute(
        select(User, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.board_id == board_id)
        .order_by(User.name)
    )
    return [(user, role) for user, role in rows]


def card_history(card_id: int):
    """A card's events, oldest first, with who made them."""
    from tracker.models import CardEvent

    return list(
        db.session.execute(
            select(CardEvent)
            .options(joinedload(CardEvent.actor))
            .where(CardEvent.card_id == card_id)
            .order_by(CardEvent.id)
        ).scalars()
    )


def archive(board: Board, *, text: str, page: int, per_page: int) -> tuple[list[Card], int]:
    """Done and closed cards, newest first, searchable by reference or title, one page."""
    query = select(Card).where(Card.board_id == board.id, Card.status.in_(("done", "closed")))
    if text:
        pattern = f"%{text.replace('%', '').replace('_', '')}%"
        query = query.where(or_(Card.title.ilike(pattern), Card.ref.ilike(pattern)))
    total = db.session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    cards = list(
        db.session.execute(
            query.options(joinedload(Card.assignee), joinedload(Card.lane))
            .order_by(func.coalesce(Card.done_at, Card.closed_at).desc(), Card.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        ).scalars()
    )
    return cards, total
