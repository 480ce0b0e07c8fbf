"""Engine settings per database: SQLite pragmas, and which transactions take its write lock.

SQLite has one writer at a time. A transaction that began with a plain (deferred) BEGIN,
read, and then tries to write fails at once with "database is locked" when another writer
committed in between: its snapshot is stale, and the busy timeout does not apply. So every
transaction that may write starts with BEGIN IMMEDIATE, taking the write lock before its
first read, and writers queue on the busy timeout instead of failing. Transactions that
only read (those of GET, HEAD and OPTIONS requests) start deferred and never wait: in WAL
mode readers and the writer do not block each other. A GET that does write (a cache fill)
says so with `writing()`. PostgreSQL needs no write lock (see tracker.store.lock_board);
there a transaction that only reads runs without BEGIN and COMMIT (_unwrap_reads).
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask import has_request_context, request
from psycopg import ServerCursor
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, PendingRollbackError
from sqlalchemy.orm import Session, scoped_session

from tracker import search_index
from tracker.extensions import db

# The errors that mean the database is away (or the connection to it broke).
AWAY = (OperationalError, InterfaceError)
log = logging.getLogger(__name__)

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Connection.info key: True while the connection's transaction holds SQLite's write lock.
_WRITE_LOCK = "tracker_sqlite_write_lock"
_declared: ContextVar[bool | None] = ContextVar("tracker_may_write", default=None)
# Connection.info key: True once a statement of the connection's transaction may have
# written (anything but a SELECT) or failed; such a transaction ends only in ROLLBACK.
_ROLLBACK_ONLY = "tracker_rollback_only"
_READS = ("SELECT", "BEGIN")  # statements that write nothing (FOR UPDATE only locks)
# Connection.info key (PostgreSQL): True while the connection's transaction runs its reads
# without a transaction of the server's (see configure_engine).
_UNWRAPPED = "tracker_unwrapped_reads"
# A SELECT that locks rows: it needs a transaction to hold its locks in.
_LOCKS_ROWS = re.compile(r"\bFOR\s+(?:UPDATE|SHARE|NO\s+KEY\s+UPDATE|KEY\s+SHARE)\b", re.I)


def may_write() -> bool:
    """Whether a transaction starting now may write: as declared with `writing()`, else
    every transaction but those of a read-only HTTP method (the command line, background
    senders and POSTs all may)."""
    declared = _declared.get()
    if declared is not None:
        return declared
    if has_request_context():
        return request.method not in READ_ONLY_METHODS
    return True


@contextmanager
def _declaring(may: bool) -> Iterator[None]:
    token = _declared.set(may)
    try:
        yield
    finally:
        _declared.reset(token)


def writing():
    """Transactions begun inside may write (on SQLite they start with BEGIN IMMEDIATE),
    whatever the request's method. Begin a new transaction inside: commit the one before."""
    return _declaring(True)


def reading():
    """Transactions begun inside only read (on SQLite a deferred BEGIN, which never waits
    for a writer), outside a request too: for a command or check that writes nothing."""
    return _declaring(False)


def holds_write_lock(connection: Connection) -> bool:
    """Whether this SQLite connection's transaction holds the database's write lock."""
    return bool(connection.info.get(_WRITE_LOCK))


