"""While the database is away, answers that need no data stay what they are.

An error page (404, 405, 400 for an expired form, 413, 429) for a logged-in person renders
without reading the person from the database; a failure while the request's session is
torn down (its rollback, after the change was committed) is logged, and the answer the
person was given stands.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError

from tests.helpers import actor, column, make_board, make_card, make_user
from tracker.extensions import db
from tracker.models import Card, User

HX_HEADERS = {"HX-Request": "true"}


class DatabaseAway(Exception):
    pass


@contextmanager
def database_away(app):
    """Every statement and every rollback fails, as when the server is gone."""
    with app.app_context():
        engine = db.engine

    def refuse(*args, **kwargs):
        raise OperationalError("SELECT", {}, DatabaseAway("server closed the connection"))

    event.listen(engine, "before_cursor_execute", refuse)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", refuse)


@pytest.fixture
def member(app, auth):
    with app.app_context():
        board = make_board()
        user = make_user("mia", board=board, role="member")
        card = make_card(board, actor(user, "lead"), title="Fix the login")
        ids = {"board": board.id, "card": card.id, "review": column(board, "Review").id}
        ids["ready"] = column(board, "Ready").id
        ids["lane"] = card.lane_id
        db.session.remove()
    auth.login("mia")
    return ids


# (method, path, data, status): answers that routing, the form layer or the limits decide.
NO_DATA_ANSWERS = [
    ("GET", "/no/such/page", None, 404),
    ("GET", "/b/1/pull", None, 405),  # a POST-only route
    ("POST", "/logout", {}, 400),  # no CSRF token (CSRF is on for this test)
]


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
@pytest.mark.parametrize(("method", "path", "data", "status"), NO_DATA_ANSWERS)
def test_error_pages_render_while_the_database_is_away(
    app, client, member, monkeypatch, method, path, data, status, htmx
):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    headers = HX_HEADERS if htmx else {}
    with database_away(app):
        response = client.open(path, method=method, data=data, headers=headers)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    body = response.get_data(as_text=True)
    assert "Something went wrong" not in body
    assert body.strip()  # the plain message, not an empty answer


def test_a_committed_change_stands_when_teardown_fails(app, client, member, caplog, monkeypatch):
    """The move is committed; then closing the request's session (the rollback of the read
    that rendered the answer) fails, as when the server goes away at that moment. The
    person gets the moved card, the log gets the failure, and the session's connection is
    dropped rather than handed out again with its transaction open."""
    remove = db.session.remove
    failures = []

    def remove_fails_once():
        if not failures:
            failures.append(1)
            raise OperationalError("ROLLBACK", {}, DatabaseAway("server closed the connection"))
        remove()

    with caplog.at_level(logging.ERROR):
        with monkeypatch.context() as patched:
            patched.setattr(db.session, "remove", remove_fails_once)
            response = client.post(
                f"/b/{member['board']}/cards/{member['card']}/move",
                data={"lane_id": member["lane"], "column_id": member["review"]},
                headers=HX_HEADERS,
            )
    assert failures, "the teardown ran (and failed)"
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert any("teardown failed" in record.getMessage() for record in caplog.records)
    with app.app_context():
        assert db.session.get(Card, member["card"]).column_id == member["review"]
        db.session.remove()
    # The next requests are served normally: no connection was left holding a transaction
    # (on SQLite its write lock would stop the next change).
    assert client.get(f"/b/{member['board']}").status_code == 200
    back = client.post(
        f"/b/{member['board']}/cards/{member['card']}/move",
        data={"lane_id": member["lane"], "column_id": member["ready"]},
        headers=HX_HEADERS,
    )
    assert back.status_code == 200


def test_a_failed_rollback_drops_the_connection(app, monkeypatch):
    """database.abandon: the rollback fails (the server is gone), so the session's
    connection is invalidated, not handed out again (the request's scoped session too)."""
    from tracker import database

    with app.app_context():
        db.session.execute(select(Card.id)).all()  # a transaction with a connection
        raw = db.session.connection().connection.dbapi_connection

        def rollback_fails():
            raise OperationalError("ROLLBACK", {}, DatabaseAway("server closed the connection"))

        monkeypatch.setattr(db.session(), "rollback", rollback_fails)
        database.abandon(db.session)
        with pytest.raises(Exception, match="closed"):
            raw.cursor().execute("SELECT 1")  # closed, never back in the pool
        monkeypatch.undo()
        db.session.remove()


def test_every_api_route_answers_json_503_while_the_database_is_away(app, client, member):
    """A program gets the API's error shape with a retry hint, never the HTML page: every
    route of the API, with a token (whose check is the first thing that needs the database)."""
    import re

    from tracker.services import tokens

    with app.app_context():
        mia = db.session.execute(select(User).filter_by(username="mia")).scalar_one()
        secret = tokens.create_token(mia, "script", "read-write", None).secret
        db.session.remove()
    headers = {"Authorization": f"Bearer {secret}"}
    routes = [
        (rule, method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and rule.endpoint != "api.openapi"
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    ]
    assert len(routes) > 20
    with database_away(app):
        for rule, method in routes:
            path = re.sub(r"<(?:\w+:)?\w+>", "1", rule.rule)
            sent = headers
            if rule.endpoint == "alerts.alertmanager":  # a board's alert token instead
                sent = {"Authorization": "Bearer wba_" + "a" * 43}
            answer = client.open(path, method=method, headers=sent, json={})
            assert answer.status_code == 503, (method, path, answer.status_code)
            assert answer.json["error"] == "unavailable", (method, path)
            assert answer.headers["Retry-After"] == "5"
        assert client.get("/api/v1/openapi.json").status_code == 200  # needs no data
