"""A request's transaction that only read ends with COMMIT, one that wrote (and was not
committed) or failed ends with ROLLBACK: tracker.database.end_reads, at every teardown.

Why it matters: psycopg forgets its prepared statements on every ROLLBACK, so when each
request ended so, PostgreSQL parsed and planned every statement of every request again.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, text, update

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
