"""The production-emergency banner: on every board page while an S1 incident is not
mitigated (unassigned for how long, then its stage), and its cheap poll."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask import url_for

from tests.helpers import BoardSpec, CardSpec, actor, make_card, statements_sent
from tracker import clock
from tracker.extensions import db
from tracker.models import Board, Card, User
from tracker.services import board_view, cards, emergency, incidents

HX = {"HX-Request": "true"}
START = "2026-03-04 09:00:00+00:00"


@pytest.fixture
def board_spec():
    """A board with a member, a lead, a viewer, a support person and an outsider."""
    return BoardSpec(
        people={"ann": "member", "lee": "lead", "vic": "viewer", "sam": "support"}
        | {"out": None, "ada": "admin"},
        cards=(CardSpec(None, "feature", "Ordinary work"),),
    )


def file_s1(app, ids, title="Checkout is down", **fields) -> tuple[int, str]:
    """An S1 filed into the Expedite lane's Ready queue, unassigned (as intake files it)."""
    with app.app_context():
        fields = {"title": title, "severity": "S1", **fields}
        card = cards.create_card(ids["board"], actor(_ann(ids)), ids["expedite_lane"], fields)
        found = card.id, card.ref
        db.session.remove()
    return found


def _ann(ids) -> User:
    return db.session.get(User, ids["ann"])


def change(app, ids, what, card_id) -> None:
    """Do one thing to a card as the member ann."""
    with app.app_context():
        who = actor(_ann(ids))
        if what == "assign":
            cards.assign_card(ids["board"], who, card_id, ids["ann"])
        elif what == "pull":
            assert cards.pull_next(ids["board"], who).card.id == card_id
        elif what == "start":
            cards.move_card(
                ids["board"],
                actor(_ann(ids), "lead"),
                card_id,
                lane_id=ids["expedite_lane"],
                column_id=ids["In progress"],
                reason="test",
            )
        elif what == "close":
            cards.close_card(ids["board"], who, card_id, "duplicate", "Same as EXP-1")
        elif what == "mitigate":
            cards.pull_next(ids["board"], who)
            incidents.mitigate(ids["board"], who, card_id, "rolled back to 4.2.1")
        db.session.remove()


def banner_of(html: str) -> str:
    """The #emergency container's markup."""
    return re.search(r'<div id="emergency".*?\n</div>', html, re.S).group(0)


def key_of(html: str) -> str:
    return re.search(r'hx-get="[^"]*\?key=([^"&]*)', banner_of(html)).group(1)


def test_banner_on_the_board_page_while_an_s1_waits(app, client, auth, board):
    with time_machine.travel(START, tick=False) as traveller:
        card_id, ref = file_s1(app, board)
        traveller.shift(timedelta(minutes=4, seconds=30))
        auth.login("ann")
        page = client.get(f"/b/{board['board']}")
    shown = banner_of(page.text)
    assert 'role="alert"' in shown
    assert f"Production emergency: {ref} — unassigned for 4 min" in shown
    assert f'href="/b/{board["board"]}/cards/{card_id}"' in shown
    assert "Checkout is down" in shown
    assert 'hx-trigger="every 3s' in shown
    assert key_of(page.text)  # the state it shows, sent back by the poll


@pytest.mark.parametrize("who", ["lee", "ada"])  # the board's lead, and an admin
def test_every_board_page_shows_it(client, auth, board, app, who):
    """Every full HTML page of the board, found by walking the URL map (a new page that
    forgets the banner fails here), shows it."""
    card_id, ref = file_s1(app, board)
    auth.login(who)
    values = {"board_id": board["board"], "card_id": card_id}
    pages = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" in rule.methods and "board_id" in rule.arguments <= values.keys():
                pages.append(url_for(rule.endpoint, **{k: values[k] for k in rule.arguments}))
    shown = []
    for path in pages:
        page = client.get(path)
        if page.status_code != 200 or "<html" not in page.text:
            continue  # a fragment, a CSV, a redirect or a page this role may not see
        assert f"Production emergency: {ref}" in banner_of(page.text), path
        shown.append(path)
    b = board["board"]
    assert {f"/b/{b}", f"/b/{b}/report", f"/b/{b}/requests", f"/b/{b}/done"} <= set(shown)


def test_several_waiting_are_listed_oldest_first(app, client, auth, board):
    with time_machine.travel(START, tick=False) as traveller:
        _, first = file_s1(app, board, "Database full")
        traveller.shift(timedelta(hours=2, minutes=5))
        _, second = file_s1(app, board, "Login fails")
        traveller.shift(timedelta(minutes=1))
        auth.login("vic")
        shown = banner_of(client.get(f"/b/{board['board']}").text)
    assert shown.index(first) < shown.index(second)
    assert f"{first} — unassigned for 2 h 6 min" in shown
    assert f"{second} — unassigned for 1 min" in shown


