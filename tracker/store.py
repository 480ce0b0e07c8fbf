"""The board's store: the one module where the card path meets the database.

It owns the board lock, the board's state (lanes, columns, WIP counts), the placement of
cards (ranks and the placement write), the history events, the board's version and the
commit of a card change, which returns the change with the events written (`Change`).
Services ask it to load and to write, ask the domain what is allowed in between, and never
touch the ORM's internals themselves.

Every speed trick of the card path lives here, each with the figure of `bench/board.py`
that justifies it. The figures quoted are those of the README's benchmark section (2-core
development machine; the board page of 200 cards about 10 ms, a pull or a move about 8-9 ms
on SQLite, where composing and running a statement through the ORM costs more Python time
than SQLite takes to answer it). On PostgreSQL each statement is a round trip to the
server, so there the same tricks also save waiting: fewer statements per change.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Insert, Select, Update, bindparam, func, insert, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from tracker import clock, database, observability
from tracker.domain import history, wip
from tracker.domain.errors import InvalidRequest, NotFound
from tracker.extensions import db
from tracker.models import Board, BoardColumn, Card, CardEvent, Lane

# The board lock --------------------------------------------------------------------------


def _begin_locked() -> bool:
    """Make the transaction the board's writer; True on PostgreSQL (the caller locks the
    board row with FOR UPDATE in its first read).

    SQLite: the database's write lock, which a transaction that may write holds from its
    start (tracker.database); one begun read-only is restarted as BEGIN IMMEDIATE.
    Whatever was read before and may be stale is expired, so what is read next is current.
    """
    session = db.session
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("the board lock must come before any change in the transaction")
    if not database.hold_write_lock(session):
        session.expire_all()
    return session.get_bind().dialect.name != "sqlite"


@functools.cache
def _board_statement(for_update: bool) -> Select:
    """The board row; FOR UPDATE is PostgreSQL's board lock (composed once, see below)."""
    query = select(Board).where(Board.id == bindparam("board_id"))
    return query.with_for_update() if for_update else query


def lock_board(board_id: int) -> Board:
    """Start the check-then-write step: lock the board so no other writer runs beside us.

    PostgreSQL: SELECT ... FOR UPDATE on the board row, which every card change of the
    board takes first. SQLite: the database's write lock (see _begin_locked).
    """
    found = db.session.execute(_board_statement(_begin_locked()), {"board_id": board_id})
    board = found.scalar_one_or_none()
    if board is None:
        raise NotFound("That board does not exist.")
    return board


# The board's state -----------------------------------------------------------------------


def lane_rule(lane: Lane) -> wip.Lane:
    return wip.Lane(lane.id, lane.kind, lane.name, lane.wip_limit, lane.limit_mode)


def column_rule(column: BoardColumn) -> wip.Column:
    return wip.Column(column.id, column.kind, column.name, column.wip_limit)


def placement(card: Card) -> wip.Placement:
    return wip.Placement(card.lane_id, card.column_id, card.assignee_id)


@dataclass
class BoardState:
    """A board's lanes, columns and WIP counts, as read under its lock."""

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
# parameters (functools.cache): composing a select costs more Python time than SQLite takes
# to run it, and every change and page runs these (bench: pull_ms, move_ms, board_200_ms).


@functools.cache
def _lanes_and_columns_statement() -> Select:
    return (
        select(Lane, BoardColumn)
        .join(BoardColumn, BoardColumn.board_id == Lane.board_id)
        .where(Lane.board_id == bindparam("board_id"))
        .order_by(Lane.position, BoardColumn.position)
    )


@functools.cache
def _locked_board_statement(for_update: bool) -> Select:
    """The board with its lanes and columns, one row per (lane, column), in one statement:
    on PostgreSQL the lock (FOR UPDATE OF the board row only) and the read are one round
    trip instead of two. The outer joins keep the board's row when it has no lanes."""
    query = (
        select(Board, Lane, BoardColumn)
        .outerjoin(Lane, Lane.board_id == Board.id)
        .outerjoin(BoardColumn, BoardColumn.board_id == Lane.board_id)
        .where(Board.id == bindparam("board_id"))
        .order_by(Lane.position, BoardColumn.position)
    )
    return query.with_for_update(of=Board) if for_update else query