def hold_write_lock(session: Session) -> bool:
    """Make the session's transaction SQLite's writer, if it is not already; True when what
    it read before is still current (it held the lock from its start, or this is not
    SQLite and the caller locks rows itself).

    A transaction that began deferred and has only read so far is ended and begun again
    with BEGIN IMMEDIATE; nothing it read stays current then, so the caller expires it.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return False
    if holds_write_lock(connection):
        return True
    raw = connection.connection.dbapi_connection
    if raw.in_transaction:
        raw.execute("COMMIT")  # only reads so far: nothing is lost
    raw.execute("BEGIN IMMEDIATE")
    connection.info[_WRITE_LOCK] = True
    return False


def configure_engine(engine: Engine) -> None:
    """Note which transactions only read (see end_reads). On SQLite: WAL, a busy timeout,
    foreign keys, and transactions SQLAlchemy controls, begun IMMEDIATE when they may write
    (see the module's docstring). On PostgreSQL: a transaction that only reads runs without
    BEGIN and COMMIT (see _unwrap_reads)."""

    @event.listens_for(engine, "before_cursor_execute")
    def _note_writes(conn: Connection, cursor, statement: str, *_args) -> None:
        reads = statement.lstrip()[:6].upper().startswith(_READS)
        if conn.info.get(_UNWRAPPED) and (
            not reads or _LOCKS_ROWS.search(statement) or isinstance(cursor, ServerCursor)
        ):
            _wrap(conn)
        if not reads:
            conn.info[_ROLLBACK_ONLY] = True

    @event.listens_for(engine, "handle_error")
    def _note_failure(context) -> None:
        if context.connection is not None:
            context.connection.info[_ROLLBACK_ONLY] = True

    def _forget(conn: Connection) -> None:  # the transaction ended
        if not conn.invalidated:  # (an invalidated one keeps nothing)
            conn.info.pop(_ROLLBACK_ONLY, None)

    event.listen(engine, "commit", _forget)
    event.listen(engine, "rollback", _forget)

    if engine.dialect.name == "postgresql":
        event.listen(engine, "begin", _unwrap_reads)
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        if isinstance(dbapi_conn, sqlite3.Connection):
            dbapi_conn.isolation_level = None
            for pragma in (
                "journal_mode=WAL",
                "synchronous=NORMAL",
                "busy_timeout=30000",
                "foreign_keys=ON",
            ):
                dbapi_conn.execute("PRAGMA " + pragma)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = may_write()
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
        conn.info[_WRITE_LOCK] = immediate


def _unwrap_reads(conn: Connection) -> None:
    """PostgreSQL: a transaction begun to read (may_write() is False: a GET's) runs its
    statements in psycopg's autocommit mode, without the server's BEGIN and COMMIT, two
    round trips of the four a live poll took (pre-ping, BEGIN, its one SELECT, COMMIT).

    It reads the same: at READ COMMITTED, PostgreSQL's default and the app's, each
    statement of a transaction sees the data as of its own start anyway. The first
    statement that writes, or a SELECT that locks rows (FOR UPDATE: the board lock), wraps
    it again (_wrap): that statement and all after it run in one transaction, as they did
    before. So does a read on a server-side cursor (a streamed CSV export): its DECLARE
    needs a transaction. A connection set to an isolation level of its own is left as it
    is."""
    conn.info[_UNWRAPPED] = False
    if "isolation_level" in conn.get_execution_options():
        return
    reads = not may_write()
    raw = conn.connection.dbapi_connection
    if raw.autocommit != reads:
        raw.autocommit = reads
    conn.info[_UNWRAPPED] = reads


def _wrap(conn: Connection) -> None:
    """End a read transaction's autocommit (see _unwrap_reads): from the next statement on,
    psycopg begins a transaction of the server's again."""
    conn.connection.dbapi_connection.autocommit = False
    conn.info[_UNWRAPPED] = False


def abandon(session: Session | scoped_session) -> None:
    """Roll the session's transaction back; when even that fails (the server is gone), drop
    its connections without a word to the server, so none is handed out again."""
    try:
        session.rollback()
    except AWAY:
        (session() if isinstance(session, scoped_session) else session).invalidate()


def end_reads(session: Session) -> None:
    """End the session's transaction with COMMIT if it only read (no statement of it wrote
    or failed, nothing waits to be flushed); otherwise leave it for closing to roll back.

    To the database the two are the same for such a transaction: nothing to undo, locks
    released either way. But psycopg forgets its prepared statements on every ROLLBACK,
    and closing a session rolls back: every request ended so (each read, and each change's
    answer read after its commit), so on PostgreSQL no statement was ever prepared and
    each one was parsed and planned again, the larger part of a board request's waiting
    on the server (bench/board.py, one alternating run: pg_board_200_ms 5.26 -> 4.79,
    pg_move_ms 4.75 -> 4.14).
    """
    if not session.in_transaction() or session.new or session.dirty or session.deleted:
        return
    try:
        connection = session.connection()
    except PendingRollbackError:  # its connection broke: closing rolls back
        return
    if not connection.invalidated and not connection.info.get(_ROLLBACK_ONLY):
        session.commit()


def end_session(session: scoped_session) -> None:
    """Close the request's session (a teardown step), ending a transaction that only read
    with COMMIT (end_reads). A failure here comes after the answer was made, and a change
    it reports was committed already: it is logged, the broken connections are dropped,
    and the answer stands."""
    try:
        end_reads(session())
        session.remove()
    except Exception:  # noqa: BLE001 - whatever it is, the answer must not become a 500
        log.exception("database session teardown failed; its connection is dropped")
        try:
            session().invalidate()
        except Exception:  # noqa: BLE001
            log.exception("dropping the connection failed too")
        session.registry.clear()


def after_fork(app) -> None:
    """In a process forked from one that built the app (gunicorn's preload): forget the
    parent's pooled connections, never using or closing them, so none is shared."""
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)


def open_connections(app) -> None:
    """In a worker, before its first request: open a connection to each database and leave
    it in the engine's pool, so that the first person served does not wait for one (a
    preloaded worker starts with empty pools: after_fork). A database that does
    not answer leaves the pool empty; the first request tries again."""
    with app.app_context():
        for engine in db.engines.values():
            try:
                engine.connect().close()  # back to the pool, open
            except DBAPIError as error:
                log.warning(
                    "no connection opened ahead, the database did not answer: %s", error.orig
                )


def _create_search_index(metadata: MetaData, connection: Connection, **_kw) -> None:
    for statement in search_index.CREATE.get(connection.dialect.name, ()):
        connection.exec_driver_sql(statement)


def _drop_search_index(metadata: MetaData, connection: Connection, **_kw) -> None:
    for statement in search_index.DROP.get(connection.dialect.name, ()):
        connection.exec_driver_sql(statement)


def attach_search_index(metadata: MetaData) -> None:
    """Make the cards' full-text index (tracker.search_index) whenever create_all makes
    the tables, and drop it before drop_all drops them: the schema tests and benches build
    without migrations has it too. Once per metadata, however many apps are made."""
    if not event.contains(metadata, "after_create", _create_search_index):
        event.listen(metadata, "after_create", _create_search_index)
        event.listen(metadata, "before_drop", _drop_search_index)
