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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Insert,
    Select,
    Update,
    and_,
    bindparam,
    case,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from tracker import clock, database
from tracker.domain import history, pull, wip
from tracker.domain.errors import InvalidRequest, NotFound
from tracker.domain.vocabulary import CardStatus, ColumnKind
from tracker.extensions import db
from tracker.models import Board, BoardColumn, Card, CardEvent, Lane, Rotation, User

# The board lock --------------------------------------------------------------------------


def _begin_locked() -> bool:
    """Make the transaction the board's writer; True on PostgreSQL (the caller locks the
    board row with FOR UPDATE in its first read).

    SQLite: the database's write lock, which a transaction that may write holds from its
    start (tracker.database); one begun read-only is restarted as BEGIN IMMEDIATE.
    Whatever was read before and may be stale is expired, so what is read next is current:
    on PostgreSQL everything read before the lock (a card the view loaded, the board)
    but the person asking. Their row decides nothing a change checks (their role came
    with the board, their name is for display), and reading it again after the commit
    (the answer's headers ask whether they are active) would cost a round trip.
    """
    session = db.session
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("the board lock must come before any change in the transaction")
    if not database.hold_write_lock(session):
        for kept in list(session.identity_map.values()):
            if not isinstance(kept, User):
                session.expire(kept)
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
    return _read_board(board_id, for_update=_begin_locked())


def _read_board(board_id: int, *, for_update: bool) -> Board:
    found = db.session.execute(_board_statement(for_update), {"board_id": board_id})
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
    # Whether the board runs a support rotation: a pull reads who is on duty only then
    # (one round trip fewer on a board without one; bench: pg_pull_ms).
    rotating: bool = False

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
            if column.kind != ColumnKind.QUEUE:
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
def _state_statement() -> Select:
    """The board with its lanes, columns and WIP counts in one statement: one row per
    (lane, column, assignee) with open cards there, or one row (lane, column, NULL, NULL)
    for an empty cell; one statement instead of three (bench: pull_ms, move_ms, and on
    PostgreSQL two round trips fewer: pg_pull_ms, pg_move_ms). The outer joins keep the
    board's row when it has no lanes.

    Never with the lock in it: in PostgreSQL's READ COMMITTED a statement reads as of its
    start, and FOR UPDATE re-reads only the locked row after waiting, so the counts read
    by the statement that waited for the lock would be those from before the change that
    held it (tests/test_concurrency.py sees the lane limit broken).
    """
    counts = _placements_statement().subquery()
    rotating = exists().where(Rotation.board_id == Board.id, Rotation.enabled.is_(True))
    return (
        select(Board, Lane, BoardColumn, counts.c.assignee_id, counts.c.cards, rotating)
        .outerjoin(Lane, Lane.board_id == Board.id)
        .outerjoin(BoardColumn, BoardColumn.board_id == Lane.board_id)
        .outerjoin(counts, and_(counts.c.lane_id == Lane.id, counts.c.column_id == BoardColumn.id))
        .where(Board.id == bindparam("board_id"))
        .order_by(Lane.position, BoardColumn.position)
    )