@functools.cache
def _placements_statement() -> Select:
    """How many open cards sit at each placement (lane, column, assignee): the database
    counts, so a board of thousands of cards answers with a few dozen rows."""
    placement = (Card.lane_id, Card.column_id, Card.assignee_id)
    return (
        select(*placement, func.count())
        .where(Card.board_id == bindparam("board_id"), Card.status == "open")
        .group_by(*placement)
    )


def plain_rows(statement: Select, params: dict[str, Any]) -> list:
    """The rows of a statement that selects columns, not entities, run on the session's
    connection: the ORM's execution path costs more than SQLite takes to run it (the board
    page reads its tiles this way; bench: board_2000_ms)."""
    db.session.flush()  # what the ORM path would have flushed first (usually nothing)
    return db.session.connection().execute(statement, params).all()


def lanes_and_columns(board_id: int) -> tuple[list[Lane], list[BoardColumn]]:
    """A board's lanes (top to bottom) and columns (left to right), in one statement."""
    pairs = db.session.execute(_lanes_and_columns_statement(), {"board_id": board_id}).all()
    lanes = list(dict.fromkeys(lane for lane, _ in pairs))
    columns = list(dict.fromkeys(column for _, column in pairs))
    return lanes, columns


def _state(board: Board, lanes: list[Lane], columns: list[BoardColumn]) -> BoardState:
    rows = plain_rows(_placements_statement(), {"board_id": board.id})
    counts = wip.BoardWip(
        [lane_rule(lane) for lane in lanes],
        [column_rule(column) for column in columns],
        {wip.Placement(lane, column, person): cards for lane, column, person, cards in rows},
        board.per_person_limit,
    )
    return BoardState(board, lanes, columns, counts)


def board_state(board: Board) -> BoardState:
    """Load a (locked) board's lanes and columns and count its open cards' WIP."""
    lanes, columns = lanes_and_columns(board.id)
    return _state(board, lanes, columns)


def load_locked(board_id: int) -> BoardState:
    """Lock the board (see lock_board) and read its state: what every card change starts
    with. The lock and the lanes and columns are one statement, the WIP counts another."""
    found = db.session.execute(_locked_board_statement(_begin_locked()), {"board_id": board_id})
    rows = found.all()
    if not rows:
        raise NotFound("That board does not exist.")
    lanes = list(dict.fromkeys(lane for _, lane, _ in rows if lane is not None))
    columns = list(dict.fromkeys(column for _, _, column in rows if column is not None))
    return _state(rows[0][0], lanes, columns)


# Reading cards to place them ---------------------------------------------------------------


def card_with_key(form_key: str) -> Card | None:
    """The card a form with this one-time key filed, if any."""
    return db.session.execute(select(Card).where(Card.intake_key == form_key)).scalar_one_or_none()


def _in_cell(card_id: Any, lane_id: Any, column_id: Any) -> tuple:
    """Conditions for the other cards of a cell (lane × column) that are still on the board."""
    return (
        Card.lane_id == lane_id,
        Card.column_id == column_id,
        Card.status != "closed",
        Card.id != (0 if card_id is None else card_id),  # a bound parameter passes as is
    )


@functools.cache
def _bottom_statement() -> Select:
    """The highest rank in a cell, the card itself left out."""
    cell = _in_cell(bindparam("card_id"), bindparam("lane_id"), bindparam("column_id"))
    return select(func.max(Card.rank)).where(*cell)


