"""The production-emergency check: one cheap statement, polled by every open board page."""

from __future__ import annotations

import functools

from sqlalchemy import Select, bindparam, select

from tracker import clock
from tracker.domain import emergency
from tracker.domain.vocabulary import CardStatus, ColumnKind, LaneKind, Severity
from tracker.extensions import db
from tracker.models import BoardColumn, Card, Lane


@functools.cache
def _waiting_statement() -> Select:
    """Open S1 cards of a board, unassigned, in the Expedite lane's queue columns.

    Composed once with a bound parameter: every open page of the board runs it every few
    seconds. The lane is named by a subquery on its unique (board, kind), so the card
    search is a range of ix_card_lane_board_status_done (lane, board, open): the board's
    open expedite cards, a handful at most, whatever the size of the board. The column's
    kind comes by primary key.
    """
    expedite = (
        select(Lane.id)
        .where(Lane.board_id == bindparam("board_id"), Lane.kind == LaneKind.EXPEDITE)
        .scalar_subquery()
    )
    return (
        select(Card.id, Card.ref, Card.title, Card.created_at)
        .join(BoardColumn, BoardColumn.id == Card.column_id)
        .where(
            Card.lane_id == expedite,
            Card.board_id == bindparam("board_id"),
            Card.status == CardStatus.OPEN,
            Card.severity == Severity.S1,
            Card.assignee_id.is_(None),
            BoardColumn.kind == ColumnKind.QUEUE,
        )
        .order_by(Card.created_at, Card.id)
    )


def waiting_s1(board_id: int) -> list[emergency.Waiting]:
    """The S1 cards nobody has pulled yet, oldest first, read in one statement."""
    rows = db.session.execute(_waiting_statement(), {"board_id": board_id})
    return [emergency.Waiting(row.id, row.ref, row.title, row.created_at) for row in rows]


def banner(board_id: int) -> emergency.Banner:
    """What the board's emergency banner shows now (empty when no S1 waits)."""
    return emergency.banner(waiting_s1(board_id), clock.now())
