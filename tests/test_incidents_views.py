"""Incidents on the card panel (web.incidents): every route with and without htmx, for
each role, with bad input and another board's ids; the drill label on the tile and the
banner; resolving refused while access is open; overdue access on the banner."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from tests.helpers import BoardSpec, CardSpec, actor, make_board, make_card, make_user
from tracker import clock
from tracker.extensions import db
from tracker.models import BreakGlassGrant, User
from tracker.services import incidents

HX = {"HX-Request": "true"}


@pytest.fixture
def board_spec():
    return BoardSpec(
        people={"ann": "member", "lee": "lead", "vic": "viewer", "sam": "support"},
        cards=(
            CardSpec("s1", "expedite", "Checkout is down", fields={"severity": "S1"}),
            CardSpec("feat", "feature", "Ordinary work"),
        ),
    )


def end_time(hours=2) -> str:
    """An expected end typed on the board's clock (the default board runs on UTC)."""
    return (clock.now() + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M")


def grant_form(board, **more) -> dict:
    return {
        "holder": str(board["ann"]),
        "target": "orders-db primary, write",
        "why": "fix the stuck orders",
        "buddy": str(board["lee"]),
        "expected_end": end_time(),
    } | more


def record(app, board, hours=2) -> int:
    with app.app_context():
        ann = actor(db.session.get(User, board["ann"]))
        now = clock.now()
        given = incidents.GrantInput(
            ann.id, "orders-db", "fix", board["lee"], "", now, now + timedelta(hours=hours)
        )
        grant_id = incidents.record_grant(board["board"], ann, board["s1"], given).id
        db.session.remove()
    return grant_id


def test_the_panel_shows_the_incident_with_its_controls(client, auth, board):
    auth.login("ann")
    for headers in (HX, {}):
        page = client.get(f"/b/{board['board']}/cards/{board['s1']}", headers=headers)
        assert page.status_code == 200
        assert f'id="incident-{board["s1"]}"' in page.text
        assert "not acknowledged" in page.text
        assert ">Mitigated</button>" in page.text
        assert "Record break-glass access" in page.text
        assert "Log and timeline" in page.text


def test_a_card_that_never_was_an_emergency_has_no_incident(client, auth, board):
    auth.login("ann")
    page = client.get(f"/b/{board['board']}/cards/{board['feat']}", headers=HX)
    assert "Log and timeline" not in page.text and ">History<" in page.text


@pytest.mark.parametrize("who", ["vic", "sam"])
def test_readers_see_the_incident_but_no_controls(client, auth, board, who):
    auth.login(who)
    page = client.get(f"/b/{board['board']}/cards/{board['s1']}", headers=HX)
    assert "not acknowledged" in page.text
    assert ">Mitigated</button>" not in page.text and "Add to the log" not in page.text
    url = f"/b/{board['board']}/cards/{board['s1']}/mitigate"
    assert client.post(url, data={"note": "x"}, headers=HX).status_code == 403


def test_mitigate_log_and_drill_with_htmx_answer_the_section(client, auth, board):
    auth.login("ann")
    base = f"/b/{board['board']}/cards/{board['s1']}"
    logged = client.post(f"{base}/log", data={"text": "restarted the workers"}, headers=HX)
    assert logged.status_code == 200 and logged.text.startswith("<section")
    assert "logged: restarted the workers" in logged.text and "Added to the log." in logged.text
    drill = client.post(f"{base}/drill", data={"drill": "1"}, headers=HX)
    assert 'class="drill-label">Drill<' in drill.text and "Not a drill" in drill.text
    done = client.post(f"{base}/mitigate", data={"note": "rolled back to 4.2.1"}, headers=HX)
    assert done.status_code == 200 and "Mitigated after" in done.text
    assert ">Mitigated</button>" not in done.text
    board_page = client.get(f"/b/{board['board']}")
    assert 'class="drill-label">Drill<' in board_page.text  # on the tile


def test_without_htmx_each_change_redirects_to_the_card(client, auth, board):
    auth.login("ann")
    base = f"/b/{board['board']}/cards/{board['s1']}"
    answer = client.post(f"{base}/log", data={"text": "looking at the logs"})
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith(f"/cards/{board['s1']}#incident-{board['s1']}")
    shown = client.get(answer.headers["Location"])
    assert "Added to the log." in shown.text and "looking at the logs" in shown.text


@pytest.mark.parametrize(
    ("path", "data", "message"),
    [
        ("mitigate", {"note": " "}, "Say what mitigated it."),
        ("log", {"text": ""}, "Write the log entry first."),
        ("drill", {"drill": "maybe"}, "Choose a drill or a real incident."),
        ("grants", {"target": "db"}, "Choose who holds the access."),
    ],
)
@pytest.mark.parametrize("headers", [HX, {}])
def test_bad_input_is_422_with_the_message(client, auth, board, path, data, message, headers):
    auth.login("ann")
    url = f"/b/{board['board']}/cards/{board['s1']}/{path}"
    answer = client.post(url, data=data, headers=headers)
    assert answer.status_code == 422
    assert message in answer.text
    assert 'role="alert"' in answer.text


def test_a_rule_refusal_keeps_what_was_typed(client, auth, board):
    auth.login("ann")
    url = f"/b/{board['board']}/cards/{board['s1']}/grants"
    form = grant_form(board, buddy=str(board["ann"]))  # the holder cannot be their own buddy
    answer = client.post(url, data=form, headers=HX)
    assert answer.status_code == 422
    assert "someone other than" in answer.text
    assert 'value="orders-db primary, write"' in answer.text


def test_incident_actions_on_a_card_that_is_not_one_are_refused(client, auth, board):
    auth.login("ann")
    url = f"/b/{board['board']}/cards/{board['feat']}/log"
    answer = client.post(url, data={"text": "x"}, headers=HX)
    assert answer.status_code == 422 and "not an incident" in answer.text


def test_a_grant_recorded_shows_open_in_red_then_ended(client, auth, board):
    auth.login("ann")
    url = f"/b/{board['board']}/cards/{board['s1']}/grants"
    made = client.post(url, data=grant_form(board), headers=HX)
    assert made.status_code == 200
    assert 'class="grant open"' in made.text and "still open" in made.text
    grant_id = _grant_id(client, board)
    ended = client.post(f"/b/{board['board']}/grants/{grant_id}/end", headers=HX)
    assert ended.status_code == 200
    assert 'class="grant open"' not in ended.text and "revoked as confirmed by Ann" in ended.text
    again = client.post(f"/b/{board['board']}/grants/{grant_id}/end", headers=HX)
    assert again.status_code == 422 and "ended already" in again.text


def _grant_id(client, board) -> int:
    with client.application.app_context():
        found = db.session.execute(select(BreakGlassGrant.id)).scalars().all()
        db.session.remove()
    return found[-1]


def test_resolving_with_access_open_is_refused_with_a_clear_message(app, client, auth, board):
    grant_id = record(app, board)
    auth.login("ann")
    move = f"/b/{board['board']}/cards/{board['s1']}/move"
    target = {"target": f"{board['expedite_lane']}:{board['Done']}"}
    refused = client.post(move, data=target, headers=HX)
    assert refused.status_code == 422
    assert "still has break-glass access open" in refused.text
    leave = f"/b/{board['board']}/grants/{grant_id}/leave-open"
    assert client.post(leave, data={"reason": ""}, headers=HX).status_code == 422
    kept = client.post(leave, data={"reason": "ops revoke it at 18:00"}, headers=HX)
    assert "Left open on resolving: ops revoke it at 18:00" in kept.text
    assert client.post(move, data=target).status_code == 303


def test_overdue_access_shows_on_the_board_banner(app, client, auth, board):
    record(app, board, hours=1)
    auth.login("vic")
    assert "Break-glass access still open" not in client.get(f"/b/{board['board']}").text
    with time_machine.travel(clock.now() + timedelta(hours=2), tick=False):
        auth.login("vic")
        page = client.get(f"/b/{board['board']}")
    assert "Break-glass access still open: Ann Person on orders-db since" in page.text


def test_another_boards_card_and_grant_are_not_found(app, client, auth, board):
    with app.app_context():
        other = make_board("Other")
        bob = make_user("bob", board=other, role="lead")
        theirs = make_card(other, actor(bob, "lead"), "expedite", "Theirs", severity="S1")
        other_id, their_card = other.id, theirs.id
        db.session.remove()
    grant_id = record(app, board)
    auth.login("bob")
    for path in ("mitigate", "log", "drill", "grants"):
        url = f"/b/{other_id}/cards/{board['s1']}/{path}"
        data = {"note": "x", "text": "x", "drill": "1"} | grant_form(board)
        assert client.post(url, data=data).status_code == 404, path
    for path in ("end", "leave-open"):
        url = f"/b/{other_id}/grants/{grant_id}/{path}"
        assert client.post(url, data={"reason": "x"}).status_code == 404, path
    auth.logout()
    auth.login("ann")
    url = f"/b/{board['board']}/cards/{their_card}/log"
    assert client.post(url, data={"text": "x"}).status_code == 404


def test_the_grants_page_lists_a_periods_grants_for_leads_with_csv(app, client, auth, board):
    record(app, board)
    auth.login("lee")
    page = client.get(f"/b/{board['board']}/grants")
    assert page.status_code == 200
    assert "Ann Person" in page.text and "orders-db" in page.text and "Lee Person" in page.text
    assert 'class="open"' in page.text and "still open" in page.text
    today = clock.now().date()
    shown = f"grants.csv?since={today - timedelta(days=89)}&amp;until={today}"
    assert shown in page.text  # the CSV of the period shown: the last 90 days
    csv_url = f"/b/{board['board']}/grants.csv?since={today}&until={today}"
    csv = client.get(csv_url)
    assert csv.mimetype == "text/csv"
    lines = csv.text.splitlines()
    assert lines[0].startswith("grant_id,card,holder,on,why,buddy,granted_at_utc")
    assert len(lines) == 2 and ",Ann Person,orders-db,fix,Lee Person," in lines[1]
    earlier = today - timedelta(days=400)
    empty = client.get(f"/b/{board['board']}/grants?since={earlier}&until={earlier}")
    assert "No break-glass access was recorded in this period." in empty.text
    odd = client.get(f"/b/{board['board']}/grants?since=nonsense&until=99999-1-1")
    assert odd.status_code == 200 and "orders-db" in odd.text  # odd dates: the default period


@pytest.mark.parametrize("who", ["ann", "vic", "sam"])
def test_only_leads_read_the_grants_page(client, auth, board, who):
    auth.login(who)
    assert client.get(f"/b/{board['board']}/grants").status_code == 403
    assert client.get(f"/b/{board['board']}/grants.csv").status_code == 403