def neighbours(
    card_id: int | None, lane_id: int, column_id: int, after: int | None
) -> tuple[float | None, float | None]:
    """The ranks just above and below the slot: after `after`, at the top (0), bottom (None).

    Reads only the neighbours, never the whole cell: a done column holds years of cards.
    The bottom of a cell (a pull, a move with the "Move to" list: the usual case) is one
    statement composed once and run as plain rows (bench: pull_ms, move_ms).
    """
    if after is None:
        params = {"card_id": card_id or 0, "lane_id": lane_id, "column_id": column_id}
        return plain_rows(_bottom_statement(), params)[0][0], None
    cell = _in_cell(card_id, lane_id, column_id)
    if after == 0:
        return None, db.session.execute(select(func.min(Card.rank)).where(*cell)).scalar()
    above = db.session.execute(select(Card.rank).where(Card.id == after, *cell)).scalar()
    if above is None:
        raise InvalidRequest("The card to place it after is not in that column any more.")
    below = db.session.execute(select(func.min(Card.rank)).where(*cell, Card.rank > above)).scalar()
    return above, below


def cell_cards(card_id: int | None, lane_id: int, column_id: int) -> list[Card]:
    """The other cards of a cell still on the board, in rank order (to respace them)."""
    return list(
        db.session.execute(
            select(Card).where(*_in_cell(card_id, lane_id, column_id)).order_by(Card.rank)
        ).scalars()
    )


def set_ranks(cards: list[Card], new_ranks: list[float]) -> None:
    """Give cards new ranks, written at once (the caller reads the cell again next)."""
    for rank, card in zip(new_ranks, cards, strict=True):
        card.rank = rank
    db.session.flush()


def ids_beside(card: Card, direction: str, count: int) -> list[int]:
    """The ids of up to count cards just above ("up") or below ("down") a card in its cell,
    nearest first."""
    cell = _in_cell(card.id, card.lane_id, card.column_id)
    if direction == "up":
        query = select(Card.id).where(*cell, Card.rank < card.rank).order_by(Card.rank.desc())
    else:
        query = select(Card.id).where(*cell, Card.rank > card.rank).order_by(Card.rank)
    return list(db.session.execute(query.limit(count)).scalars())


@functools.cache
def _ready_statement() -> Select:
    """The open cards in the given (ready) columns, in rank order."""
    return (
        select(Card.id, Card.lane_id, Card.column_id, Card.blocked, Card.assignee_id)
        .where(
            Card.board_id == bindparam("board_id"),
            Card.status == "open",
            Card.column_id.in_(bindparam("columns", expanding=True)),
        )
        .order_by(Card.rank)
    )


def ready_cards(board_id: int, column_ids: list[int]) -> list:
    """The open cards of these columns as plain rows (id, lane_id, column_id, blocked,
    assignee_id), in the columns' order and rank order within each: a pull reads the
    whole ready queue, so no ORM objects (bench: pull_ms)."""
    rows = plain_rows(_ready_statement(), {"board_id": board_id, "columns": column_ids})
    rows.sort(key=lambda r: column_ids.index(r.column_id))  # stable: rank order within
    return rows


# Writing ---------------------------------------------------------------------------------

# What a pull or a move may change on a card: write_placement writes these.
PLACED = (
    "lane_id",
    "column_id",
    "rank",
    "assignee_id",
    "status",
    "done_at",
    "started_at",
    "column_entered_at",
)


def write_placement(card: Card, values: dict[str, Any]) -> None:
    """Write new PLACED values of a card at once: the board's hot path (every pull and move).

    One Core UPDATE, checked against the card's version as the ORM's own update is; the
    card then shows the values as committed, so the commit has nothing of it to flush (the
    ORM's flush costs more Python time than SQLite takes to run the statement; together
    with the Core event insert and version bump, this took a move from about 12.2 to 8.3 ms
    and a pull from 11.9 to 8.8 ms in bench/board.py, README "Benchmarks").
    """
    placed = {name: values[name] if name in values else getattr(card, name) for name in PLACED}
    params = placed | {"card_id": card.id, "version": card.version}
    written = db.session.connection().execute(_placed_statement(), params)
    if written.rowcount != 1:
        raise StaleDataError(f"card {card.id} changed under the board lock")
    for name, value in placed.items():
        set_committed_value(card, name, value)
    set_committed_value(card, "version", card.version + 1)