@pytest.mark.parametrize("what", ["assign", "pull", "start"])
def test_once_someone_is_on_it_the_banner_shows_the_stage_until_mitigation(
    app, client, auth, board, what
):
    card_id, ref = file_s1(app, board)
    change(app, board, what, card_id)
    auth.login("vic")
    shown = banner_of(client.get(f"/b/{board['board']}").text)
    if what == "start":  # moved into work by hand without taking it: nobody holds it yet
        assert f"Production emergency: {ref} · opened less than 1 min ago" in shown
        assert "not acknowledged" in shown
    else:
        assert f"Production emergency: {ref} · acknowledged by Ann Person" in shown
        assert "not mitigated" in shown and "unassigned" not in shown


@pytest.mark.parametrize("what", ["mitigate", "close"])
def test_no_banner_once_mitigated_or_closed(app, client, auth, board, what):
    card_id, ref = file_s1(app, board)
    change(app, board, what, card_id)
    auth.login("ann")
    page = client.get(f"/b/{board['board']}")
    assert "Production emergency" not in page.text
    assert 'role="alert"' not in banner_of(page.text)
    assert key_of(page.text) == ""


def test_no_banner_for_other_severities_or_lanes(app, client, auth, board):
    with app.app_context():
        b = db.session.get(Board, board["board"])
        ann = actor(_ann(board))
        make_card(b, ann, "expedite", "Slow search", severity="S2")
        make_card(b, ann, "support", "S1 typed into the wrong lane", severity="S1")
        db.session.remove()
    auth.login("ann")
    assert "Production emergency" not in client.get(f"/b/{board['board']}").text


def test_the_poll_answers_the_banner_then_204_while_nothing_changes(app, client, auth, board):
    poll = f"/b/{board['board']}/emergency"
    with time_machine.travel(START, tick=False) as traveller:
        auth.login("sam")  # in the travelled time: a session signed later would be refused
        quiet = client.get(poll + "?key=", headers=HX)
        assert quiet.status_code == 204 and quiet.data == b""
        card_id, ref = file_s1(app, board)
        fresh = client.get(poll + "?key=", headers=HX)
        assert fresh.status_code == 200
        assert fresh.text.startswith('<div id="emergency"')
        assert f"Production emergency: {ref} — unassigned for less than 1 min" in fresh.text
        key = key_of(fresh.text)
        assert client.get(f"{poll}?key={key}", headers=HX).status_code == 204

        traveller.shift(timedelta(minutes=1))  # the words change, so it is sent again
        later = client.get(f"{poll}?key={key}", headers=HX)
        assert later.status_code == 200 and "unassigned for 1 min" in later.text
        key = key_of(later.text)

        change(app, board, "mitigate", card_id)
        gone = client.get(f"{poll}?key={key}", headers=HX)
    assert gone.status_code == 200
    assert "Production emergency" not in gone.text and key_of(gone.text) == ""
    assert gone.headers["Cache-Control"] == "no-store"


def test_without_a_key_the_fragment_is_always_sent(client, auth, board):
    auth.login("ann")
    response = client.get(f"/b/{board['board']}/emergency")
    assert response.status_code == 200 and response.text.startswith('<div id="emergency"')


@pytest.mark.parametrize("who", ["ann", "lee", "vic", "sam", "ada"])
def test_everyone_who_may_view_the_board_may_poll(app, client, auth, board, who):
    _, ref = file_s1(app, board)
    auth.login(who)
    response = client.get(f"/b/{board['board']}/emergency", headers=HX)
    assert response.status_code == 200 and ref in response.text


def test_outsiders_get_404_and_logged_out_polls_go_to_login(app, client, auth, board):
    file_s1(app, board)
    poll = f"/b/{board['board']}/emergency?key="
    anonymous = client.get(poll, headers=HX)
    assert anonymous.status_code == 401
    assert anonymous.headers["HX-Redirect"].startswith("/login")
    auth.login("out")
    assert client.get(poll, headers=HX).status_code == 404
    assert client.get("/b/999999/emergency?key=", headers=HX).status_code == 404


def sql_of(app, client, path: str) -> tuple[list[str], object]:
    """Run one request; the SQL statements the engine sent for it, and the response."""
    return statements_sent(app, lambda: client.get(path, headers=HX))


