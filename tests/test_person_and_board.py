"""A board request reads the signed-in person together with the board and their role on it:
one statement, for every board route, whatever the role; other routes read the person
alone. The board read with the person serves only that person and that board."""

from __future__ import annotations

import pytest
from flask import g
from flask_login import login_user

from tests.helpers import make_board, make_user, statements_sent
from tracker.domain.policy import Action
from tracker.extensions import db
from tracker.models import Board, Lane, User
from tracker.services import users
from tracker.web import access


def person_reads(sent: list[str]) -> list[str]:
    """The statements that find the person a session belongs to (by its token)."""
    return [s for s in sent if s.startswith("SELECT") and "user_account.session_token =" in s]


@pytest.fixture
def people(app):
    with app.app_context():
        team, other = make_board("Team"), make_board("Other")
        make_user("ann", board=team, role="member")
        make_user("vic", board=team, role="viewer")
        make_user("lee", board=team, role="lead")
        make_user("ada", admin=True)
        make_user("out", board=other, role="lead")
        return {"team": team.id, "other": other.id}


# (username, path, status): board routes of each kind, members of every role, an admin
# without a membership (reads only), and a person of another board (404).
BOARD_REQUESTS = [
    ("ann", "/b/{team}", 200),
    ("vic", "/b/{team}", 200),
    ("lee", "/b/{team}/settings", 200),
    ("ada", "/b/{team}", 200),
    ("ann", "/b/{team}/done", 200),
    ("ann", "/b/{team}/requests", 200),
    ("lee", "/b/{team}/report", 200),
    ("vic", "/b/{team}/settings", 403),
    ("out", "/b/{team}", 404),
    ("ann", "/b/999999", 404),
]


@pytest.mark.parametrize(("username", "path", "status"), BOARD_REQUESTS)
def test_a_board_request_reads_person_board_and_role_in_one_statement(
    app, client, auth, people, username, path, status
):
    auth.login(username)
    url = path.format(**people)
    sent, response = statements_sent(app, lambda: client.get(url))
    assert response.status_code == status, response.text[:300]
    reads = person_reads(sent)
    assert len(reads) == 1, reads
    assert "JOIN board" in reads[0] and "JOIN membership" in reads[0], reads[0]
    assert not [s for s in sent if "FROM board LEFT OUTER JOIN membership" in s], sent


def test_a_change_reads_person_board_and_role_in_one_statement(app, client, auth, people):
    auth.login("ann")
    token = client.get(f"/b/{people['team']}/cards/new").text.split('name="csrf_token"')[1]
    csrf = token.split('value="')[1].split('"')[0]
    with app.app_context():
        lane_id = db.session.query(Lane.id).filter_by(board_id=people["team"]).first()[0]
    data = {"csrf_token": csrf, "lane_id": lane_id, "title": "A card"}
    sent, response = statements_sent(
        app, lambda: client.post(f"/b/{people['team']}/cards/new", data=data)
    )
    assert response.status_code in (200, 303), response.text[:300]
    assert len(person_reads(sent)) == 1


def test_other_routes_read_the_person_alone(app, client, auth, people):
    auth.login("ann")
    sent, response = statements_sent(app, lambda: client.get("/"))
    assert response.status_code == 200
    reads = person_reads(sent)
    assert len(reads) == 1 and "JOIN board" not in reads[0], reads


def test_a_deactivated_person_reads_no_board(app, client, auth, people):
    auth.login("ann")
    with app.app_context():
        users.deactivate(db.session.query(User).filter_by(username="ann").one())
        db.session.commit()
    response = client.get(f"/b/{people['team']}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_board_read_with_the_person_serves_only_that_board_and_person(app, people):
    """load_board for another board (or another person) reads it again, not the kept one."""
    with app.app_context():
        lee = db.session.query(User).filter_by(username="lee").one()
        team = db.session.get(Board, people["team"])
        with app.test_request_context(f"/b/{people['other']}/settings"):
            login_user(lee)
            g.person_board = (lee.id, people["team"], team, "lead")  # read for another board
            with pytest.raises(Exception) as refused:
                access.load_board(people["other"], Action.CHANGE_SETTINGS)
            assert getattr(refused.value, "code", None) == 404  # lee holds no role there
        with app.test_request_context(f"/b/{people['team']}/settings"):
            login_user(lee)
            g.person_board = (lee.id + 1000, people["team"], team, "lead")  # another person
            board, actor = access.load_board(people["team"], Action.CHANGE_SETTINGS)
            assert board.id == people["team"] and actor.role == "lead"
            assert "person_board" not in g