@functools.cache
def _placed_statement() -> Update:
    return (
        update(Card)
        .where(Card.id == bindparam("card_id"), Card.version == bindparam("version"))
        .values({name: bindparam(name) for name in PLACED} | {"version": Card.version + 1})
    )


def add_card(card: Card) -> None:
    """Add a new card, written at once so it has its id (its history event names it)."""
    db.session.add(card)
    db.session.flush()


def snapshot(card: Card) -> dict[str, Any]:
    """The card's tracked fields, as history records them."""
    return {name: getattr(card, name) for name in history.TRACKED_FIELDS}


@dataclass(frozen=True)
class Event:
    """A history event as written (the card_event row)."""

    id: int
    board_id: int
    card_id: int
    actor_id: int | None
    at: datetime
    kind: str
    from_column_id: int | None
    to_column_id: int | None
    reason: str
    changes: dict[str, Any]


def append_event(
    card: Card,
    kind: str,
    actor_id: int | None,
    before: dict[str, Any],
    *,
    reason: str = "",
    at: datetime | None = None,
) -> Event:
    """Append one history event for what changed on card since `before` (a snapshot).

    Written at once, as one Core INSERT (every card change appends one, and the ORM's flush
    of a new object costs more than the statement: see write_placement), and handed to the
    log and metrics, which report it when the transaction commits. The card must be in the
    database already.
    """
    changes = history.diff(before, snapshot(card))
    values = {
        "board_id": card.board_id,
        "card_id": card.id,
        "actor_id": actor_id,
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
    return Event(event_id, **values)


@functools.cache
def _event_insert() -> Insert:
    return insert(CardEvent.__table__)


def bump_version(board: Board) -> None:
    """The board's next version, the live board's signal that something changed: one Core
    UPDATE under the board lock (one more than the version read), and the board object
    shows it as committed, so the commit has nothing of the board to flush."""
    db.session.connection().execute(_bump_statement(), {"board_id": board.id})
    set_committed_value(board, "version", board.version + 1)


@functools.cache
def _bump_statement() -> Update:
    return update(Board).where(Board.id == bindparam("board_id")).values(version=Board.version + 1)


# The change ------------------------------------------------------------------------------


@dataclass
class Change:
    """A card change as the board shows it: the card now, where it was, the board's lanes,
    columns and WIP counts as the change left them (read under the board lock, so exactly
    as it committed) and the history events it wrote. The board's version names that
    state."""

    card: Card
    before: wip.Placement
    state: BoardState
    events: tuple[Event, ...] = ()

    @property
    def left(self) -> tuple[int, int]:
        """The cell (lane, column) the card was in."""
        return self.before.lane_id, self.before.column_id

    @property
    def entered(self) -> tuple[int, int]:
        """The cell (lane, column) the card is in now (the same one after a reorder)."""
        return self.card.lane_id, self.card.column_id


CARD_RELATIONSHIPS = [r.key for r in sa_inspect(Card).relationships]


def commit(
    state: BoardState,
    card: Card,
    *,
    before: wip.Placement | None = None,
    events: tuple[Event, ...] | list[Event] = (),
) -> Change:
    """Count the card's move from `before` into the board's WIP, bump the board's version
    and commit: the end of every card change under the board lock.

    The answer shows this very card and board right after: their columns are kept as this
    transaction wrote them (reading them again would return just that, and the change's
    answer then reads no card or board again: bench move_ms, pull_ms). A card's
    relationships are read again when used, since they may predate a foreign key the use
    case changed (card.lane after an escalation).
    """
    was = placement(card) if before is None else before
    if before is not None:
        state.wip.apply(before, placement(card))
    bump_version(state.board)
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True
    for kept in list(session.identity_map.values()):
        if isinstance(kept, Card):
            session.expire(kept, CARD_RELATIONSHIPS)
    return Change(card, was, state, tuple(events))


def rollback() -> None:
    """End the locked transaction without a change (nothing was written)."""
    db.session.rollback()
