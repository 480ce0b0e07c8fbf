"""A request's transaction that only read ends with COMMIT, one that wrote (and was not
committed) or failed ends with ROLLBACK: tracker.database.end_reads, at every teardown.

Why it matters: psycopg forgets its prepared statements on every ROLLBACK, so when each
request ended so, PostgreSQL parsed and planned every statement of every request again.
"""

from __future__ import annotations

import re

import psycopg
import pytest
from sqlalchemy import event, select, text, update
from sqlalchemy.exc import OperationalError

from tests.helpers import Auth, app_config, new_app, statements_sent
from tracker import database
from tracker.extensions import db
from tracker.models import Board


def endings(app, work) -> list[str]:
    """How the transactions work() ran ended, in order ("COMMIT"/"ROLLBACK")."""
    sent, _ = statements_sent(app, work, endings=True)
    return [s for s in sent if s in ("COMMIT", "ROLLBACK")]


def teardown(app, work) -> list[str]:
    """Run work in an app context, end it as a request's teardown does; how its
    transactions ended (see endings)."""

    def run():
        with app.app_context():
            work()
            database.end_session(db.session)

    return endings(app, run)


@pytest.fixture
def board_id(board):
    """The conftest board ("Team": ann, a member, and lee, a lead)."""
    return board["board"]


def test_a_request_that_only_read_ends_with_commit(app, client, auth, board_id):
    auth.login("ann")
    sent, answer = statements_sent(app, lambda: client.get(f"/b/{board_id}"), endings=True)
    assert answer.status_code == 200
    assert [s for s in sent if s in ("COMMIT", "ROLLBACK")] == ["COMMIT"]


def test_a_read_under_a_lock_ends_with_commit(app, board_id):
    seen = teardown(app, lambda: db.session.execute(select(Board).with_for_update()).all())
    assert seen == ["COMMIT"]


@pytest.mark.parametrize("how", ["core", "orm"])
def test_a_write_left_uncommitted_is_rolled_back(app, board_id, how):
    def write():
        if how == "core":
            db.session.connection().execute(update(Board).values(name="Changed"))
        else:
            db.session.get(Board, board_id).name = "Changed"
            db.session.flush()

    assert teardown(app, write) == ["ROLLBACK"]
    with app.app_context():
        assert db.session.get(Board, board_id).name == "Team"
        db.session.remove()


def test_a_transaction_with_a_failed_statement_is_rolled_back(app, board_id):
    def fail():
        db.session.execute(select(Board.id)).all()
        with pytest.raises(Exception, match="no_such_table|does not exist"):
            db.session.execute(text("SELECT * FROM no_such_table"))

    assert teardown(app, fail) == ["ROLLBACK"]


def test_the_next_transaction_starts_clean(app, board_id):
    """A write committed, then only reads: that later transaction commits."""

    def write_then_read():
        db.session.get(Board, board_id).name = "Renamed"
        db.session.commit()
        db.session.execute(select(Board.id)).all()

    assert teardown(app, write_then_read) == ["COMMIT", "COMMIT"]


@pytest.mark.parametrize("app_session", ["postgres"], indirect=True)
def test_postgresql_keeps_prepared_statements_across_requests(pg_url, board_id):
    """After a few board pages, the connection holds prepared statements (psycopg prepares
    a statement run five times; a ROLLBACK would have dropped them all). An app of its own,
    so its pool holds the one connection the requests used."""
    served = new_app(app_config(pg_url))
    client = served.test_client()
    Auth(client).login("ann")
    for _ in range(7):
        assert client.get(f"/b/{board_id}").status_code == 200
    with served.app_context():
        assert db.engine.pool.checkedin() == 1
        prepared = db.session.execute(text("SELECT count(*) FROM pg_prepared_statements"))
        assert prepared.scalar() > 0
        db.session.remove()


# PostgreSQL runs a read transaction's statements without BEGIN and COMMIT, and wraps it
# again at its first write or row lock (tracker.database._unwrap_reads).

