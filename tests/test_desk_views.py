"""The support desk as people meet it: the Requests queue, waiting for the requester, the
desk's settings, canned replies, the requester's reply on the status page, and the tile's
clock on a kept board grid."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from tests.helpers import REQUEST, Auth, BoardSpec, actor, app_config, new_app
from tests.html_tree import parse
from tracker.extensions import db
from tracker.models import Card, Comment, RequestWait, ResponseTarget, User
from tracker.services import desk, intake

HX = {"HX-Request": "true"}
START = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)  # a Wednesday


@pytest.fixture
def board_spec() -> BoardSpec:
    return BoardSpec(
        people={
            "ann": "member",
            "lee": "lead",
            "sam": "support",
            "sid": "support",
            "vic": "viewer",
            "out": None,
        }
    )


def person(ids, name: str, role: str):
    return actor(db.session.get(User, ids[name]), role)


def filed(app, ids, who: str = "sam", **values) -> int:
    """A request filed by support staff `who` (at START unless time is moved)."""
    with app.app_context():
        card = intake.file_request(
            ids["board"], person(ids, who, "support"), REQUEST | values, intake.new_intake_key()
        ).card
        card_id = card.id
        db.session.remove()
    return card_id


def link_of(app, ids, card_id: int) -> str:
    with app.app_context():
        token = intake.create_status_link(ids["board"], person(ids, "lee", "lead"), card_id).token
        db.session.remove()
    return token


def url(ids, path=""):
    return f"/b/{ids['board']}{path}"


# -- the queue --------------------------------------------------------------------------


def test_the_queue_is_for_members_leads_and_support(app, client, board):
    filed(app, board, title="Printer on fire", severity="S2")
    for name, status in (("ann", 200), ("lee", 200), ("sam", 200), ("vic", 403), ("out", 404)):
        auth = Auth(client)
        auth.login(name)
        page = client.get(url(board, "/queue"))
        assert page.status_code == status, name
        if status == 200:
            assert "Printer on fire" in page.text
            assert "<h1>Requests on Team</h1>" in page.text
        auth.logout()


def test_the_queue_filters_and_ignores_what_it_does_not_know(app, client, board):
    filed(app, board, title="Printer on fire", severity="S2")
    filed(app, board, title="Question about export", severity="S4")
    Auth(client).login("ann")
    page = client.get(url(board, "/queue?severity=S2"))
    assert "Printer on fire" in page.text and "Question about export" not in page.text
    page = client.get(url(board, "/queue?q=export"))
    assert "Printer on fire" not in page.text and "Question about export" in page.text
    odd = client.get(url(board, "/queue?status=%00nope&severity=S9&page=-1&assignee=x&sort=z"))
    assert odd.status_code == 200 and "Printer on fire" in odd.text
    none = client.get(url(board, "/queue?requester=nobody-at-all"))
    assert "No request matches this filter" in none.text
    assert client.get(url(board, "/queue"), headers=HX).status_code == 200


def test_the_queue_shows_what_is_late(app, client, board):
    with time_machine.travel(START, tick=False):
        late = filed(app, board, title="Database down", severity="S1")
        filed(app, board, title="Small thing", severity="S4")
        Auth(client).login("ann")
    with time_machine.travel(START + timedelta(hours=1), tick=False):
        page = client.get(url(board, "/queue?late=1"))
    rows = re.findall(r'<tr id="request-(\d+)">(.*?)</tr>', page.text, re.S)
    assert [int(card_id) for card_id, _ in rows] == [late]
    assert "Database down" in rows[0][1] and "late by 30 min" in rows[0][1]


def test_my_requests_pages_and_filters_too(app, client, board, monkeypatch):
    monkeypatch.setattr(desk, "PAGE_SIZE", 2)
    for n in range(3):
        filed(app, board, title=f"Mine {n}")
    filed(app, board, who="sid", title="Not mine")
    Auth(client).login("sam")
    first = client.get(url(board, "/requests"))
    assert "Mine 2" in first.text and "Mine 1" in first.text and "Mine 0" not in first.text
    assert "Not mine" not in first.text
    second = client.get(url(board, "/requests?page=2"))
    assert "Mine 0" in second.text and "Mine 2" not in second.text
    searched = client.get(url(board, "/requests?q=not"))
    assert "None of your requests matches this filter" in searched.text


# -- waiting for the requester ---------------------------------------------------------


def test_waiting_is_set_by_the_team_and_ended_by_the_requesters_reply(app, client, board):
    card_id = filed(app, board)
    token = link_of(app, board, card_id)
    Auth(client).login("sam")
    answer = client.post(url(board, f"/requests/{card_id}/waiting"), data={"action": "wait"})
    assert answer.status_code == 303
    page = client.get(url(board, f"/requests/{card_id}"))
    assert "waiting for the requester" in page.text and "Stop waiting" in page.text
    public = client.get(f"/status/{token}")
    assert "The team is waiting for your answer" in public.text
    reply = client.post(f"/status/{token}/reply", data={"body": "It is the blue one."})
    assert reply.status_code == 303
    page = client.get(url(board, f"/requests/{card_id}"))
    assert "Wait for the requester" in page.text
    assert "filed the requester&#39;s reply" in page.text
    with app.app_context():
        assert db.session.execute(select(RequestWait.ended_at)).scalar_one() is not None


def test_waiting_refuses_the_wrong_people_and_bad_input(app, client, board):
    card_id = filed(app, board)
    theirs = filed(app, board, who="sid")
    auth = Auth(client)
    auth.login("vic")
    path = url(board, f"/requests/{card_id}/waiting")
    assert client.post(path, data={"action": "wait"}).status_code == 403
    auth.logout()
    auth.login("sam")
    assert client.post(path, data={"action": "sideways"}).status_code == 422
    other = client.post(url(board, f"/requests/{theirs}/waiting"), data={"action": "wait"})
    assert other.status_code == 403  # support staff work on what they filed
    assert (
        client.post(url(board, "/requests/99999/waiting"), data={"action": "wait"}).status_code
        == 404
    )


# -- settings and canned replies --------------------------------------------------------


def test_a_lead_sets_targets_and_canned_replies(app, client, board):
    auth = Auth(client)
    auth.login("ann")
    assert client.get(url(board, "/settings/desk")).status_code == 403
    auth.logout()
    auth.login("lee")
    page = client.get(url(board, "/settings/desk"))
    assert page.status_code == 200 and "4 h" in page.text
    saved = client.post(
        url(board, "/settings/desk/targets"),
        data={"severity": "S2", "first_response": "2h", "resolution": "3d", "working_hours": "y"},
    )
    assert saved.status_code == 303
    bad = client.post(
        url(board, "/settings/desk/targets"),
        data={"severity": "S2", "first_response": "soon", "resolution": "3d"},
    )
    assert bad.status_code == 422 and "minutes, hours or days" in bad.text
    wrong = client.post(
        url(board, "/settings/desk/targets"),
        data={"severity": "S7", "first_response": "1h", "resolution": "3d"},
    )
    assert wrong.status_code == 422
    with app.app_context():
        row = db.session.get(ResponseTarget, (board["board"], "S2"))
        assert (row.first_response_minutes, row.resolution_minutes) == (120, 3 * 480)
    made = client.post(
        url(board, "/settings/desk/canned"),
        data={"title": "Need logs", "body": "Could you send <b>the logs</b>?"},
    )
    assert made.status_code == 303
    page = client.get(url(board, "/settings/desk"))
    assert "Need logs" in page.text and "<b>the logs</b>" not in page.text
    assert client.post(url(board, "/settings/desk/canned"), data={"title": ""}).status_code == 422
    with app.app_context():
        canned_id = desk.canned_replies(board["board"])[0].id
    removed = client.post(url(board, f"/settings/desk/canned/{canned_id}/remove"))
    assert removed.status_code == 303
    again = client.post(url(board, f"/settings/desk/canned/{canned_id}/remove"))
    assert again.status_code == 404


def test_choosing_a_canned_reply_fills_the_reply_box(app, client, board):
    card_id = filed(app, board)
    with app.app_context():
        made = desk.add_canned_reply(
            board["board"], person(board, "lee", "lead"), "Need logs", "Could you send the logs?"
        )
        canned_id = made.id
        db.session.remove()
    Auth(client).login("sam")
    page = client.get(url(board, f"/requests/{card_id}"))
    assert 'data-body="Could you send the logs?"' in page.text
    chosen = client.get(url(board, f"/requests/{card_id}?canned={canned_id}"))
    box = parse(chosen.text).find("comments")
    assert "Could you send the logs?" in box.text()
    assert re.search(r'checked[^>]*value="reply"', chosen.text)
    odd = client.get(url(board, f"/requests/{card_id}?canned=abc"))
    assert odd.status_code == 200


def test_a_new_link_has_a_copy_button(app, client, board):
    card_id = filed(app, board)
    Auth(client).login("sam")
    made = client.post(url(board, f"/requests/{card_id}/status-link"), data={"action": "create"})
    assert 'data-copy="new-link"' in made.text


# -- the requester's reply --------------------------------------------------------------


def test_the_requester_answers_on_the_status_page(app, client, board):
    card_id = filed(app, board)
    token = link_of(app, board, card_id)
    page = client.get(f"/status/{token}")
    assert "What you can do next" in page.text and "(UTC" in page.text
    sent = client.post(f"/status/{token}/reply", data={"body": "<script>alert(1)</script> hi"})
    assert sent.status_code == 303
    page = client.get(f"/status/{token}")
    assert (
        "&lt;script&gt;alert(1)&lt;/script&gt; hi" in page.text and "<script>alert" not in page.text
    )
    assert "· You</p>" in page.text
    empty = client.post(f"/status/{token}/reply", data={"body": "   "})
    assert empty.status_code == 422 and "Write your reply first" in empty.text
    long = client.post(f"/status/{token}/reply", data={"body": "x" * 5001})
    assert long.status_code == 422 and "5,000" in long.text
    assert empty.headers["Cache-Control"] == "no-store"
    with app.app_context():
        mine = db.session.execute(select(Comment).where(Comment.from_requester)).scalars().all()
        assert len(mine) == 1 and mine[0].author_id is None
        card = db.session.get(Card, card_id)
        assert card.first_reply_at is None  # the requester's own words answer nothing


def test_a_revoked_or_unknown_link_cannot_post(app, client, board):
    card_id = filed(app, board)
    token = link_of(app, board, card_id)
    with app.app_context():
        intake.revoke_status_link(board["board"], person(board, "lee", "lead"), card_id)
        db.session.remove()
    assert client.post(f"/status/{token}/reply", data={"body": "hello"}).status_code == 404
    assert client.post("/status/short/reply", data={"body": "hello"}).status_code == 404
    with app.app_context():
        assert db.session.execute(select(Comment)).first() is None


def test_replies_are_rate_limited_per_link(tmp_path):
    app = new_app(
        app_config(
            "sqlite:///" + str(tmp_path / "limited.sqlite3"),
            RATELIMIT_ENABLED=True,
            STATUS_REPLY_RATE="2 per hour",
        )
    )
    with app.app_context():
        db.create_all()
        from tests.helpers import make_board, make_user

        board = make_board()
        sam = actor(make_user("sam", board=board, role="support"), "support")
        tokens = []
        for title in ("One", "Two"):
            card = intake.file_request(
                board.id, sam, REQUEST | {"title": title}, intake.new_intake_key()
            ).card
            tokens.append(intake.create_status_link(board.id, sam, card.id).token)
        db.session.remove()
    client = app.test_client()
    answers = [client.post(f"/status/{tokens[0]}/reply", data={"body": f"n{i}"}) for i in range(3)]
    assert [a.status_code for a in answers] == [303, 303, 429]
    assert "Wait a while" in answers[-1].text
    other = client.post(f"/status/{tokens[1]}/reply", data={"body": "mine"})
    assert other.status_code == 303  # another link has its own count


# -- the tile's clock on the kept grid -------------------------------------------------


def test_the_tiles_clock_shows_on_a_kept_grid_as_time_passes(app, client, board):
    """No change to the board between the three looks: the kept grid goes stale by itself
    when the S1's clock reaches under 20% left, then late."""
    with time_machine.travel(START, tick=False):
        card_id = filed(app, board, severity="S1")
        Auth(client).login("ann")
    path = url(board)

    def clock_of(moment):
        with time_machine.travel(moment, tick=False):
            tile = parse(client.get(path, headers=HX).text).find(f"card-{card_id}")
        found = re.search(r'class="(clk \w+)"', tile.text())
        return found.group(1) if found else ""

    assert clock_of(START + timedelta(minutes=10)) == ""
    assert clock_of(START + timedelta(minutes=20)) == ""  # kept
    assert clock_of(START + timedelta(minutes=25)) == "clk near"
    assert clock_of(START + timedelta(minutes=31)) == "clk late"
    # A reply to the requester stops the first response clock: a new board version.
    with time_machine.travel(START + timedelta(minutes=32), tick=False):
        with app.app_context():
            intake.add_comment(
                board["board"], person(board, "ann", "member"), card_id, "On it", "reply"
            )
            db.session.remove()
    assert clock_of(START + timedelta(minutes=33)) == ""  # 4 h to resolve from filing


def test_the_report_shows_the_share_within_target(app, client, board):
    with time_machine.travel(START, tick=False):
        quick = filed(app, board, severity="S1")
        filed(app, board, severity="S1")
        with app.app_context():
            intake.add_comment(board["board"], person(board, "ann", "member"), quick, "Hi", "reply")
            db.session.remove()
        Auth(client).login("lee")
    with time_machine.travel(START + timedelta(hours=2), tick=False):
        page = client.get(url(board, "/report"))
    table = parse(page.text).find("targets-table").text()
    assert "50%<small>(1 of 2)</small>" in table  # answered: one in time, one late
