"""What every use case needs: the acting person, the board lock, the board's WIP state."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Insert, Select, bindparam, func, insert, select

from tracker import clock, database, observability
from tracker.domain import history, policy, wip
from tracker.domain.errors import NotFound
from tracker.domain.policy import Action
from tracker.domain.vocabulary import CardStatus, Role
from tracker.extensions import db
from tracker.models import Board, BoardColumn, Card, CardEvent, Lane, User

ROLES = tuple(Role)


@dataclass(frozen=True)
class Actor:
    """The person asking, with their role on the board in question ("" for an act on no
    board), and the client address they ask from (the audit log records it; "" outside a
    web request)."""

    id: int
    name: str
    role: str
    address: str = ""


def require_lead(actor: Actor, what: str, action: Action = Action.CHANGE_SETTINGS) -> None:
    """Refuse a person the policy does not allow the action (one of a lead's): "Only a lead
    of this board can change <what>."."""
    policy.require(actor.role, action, f"Only a lead of this board can change {what}.")


@functools.cache
def _board_statement(for_update: bool) -> Select:
    """The board row; FOR UPDATE is PostgreSQL's board lock (composed once, see below)."""
    query = select(Board).where(Board.id == bindparam("board_id"))
    return query.with_for_update() if for_update else query


def lock_board(board_id: int) -> Board:
    """Start the check-then-write step: lock the board so no other writer runs beside us.

    PostgreSQL: SELECT ... FOR UPDATE on the board row, which every card change of the
    board takes first. SQLite: the database's write lock, which a transaction that may
    write holds from its start (tracker.database); one begun read-only is restarted as
    BEGIN IMMEDIATE. Whatever was read before and may be stale is expired, so what the
    caller reads next is current.
    """
    session = db.session
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("lock_board must come before any change in the transaction")
    sqlite = session.get_bind().dialect.name == "sqlite"
    if not database.hold_write_lock(session):
        session.expire_all()
    found = session.execute(_board_statement(not sqlite), {"board_id": board_id})
    board = found.scalar_one_or_none()
    if board is None:
        raise NotFound("That board does not exist.")
    return board


def lane_rule(lane: Lane) -> wip.Lane:
    return wip.Lane(lane.id, lane.kind, lane.name, lane.wip_limit, lane.limit_mode)


def column_rule(column: BoardColumn) -> wip.Column:
    return wip.Column(column.id, column.kind, column.name, column.wip_limit)


def placement(card: Card) -> wip.Placement:
    return wip.Placement(card.lane_id, card.column_id, card.assignee_id)


@dataclass
class BoardState:
    """A board's lanes, columns and WIP counts, loaded in three queries."""

    board: Board
    lanes: list[Lane]
    columns: list[BoardColumn]
    wip: wip.BoardWip

    def lane(self, lane_id: Any) -> Lane:
        for lane in self.lanes:
            if lane.id == lane_id:
                return lane
        raise NotFound("That lane is not on this board.")

    def column(self, column_id: Any) -> BoardColumn:
        for column in self.columns:
            if column.id == column_id:
                return column
        raise NotFound("That column is not on this board.")

    def lane_of_kind(self, kind: str) -> Lane | None:
        return next((lane for lane in self.lanes if lane.kind == kind), None)

    def first(self, kind: str) -> BoardColumn:
        return next(c for c in self.columns if c.kind == kind)

    def ready_columns(self) -> list[BoardColumn]:
        """Queue columns left of the first active one, nearest first."""
        ready: list[BoardColumn] = []
        for column in self.columns:
            if column.kind != wip.QUEUE:
                break
            ready.append(column)
        return list(reversed(ready))


# The statements every card change and board view run are composed once, with bound
# parameters: composing them costs more Python time than SQLite takes to run them.


@functools.cache
def _lanes_and_columns_statement() -> Select:
    return (
        select(Lane, BoardColumn)
        .join(BoardColumn, BoardColumn.board_id == Lane.board_id)
        .where(Lane.board_id == bindparam("board_id"))
        .order_by(Lane.position, BoardColumn.position)
    )


@functools.cache
def _placements_statement() -> Select:
    """How many open cards sit at each placement (lane, column, assignee): the database
    counts, so a board of thousands of cards answers with a few dozen rows."""
    placement = (Card.lane_id, Card.column_id, Card.assignee_id)
    return (
        select(*placement, func.count())
        .where(Card.board_id == bindparam("board_id"), Card.status == CardStatus.OPEN)
        .group_by(*placement)
    )


def plain_rows(statement: Select, params: dict[str, Any]) -> list:
    """The rows of a statement that selects columns, not entities, run on the session's
    connection: the ORM's execution path costs more than SQLite takes to run it."""
    db.session.flush()  # what the ORM path would have flushed first (usually nothing)
    return db.session.connection().execute(statement, params).all()


def lanes_and_columns(board_id: int) -> tuple[list[Lane], list[BoardColumn]]:
    """A board's lanes (top to bottom) and columns (left to right), in one statement."""
    pairs = db.session.execute(_lanes_and_columns_statement(), {"board_id": board_id}).all()
    lanes = list(dict.fromkeys(lane for lane, _ in pairs))
    columns = list(dict.fromkeys(column for _, column in pairs))
    return lanes, columns


def board_state(board: Board) -> BoardState:
    """Load a board's lanes and columns and count its open cards' WIP."""
    lanes, columns = lanes_and_columns(board.id)
    rows = plain_rows(_placements_statement(), {"board_id": board.id})
    counts = wip.BoardWip(
        [lane_rule(lane) for lane in lanes],
        [column_rule(column) for column in columns],
        {wip.Placement(lane, column, person): cards for lane, column, person, cards in rows},
        board.per_person_limit,
    )
    return BoardState(board, lanes, columns, counts)


def person_name(user_id: int | None) -> str:
    if user_id is None:
        return ""
    user = db.session.get(User, user_id)
    return user.name if user else "This person"


def snapshot(card: Card) -> dict[str, Any]:
    """The card's tracked fields, as history records them."""
    return {name: getattr(card, name) for name in history.TRACKED_FIELDS}


def record(
    card: Card,
    kind: str,
    actor: Actor | None,
    before: dict[str, Any],
    *,
    reason: str = "",
    at=None,
) -> int:
    """Append one history event for what changed on card since `before`; its id.

    Written at once, as one Core INSERT (every card change appends one, and the ORM's flush
    of a new object costs more than the statement), and handed to the log and metrics,
    which report it when the transaction commits. The card must be in the database already.
    """
    changes = history.diff(before, snapshot(card))
    values = {
        "board_id": card.board_id,
        "card_id": card.id,
        "actor_id": actor.id if actor else None,
        "at": at or clock.now(),
        "kind": kind,
        "from_column_id": before.get("column_id") if "column_id" in changes else None,
        "to_column_id": card.column_id if "column_id" in changes else None,
        "reason": reason,
        "changes": changes,
    }
    written = db.session.connection().execute(_event_insert(), values)
    event_id = written.inserted_primary_key[0]
    observability.note_event(db.session(), event_id, values)
    return event_id


@functools.cache
def _event_insert() -> Insert:
    return insert(CardEvent.__table__)


def get_card(board_id: int, card_id: Any) -> Card:
    """The card of this board with this id, or NotFound (also for another board's card)."""
    try:
        card_id = int(card_id)
    except (TypeError, ValueError):
        raise NotFound("That card does not exist on this board.") from None
    card = db.session.get(Card, card_id)
    if card is None or card.board_id != board_id:
        raise NotFound("That card does not exist on this board.")
    return card