on_postgres = pytest.mark.parametrize("app_session", ["postgres"], indirect=True)


def server_transaction() -> bool:
    """Whether the session's connection is inside a transaction of the server's now."""
    raw = db.session.connection().connection.dbapi_connection
    return raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE


def _engine(app):
    with app.app_context():
        return db.engine


@on_postgres
@pytest.mark.parametrize("declared", ["reading", "writing"])
def test_postgresql_reads_without_a_transaction_only_where_nothing_may_write(
    app, board_id, declared
):
    with app.app_context(), getattr(database, declared)():
        db.session.execute(select(Board.id)).all()
        assert server_transaction() is (declared == "writing")
        db.session.remove()


@on_postgres
def test_a_get_request_reads_without_a_transaction(app, client, auth, board_id):
    """The board page and the live poll, as the person's browser asks them."""
    auth.login("ann")
    seen = []

    @event.listens_for(_engine(app), "after_cursor_execute")
    def _status(conn, *_args):
        seen.append(conn.connection.dbapi_connection.info.transaction_status)

    try:
        page = client.get(f"/b/{board_id}")
        version = re.search(r'data-version="(\d+)"', page.text).group(1)
        poll = client.get(f"/b/{board_id}/live?v={version}", headers={"HX-Request": "true"})
    finally:
        event.remove(_engine(app), "after_cursor_execute", _status)
    assert (page.status_code, poll.status_code) == (200, 204)
    assert seen and set(seen) == {psycopg.pq.TransactionStatus.IDLE}


@on_postgres
def test_a_write_in_a_read_transaction_is_one_transaction_from_there_on(app, board_id):
    """What it writes is undone together by a rollback, and kept together by a commit."""
    with app.app_context(), database.reading():
        version = db.session.execute(select(Board.version)).scalar_one()
        db.session.execute(update(Board).values(name="First"))
        assert server_transaction()
        db.session.execute(update(Board).values(version=Board.version + 1))
        db.session.rollback()
        board = db.session.get(Board, board_id)
        assert (board.name, board.version) == ("Team", version)
        db.session.execute(update(Board).values(name="Kept"))
        db.session.commit()
        db.session.remove()
    with app.app_context():
        assert db.session.get(Board, board_id).name == "Kept"
        db.session.remove()


@on_postgres
def test_a_row_lock_in_a_read_transaction_is_held_until_it_ends(app, board_id):
    """SELECT ... FOR UPDATE (the board lock) wraps the transaction, so the lock holds:
    another connection cannot take it until the first one ends."""
    engine = _engine(app)
    locking = select(Board).where(Board.id == board_id).with_for_update(nowait=True)
    with app.app_context(), database.reading():
        db.session.execute(locking).all()
        assert server_transaction()
        with engine.connect() as other, pytest.raises(OperationalError, match="lock"):
            other.execute(locking).all()
        db.session.rollback()
        with engine.connect() as other:
            assert other.execute(locking).all()
            other.rollback()
        db.session.remove()


@on_postgres
@pytest.mark.parametrize("declared", ["reading", "writing"])
def test_a_connection_with_its_own_isolation_level_keeps_it(app, declared):
    """VACUUM (bench/board.py) runs on an AUTOCOMMIT connection, whatever may_write says."""
    with app.app_context(), getattr(database, declared)():
        with db.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT")
            connection.execute(text("VACUUM ANALYZE board"))
        db.session.remove()


@on_postgres
def test_a_streamed_read_in_a_read_transaction_runs_in_a_transaction(app, board_id):
    """A server-side cursor (the audit CSV export's yield_per) needs one for its DECLARE."""
    with app.app_context(), database.reading():
        streamed = db.session.execute(select(Board.id).execution_options(yield_per=10))
        assert [row.id for row in streamed] == [board_id]
        assert server_transaction()
        db.session.remove()