@pytest.mark.parametrize("waiting", [0, 3])
def test_a_poll_is_one_query_for_the_banner_and_writes_nothing(app, client, auth, board, waiting):
    for i in range(waiting):
        file_s1(app, board, f"Emergency {i}")
    auth.login("ann")
    poll = f"/b/{board['board']}/emergency"
    for path, status in ((poll, 200), (poll + "?key=" + key_of(client.get(poll).text), 204)):
        sent, response = sql_of(app, client, path)
        assert response.status_code == status
        queries = [s for s in sent if s != "BEGIN"]  # SQLite's explicit BEGIN (tracker.database)
        # The person (Flask-Login) with the board and their role, and the banner (the S1
        # incidents not mitigated and the break-glass access still open): nothing else
        # while nobody is on an emergency (once someone is, its history names who).
        assert len(queries) == 2, queries
        assert queries[0].startswith("SELECT user_account.")
        assert "JOIN board" in queries[0] and "JOIN membership" in queries[0]
        assert [s for s in queries if "FROM card" in s] == [queries[1]]
        assert "FROM break_glass_grant" in queries[1]
        assert all(s.startswith("SELECT") for s in queries)
        assert "Set-Cookie" not in response.headers  # no session refresh, nothing to persist
        assert response.headers.get("Cache-Control") == "no-store"


@pytest.mark.parametrize("held", [1, 4])
def test_the_incidents_someone_is_on_cost_the_same_statements_however_many(
    app, client, auth, board, held
):
    """The stage lines of the incidents being worked are read together (their lanes, the
    board's people and their histories: three statements), not three per incident."""
    made = [file_s1(app, board, f"Emergency {i}")[0] for i in range(held)]
    for card_id in made:
        change(app, board, "assign", card_id)
    auth.login("ann")
    sent, response = sql_of(app, client, f"/b/{board['board']}/emergency")
    assert response.status_code == 200
    assert response.text.count("acknowledged by Ann Person") == held
    queries = [s for s in sent if s != "BEGIN"]
    assert len(queries) == 2 + 4, queries  # person, banner; drills, lanes, histories, people
    with app.app_context():
        kinds = incidents.lane_kinds(board["board"])
        together = incidents.stages_of({card_id: False for card_id in made}, kinds)
        one_by_one = [  # each from its whole history, every event and change set
            incidents.incident_of(db.session.get(Card, i), history=board_view.card_history(i))
            for i in made
        ]
        db.session.remove()
    assert together == one_by_one


def test_the_poll_changes_nothing_in_the_database(app, client, auth, board):
    card_id, _ = file_s1(app, board)
    with app.app_context():
        before = (
            db.session.get(Card, card_id).version,
            db.session.get(Board, board["board"]).version,
        )
        db.session.remove()
    auth.login("ann")
    for _ in range(3):
        client.get(f"/b/{board['board']}/emergency", headers=HX)
    with app.app_context():
        after = db.session.get(Card, card_id).version, db.session.get(Board, board["board"]).version
        db.session.remove()
    assert after == before


def test_the_banner_uses_the_clock(app, board):
    """The wait is counted from the card's creation to tracker.clock's now."""
    with time_machine.travel(START, tick=False):
        card_id, ref = file_s1(app, board)
    with app.app_context(), clock.fixed(datetime(2026, 3, 4, 11, 0, 59, tzinfo=UTC)):
        (alarm,) = emergency.banner(board["board"]).alarms
        db.session.remove()
    assert alarm.text == f"Production emergency: {ref} — unassigned for 2 h"
    assert alarm.card_id == card_id


def test_a_new_emergency_is_announced_but_the_minute_ticks_are_not(app, client, auth, board):
    poll = f"/b/{board['board']}/emergency"
    with time_machine.travel(START, tick=False) as traveller:
        auth.login("sam")
        card_id, ref = file_s1(app, board)
        first = client.get(poll + "?key=&cards=", headers=HX)
        assert 'role="alert"' in first.text  # a new emergency: screen readers say it
        cards = re.search(r"cards=([0-9%C,]*)", first.text).group(1).replace("%2C", ",")
        assert cards == str(card_id)
        traveller.shift(timedelta(minutes=1))
        tick = client.get(f"{poll}?key={key_of(first.text)}&cards={cards}", headers=HX)
        assert "unassigned for 1 min" in tick.text
        assert 'role="alert"' not in tick.text  # the same card: updated, not re-announced


def test_the_banner_trigger_needs_no_eval(app, client, auth, board):
    """An hx-trigger filter ([...]) is evaluated as script, which the CSP (and htmx's
    allowEval: false) forbids: the banner would log htmx:evalDisallowedError on every page."""
    auth.login("ann")
    page = client.get(f"/b/{board['board']}")
    trigger = re.search(r'id="emergency"[^>]*hx-trigger="([^"]*)"', page.text).group(1)
    assert "[" not in trigger, trigger