@functools.cache
def _placements_statement() -> Select:
    """How many open cards sit at each placement (lane, column, assignee) in the columns
    where cards count toward a limit (wip.counts_in: active or limited columns): the
    database counts, so a board of thousands of cards answers with a few dozen rows, and
    reads only its work in progress, not its ready queues (bench/serve.py:
    serve_move_2000_over_200)."""
    placement = (Card.lane_id, Card.column_id, Card.assignee_id)
    counted = or_(BoardColumn.kind == ColumnKind.ACTIVE, BoardColumn.wip_limit.is_not(None))
    return (
        select(*placement, func.count().label("cards"))
        .join(BoardColumn, BoardColumn.id == Card.column_id)
        .where(
            BoardColumn.board_id == bindparam("board_id"),
            counted,
            Card.board_id == bindparam("board_id"),
            Card.status == CardStatus.OPEN,
        )
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


def _state(
    board: Board, lanes: list[Lane], columns: list[BoardColumn], rows, rotating: bool
) -> BoardState:
    """The board's state from its lanes and columns and rows of open cards per placement
    (lane_id, column_id, assignee_id, cards), and whether it runs a rotation."""
    counts = wip.BoardWip(
        [lane_rule(lane) for lane in lanes],
        [column_rule(column) for column in columns],
        {wip.Placement(lane, column, person): cards for lane, column, person, cards in rows},
        board.per_person_limit,
    )
    return BoardState(board, lanes, columns, counts, rotating)


def board_state(board: Board) -> BoardState:
    """Load a (locked) board's lanes and columns and count its open cards' WIP, in three
    statements: the reference tests/test_store.py holds load_locked's one statement to."""
    lanes, columns = lanes_and_columns(board.id)
    rows = plain_rows(_placements_statement(), {"board_id": board.id})
    rotating = db.session.execute(
        select(Rotation.enabled).where(Rotation.board_id == board.id)
    ).scalar()
    return _state(board, lanes, columns, rows, bool(rotating))


def load_locked(board_id: int) -> BoardState:
    """Lock the board (see lock_board) and read its state: what every card change starts
    with. On SQLite, whose lock is taken when the transaction begins, that is one
    statement; PostgreSQL locks the board row first, then reads the state in a second
    statement, which reads as of after the lock (see _state_statement)."""
    if _begin_locked():
        _read_board(board_id, for_update=True)
    rows = db.session.execute(_state_statement(), {"board_id": board_id}).all()
    if not rows:
        raise NotFound("That board does not exist.")
    lanes = list(dict.fromkeys(row[1] for row in rows if row[1] is not None))
    columns = list(dict.fromkeys(row[2] for row in rows if row[2] is not None))
    placed = [
        (lane.id, column.id, person, cards)
        for _, lane, column, person, cards, _rotating in rows
        if cards is not None
    ]
    return _state(rows[0][0], lanes, columns, placed, bool(rows[0][5]))


# Reading cards to place them ---------------------------------------------------------------


def card_with_key(form_key: str) -> Card | None:
    """The card a form with this one-time key filed, if any."""
    return db.session.execute(select(Card).where(Card.intake_key == form_key)).scalar_one_or_none()


def _in_cell(card_id: Any, lane_id: Any, column_id: Any, cards: Any = Card) -> tuple:
    """Conditions for the other cards of a cell (lane × column) that are still on the board
    (of `cards`: the card table, or an alias of it in a statement that reads a card too)."""
    return (
        cards.lane_id == lane_id,
        cards.column_id == column_id,
        cards.status != CardStatus.CLOSED,
        cards.id != (0 if card_id is None else card_id),  # a bound parameter passes as is
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
    The bottom of a cell (a new card) is one statement composed once and run as plain rows;
    a pull and a move to the bottom read it with the card instead (card_and_bottom).
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


@functools.cache
def _card_and_bottom_statement() -> Select:
    """A card, with the highest rank in a cell among its other cards (_bottom_statement)."""
    other = aliased(Card)
    cell = _in_cell(bindparam("card_id"), bindparam("lane_id"), bindparam("column_id"), other)
    bottom = select(func.max(other.rank)).where(*cell).scalar_subquery()
    return select(Card, bottom).where(Card.id == bindparam("card_id"))


def card_and_bottom(card_id: int, lane_id: int, column_id: int) -> tuple[Card | None, float | None]:
    """A card (None if there is none) and the highest rank among the other cards of a cell
    still on the board: what a move to the bottom of a cell and a pull read, in one
    statement instead of two (bench: pg_move_ms, pg_pull_ms)."""
    params = {"card_id": card_id, "lane_id": lane_id, "column_id": column_id}
    row = db.session.execute(_card_and_bottom_statement(), params).one_or_none()
    return (None, None) if row is None else (row[0], row[1])


def id_above(card_id: int, lane_id: int, column_id: int, rank: float) -> int | None:
    """The id of the card just above a rank in a cell (the highest ranked below it), among
    the other cards still on the board; None when no card is above it."""
    query = (
        select(Card.id)
        .where(*_in_cell(card_id, lane_id, column_id), Card.rank < rank)
        .order_by(Card.rank.desc())
        .limit(1)
    )
    return db.session.execute(query).scalar()


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


def _first_free(column: Any) -> Any:
    """The first card free to take (open, neither blocked nor assigned) of the correlated
    lane in one column, by rank: a walk of ix_card_cell_rank that stops at the first."""
    card = aliased(Card)
    return (
        select(card.id)
        .where(
            card.column_id == column,
            card.lane_id == Lane.id,
            card.status == CardStatus.OPEN,
            card.blocked.is_(False),
            card.assignee_id.is_(None),
        )
        .order_by(card.rank)
        .limit(1)
        .correlate(Lane)
        .scalar_subquery()
    )


@functools.cache
def _ready_queues_statement(column_count: int) -> Select:
    """Per lane of the board: the first card free to take in the ready columns
    (column_0, column_1...: nearest the work first), and only when there is none, how many
    open cards wait in them (a CASE: the count runs only then). A pull reads a few index
    entries however long its ready queues are (bench/serve.py: serve_pull_2000_over_200)."""
    columns = [bindparam(f"column_{i}") for i in range(column_count)]
    firsts = [_first_free(column) for column in columns]
    free_id = firsts[0] if len(firsts) == 1 else func.coalesce(*firsts)
    lanes = (
        select(Lane.id.label("lane_id"), free_id.label("free_id"))
        .where(Lane.board_id == bindparam("board_id"))
        .subquery()
    )
    free = aliased(Card)
    count = (
        select(func.count())
        .select_from(Card)
        .where(
            Card.lane_id == lanes.c.lane_id,
            Card.status == CardStatus.OPEN,
            Card.column_id.in_(columns),
        )
        .correlate(lanes)
        .scalar_subquery()
    )
    return select(
        lanes.c.lane_id,
        lanes.c.free_id,
        free.column_id,
        case((lanes.c.free_id.is_(None), count), else_=None).label("waiting"),
    ).outerjoin(free, free.id == lanes.c.free_id)


def ready_queue_rows(board_id: int, column_ids: list[int]) -> list:
    """What a pull needs of each lane's ready queue (the open cards of these columns, nearest
    the work first): one row per lane (lane_id, free_id, column_id, waiting), its first card
    free to take, or else how many cards wait in it (_ready_queues_statement)."""
    if not column_ids:
        return []
    params = {"board_id": board_id} | {f"column_{i}": c for i, c in enumerate(column_ids)}
    return plain_rows(_ready_queues_statement(len(column_ids)), params)


def ready_queues(board_id: int, column_ids: list[int]) -> dict[int, pull.ReadyQueue]:
    """Each lane's ready queue in these columns, as a pull sees it (ready_queue_rows); a
    lane with no card there has none."""
    queues: dict[int, pull.ReadyQueue] = {}
    for row in ready_queue_rows(board_id, column_ids):
        if row.free_id is not None:
            queues[row.lane_id] = pull.ReadyQueue(None, pull.ReadyCard(row.free_id, row.column_id))
        elif row.waiting:
            queues[row.lane_id] = pull.ReadyQueue(row.waiting)
    return queues


# Writing ---------------------------------------------------------------------------------

# What a pull or a move may change on a card: place() sets these and commit writes them.
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


@dataclass(frozen=True)
class Placed:
    """A card's new placement (PLACED values), to be written by commit: the card's id and
    the version it had, which the write is checked against as the ORM's own update is."""

    card_id: int
    version: int
    values: dict[str, Any]


def place(card: Card, values: dict[str, Any]) -> Placed:
    """Give a card new PLACED values: the board's hot path (every pull and move).

    The card shows them at once, as committed, and commit writes them with one Core UPDATE
    (on PostgreSQL in one statement with the history events and the version bump). The
    ORM's flush costs more Python time than SQLite takes to run the statement: with the
    Core event insert and version bump this took a move from about 12.2 to 8.3 ms and a
    pull from 11.9 to 8.8 ms in bench/board.py (README, "Benchmarks").
    """
    placed = {name: values[name] if name in values else getattr(card, name) for name in PLACED}
    pending = Placed(card.id, card.version, placed)
    for name, value in placed.items():
        set_committed_value(card, name, value)
    set_committed_value(card, "version", card.version + 1)
    return pending


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
class NewEvent:
    """A history event not written yet (see new_event): the card_event row's values."""

    values: dict[str, Any]


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


def new_event(
    card: Card,
    kind: str,
    actor_id: int | None,
    before: dict[str, Any],
    *,
    reason: str = "",
    at: datetime | None = None,
    noted: dict[str, list[Any]] | None = None,
) -> NewEvent:
    """One history event for what changed on card since `before` (a snapshot), for commit
    to write with the change. `noted`: more [old, new] pairs that are not the card's
    fields (a comment's mentions: {"mentioned": [[], [user ids]]})."""
    changes = history.diff(before, snapshot(card)) | (noted or {})
    return NewEvent(
        {
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
    )


def append_event(
    card: Card,
    kind: str,
    actor_id: int | None,
    before: dict[str, Any],
    *,
    reason: str = "",
    at: datetime | None = None,
    noted: dict[str, list[Any]] | None = None,
) -> Event:
    """Append one history event for what changed on card since `before` (a snapshot), at
    once: for a use case that commits by itself (a comment, a filed request). The card
    must be in the database already. A card change under the board lock passes new_event
    to commit instead, which writes it with the change. `noted`: see new_event.
    """
    pending = new_event(card, kind, actor_id, before, reason=reason, at=at, noted=noted)
    written = db.session.connection().execute(_event_insert(), pending.values)
    return _noted(written.inserted_primary_key[0], pending)


def card_event(card_id: int, event_id: Any) -> CardEvent | None:
    """One history event of a card (None: the card has no event of that id)."""
    event = db.session.get(CardEvent, event_id)
    return event if event is not None and event.card_id == card_id else None


def kinds_after(card_id: int, event_id: int) -> list[str]:
    """The kinds of a card's history events written after one of them, oldest first."""
    query = (
        select(CardEvent.kind)
        .where(CardEvent.card_id == card_id, CardEvent.id > event_id)
        .order_by(CardEvent.id)
    )
    return list(db.session.execute(query).scalars())


# Who hears of each history event as it is written: tracker.subscribers adds the log and
# metrics, which report it when the transaction commits (written with Core, no flush
# shows it). The store itself knows no listener.
_EVENT_LISTENERS: list[Callable[[Any, int, dict[str, Any]], None]] = []


def on_event_written(handler: Callable[[Any, int, dict[str, Any]], None]) -> None:
    """Call handler(session, event_id, values) for every history event written (once)."""
    if handler not in _EVENT_LISTENERS:
        _EVENT_LISTENERS.append(handler)


def _noted(event_id: int, pending: NewEvent) -> Event:
    """The event as written, handed to whoever listens (on_event_written)."""
    session = db.session()
    for handler in _EVENT_LISTENERS:
        handler(session, event_id, pending.values)
    return Event(event_id, **pending.values)


@functools.cache
def _event_insert() -> Insert:
    """One event as one Core INSERT: every card change appends one, and the ORM's flush of
    a new object costs more than the statement (bench: pull_ms, move_ms)."""
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


_EVENT_COLUMNS = (
    "board_id",
    "card_id",
    "actor_id",
    "at",
    "kind",
    "from_column_id",
    "to_column_id",
    "reason",
    "changes",
)


@functools.cache
def _change_statement(placed: bool) -> Select:
    """PostgreSQL: a card change's writes (the placement, its one event, the version bump)
    as one statement of data-modifying CTEs: one round trip instead of up to three (bench:
    pg_pull_ms, pg_move_ms). It answers the new event's id, and how many cards the
    placement wrote (1, or 0 when the card's version moved on: a stale write).

    One event only: an INSERT of several VALUES rows has no SQLAlchemy cache key, so it
    would be compiled again on every change (more Python time than the round trip saves),
    and separate INSERTs in one WITH run in no set order (the events' ids must keep it).
    A change with more events (a move over a WIP limit) writes them one by one.

    Its parameters are named x_<...> and e_<...>: none may share a name with a column of
    the tables it writes, or SQLAlchemy would add that column to the UPDATE's SET clause.
    """
    table = CardEvent.__table__
    row = {name: bindparam(f"e_{name}", type_=table.c[name].type) for name in _EVENT_COLUMNS}
    added = insert(table).values(row).returning(table.c.id).cte("added")
    bump = (
        update(Board)
        .where(Board.id == bindparam("x_board"))
        .values(version=Board.version + 1)
        .returning(Board.id)
        .cte("bump")
    )
    if placed:
        card = (
            update(Card)
            .where(Card.id == bindparam("x_card"), Card.version == bindparam("x_version"))
            .values({name: bindparam(f"x_{name}") for name in PLACED})
            .values(version=Card.version + 1)
            .returning(Card.id)
            .cte("placed")
        )
        written = select(func.count()).select_from(card).scalar_subquery()
    else:
        written = select(func.count()).select_from(bump).scalar_subquery()
    return select(added.c.id, written.label("written")).add_cte(bump).order_by(added.c.id)


def _write_change(board: Board, placed: Placed | None, events: list[NewEvent]) -> list[Event]:
    """Write a change's placement, events and version bump; the events as written."""
    connection = db.session.connection()
    if len(events) == 1 and connection.dialect.name == "postgresql":
        params: dict[str, Any] = {"x_board": board.id}
        if placed is not None:
            params |= {"x_card": placed.card_id, "x_version": placed.version}
            params |= {f"x_{name}": value for name, value in placed.values.items()}
        params |= {f"e_{name}": value for name, value in events[0].values.items()}
        found = connection.execute(_change_statement(placed is not None), params).one()
        if found.written != 1:
            raise StaleDataError(f"card {placed and placed.card_id} changed under the board lock")
        set_committed_value(board, "version", board.version + 1)
        return [_noted(found.id, events[0])]
    if placed is not None:
        params = placed.values | {"card_id": placed.card_id, "version": placed.version}
        if connection.execute(_placed_statement(), params).rowcount != 1:
            raise StaleDataError(f"card {placed.card_id} changed under the board lock")
    written = []
    for event in events:
        result = connection.execute(_event_insert(), event.values)
        written.append(_noted(result.inserted_primary_key[0], event))
    bump_version(board)
    return written


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
    # What the caller's `answer` read of the board as the change left it (see commit).
    answer: Any = None
    # A move's rank before it: where undoing the move puts the card back (cards.undo_change).
    from_rank: float | None = None

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
    placed: Placed | None = None,
    events: list[NewEvent] | tuple[NewEvent, ...] = (),
    answer: Callable[[Change], Any] | None = None,
) -> Change:
    """Write the change (the card's placement, its history events, the board's next
    version), count the card's move from `before` into the board's WIP, and commit: the end
    of every card change under the board lock. Returns the change with its events.

    `answer(change)`, if given, reads what the caller will show of the board as the change
    left it, in the change's own transaction just before the COMMIT (kept as
    change.answer): under the lock, that is the board as committed. Read after the commit
    instead, it would begin a transaction of its own, on PostgreSQL three more round trips
    (the pool's connection check, BEGIN, COMMIT; bench: pg_move_ms, pg_pull_ms) for one
    statement. The lock is held for that read.

    The answer shows this very card and board right after: their columns are kept as this
    transaction wrote them (reading them again would return just that, and the change's
    answer then reads no card or board again: bench move_ms, pull_ms). A card's
    relationships are read again when used, since they may predate a foreign key the use
    case changed (card.lane after an escalation).
    """
    written = _write_change(state.board, placed, list(events))
    was = placement(card) if before is None else before
    if before is not None:
        state.wip.apply(before, placement(card))
    change = Change(card, was, state, tuple(written))
    if answer is not None:
        change.answer = answer(change)
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True
    for kept in list(session.identity_map.values()):
        if isinstance(kept, Card):
            session.expire(kept, CARD_RELATIONSHIPS)
    return change


def rollback() -> None:
    """End the locked transaction without a change (nothing was written)."""
    db.session.rollback()
