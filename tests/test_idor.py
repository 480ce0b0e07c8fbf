"""Changing an id in the URL: nobody sees or changes a card, request, sprint, component, board
or status link they have no right to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.helpers import (
    Auth,
    actor,
    add_webhook_row,
    column,
    fingerprint,
    lane,
    make_board,
    make_user,
)
from tracker import clock
from tracker.domain.vocabulary import TokenScope, WebhookEvent
from tracker.extensions import db
from tracker.models import Card, RotationAway, RotationTerm, StatusLink, User
from tracker.services import (
    alerts,
    cards,
    desk,
    incidents,
    intake,
    labels,
    reports,
    rotation,
    tokens,
)
from tracker.web.access import PERMISSIONS, ROUTES
from tracker.web.api.spec import REGISTRY

SECRET = "Quartz-only secret"
NOTE = "internal: the customer is on the old plan"
REQUEST = {
    "title": f"{SECRET} request",
    "description": "Only the team reads this description.",
    "requester": "Rita Requester",
    "requester_email": "rita@example.org",
    "severity": "S3",
    "component": "Other",
    "environment": "",
}


@dataclass
class Objects:
    """One board's objects (ids), and a working status-link token for its request."""

    board: int
    card: int
    sprint: int
    component: int
    label: int
    token: str
    lane: int
    column: int
    term: int
    away: int
    lead: int
    comment: int
    alert_token: int
    hook: int
    grant: int
    canned: int


def objects_of(board, lead, support) -> Objects:
    filed = intake.file_request(board.id, support, REQUEST, intake.new_intake_key()).card
    note = intake.add_comment(board.id, lead, filed.id, NOTE, "internal").id
    intake.add_comment(board.id, lead, filed.id, "We are on it.", "reply")
    token = intake.create_status_link(board.id, lead, filed.id).token
    sprint = reports.add_sprint(board.id, lead, reports.SprintInput("Sprint 1", *_days(), 10, None))
    component = intake.add_component(board.id, lead, "Billing")
    rotation.save_setup(
        board.id, lead, enabled=True, on_duty=1, term_periods=1, staggered=False, pool=[lead.id]
    )
    rotation.add_away(board.id, lead, lead.id, date(2027, 3, 1), date(2027, 3, 5))
    alert_token = alerts.create_token(board.id, lead, "prom").row.id
    hook = add_webhook_row(board.id, "http://127.0.0.1:9/hook", (WebhookEvent.PING,)).id
    term = (
        db.session.execute(select(RotationTerm.id).where(RotationTerm.board_id == board.id))
        .scalars()
        .first()
    )
    away = db.session.execute(
        select(RotationAway.id).where(RotationAway.board_id == board.id)
    ).scalar_one()
    db.session.commit()  # no read left open before the next use case takes the write lock
    label = labels.add_label(board.id, lead, "Bug", "red")
    grant = _grant(board, lead)
    canned = desk.add_canned_reply(board.id, lead, "Need logs", "Could you send the logs?")
    return Objects(
        board.id,
        filed.id,
        sprint.id,
        component.id,
        label.id,
        token,
        lane(board, "feature").id,
        column(board, "Ready").id,
        term,
        away,
        lead.id,
        note,
        alert_token,
        hook,
        grant,
        canned.id,
    )


def _grant(board, lead) -> int:
    """Break-glass access recorded on an S1 incident of the board (its holder the lead)."""
    fields = {"title": f"{SECRET} outage", "severity": "S1"}
    s1 = cards.create_card(board.id, lead, lane(board, "expedite").id, fields)
    now = clock.now()
    given = incidents.GrantInput(
        lead.id, "orders-db", "fix", None, "Ops Olga", now, now + timedelta(hours=2)
    )
    return incidents.record_grant(board.id, lead, s1.id, given).id


def _days():
    return date(2026, 3, 2), date(2026, 3, 13)


@pytest.fixture
def boards(app):
    """Alpha and Bravo; lee leads Alpha only, pat is a member of Alpha only."""
    with app.app_context():
        alpha, bravo = make_board("Alpha"), make_board("Bravo")
        lee = make_user("lee", board=alpha, role="lead")
        make_user("pat", board=alpha, role="member")
        sue = make_user("sue", board=alpha, role="support")
        bob = make_user("bob", board=bravo, role="lead")
        bsup = make_user("bsup", board=bravo, role="support")
        a = objects_of(alpha, actor(lee, "lead"), actor(sue, "support"))
        b = objects_of(bravo, actor(bob, "lead"), actor(bsup, "support"))
    return a, b


def login(app, name):
    """A client logged in as the person, bearing a read-write API token of theirs too."""
    client = app.test_client()
    assert Auth(client).login(name).status_code == 302
    with app.app_context():
        user = db.session.execute(db.select(User).filter_by(username=name)).scalar_one()
        secret = tokens.create_token(user, "idor", TokenScope.READ_WRITE, None).secret
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
    return client


METHODS = {"GET", "POST", "PATCH"}


def sent(rule, data: dict | None) -> dict:
    """What a request to the rule carries: the form data, or for an API route the same
    values as its JSON body (those its model takes; tracker.web.api.spec)."""
    operation = REGISTRY.get(rule.endpoint)
    if operation is None:
        return {"data": data}
    if operation.body is None or data is None:
        return {}
    fields = operation.body.model_fields
    values = data | {"blocked": True, "assignee_id": None}
    return {"json": {k: v for k, v in values.items() if k in fields}}


def object_rules(app):
    """Every board route that names an object of the board."""
    objects = {
        "card_id",
        "sprint_id",
        "component_id",
        "term_id",
        "away_id",
        "comment_id",
        "label_id",
        "alert_token_id",
        "hook_id",
        "grant_id",
        "incident_id",
        "canned_id",
    }
    return [rule for rule in board_rules(app) if rule.arguments & objects]


def board_rules(app):
    """Every route whose access is a role on the board in its URL."""
    return [rule for rule in app.url_map.iter_rules() if ROUTES[rule.endpoint] in PERMISSIONS]


def valid_looking(ours: Objects, theirs: Objects) -> dict:
    """Form data that would pass each form's shape check, so the refusal is about the id."""
    sprint = {"name": "Taken", "start_on": "2026-06-01", "end_on": "2026-06-12"}
    sprint |= {"capacity_days": "5", "capacity_points": ""}
    return {
        "title": "Taken over",
        "version": "1",
        "target": f"{ours.lane}:{ours.column}",
        "lane_id": str(ours.lane),
        "column_id": str(ours.column),
        "reason": "Taken over",
        "note": "Taken over",
        "why": "wont_do",
        "direction": "up",
        "assignee": "",
        "body": "Taken over",
        "visibility": "reply",
        "action": "revoke",
        "event": "1",
        "confirm": "delete",
        "watch": "1",
        "name": "Taken over",
        "colour": "blue",
        "text": "Taken over",
        "drill": "1",
        "lane": "support",
        "holder": str(ours.lead),
        "buddy_name": "Taken over",
        "expected_end": "2030-01-01T10:00",
        **{f"s{theirs.sprint}-{k}": v for k, v in sprint.items()},
        f"t{theirs.term}-person": str(ours.lead),
    }


def fill(rule, board: int, objects: Objects) -> str:
    values = {"board_id": board, "card_id": objects.card, "sprint_id": objects.sprint}
    values["component_id"] = objects.component
    values |= {"term_id": objects.term, "away_id": objects.away, "chart": "cfd"}
    values["comment_id"] = objects.comment
    values["label_id"] = objects.label
    values |= {"alert_token_id": objects.alert_token, "hook_id": objects.hook}
    values["grant_id"] = objects.grant
    values["incident_id"] = objects.card
    values["canned_id"] = objects.canned
    return rule.build({k: v for k, v in values.items() if k in rule.arguments})[1]


def test_another_boards_ids_through_my_boards_urls_are_not_found(app, boards):
    """Lee leads Alpha, so every permission passes: what refuses is the id's board."""
    alpha, bravo = boards
    lee = login(app, "lee")
    rules = object_rules(app)
    assert len(rules) >= 10
    with app.app_context():
        before = fingerprint()
    for rule in rules:
        url = fill(rule, alpha.board, bravo)
        for method in METHODS & rule.methods:
            data = valid_looking(alpha, bravo) if method != "GET" else None
            response = lee.open(url, method=method, **sent(rule, data))
            assert response.status_code == 404, f"{method} {url}: {response.status_code}"
            assert SECRET not in response.text and NOTE not in response.text
    with app.app_context():
        assert fingerprint() == before


def test_the_same_urls_with_my_own_ids_do_work(app, boards):
    """The control for the test above: the data is good enough to reach the change."""
    alpha, _ = boards
    lee = login(app, "lee")
    data = valid_looking(alpha, alpha)
    url = f"/b/{alpha.board}/requests/{alpha.card}/comments"
    assert lee.post(url, data=data).status_code == 303
    assert lee.post(f"/b/{alpha.board}/sprints/{alpha.sprint}", data=data).status_code == 303
    move = lee.post(f"/b/{alpha.board}/cards/{alpha.card}/move", data=data)
    assert move.status_code == 303


def test_a_board_i_do_not_belong_to_is_not_found_whatever_the_ids(app, boards):
    alpha, bravo = boards
    pat = login(app, "pat")
    assert "Bravo" not in pat.get("/").text
    with app.app_context():
        before = fingerprint()
    for rule in board_rules(app):
        url = fill(rule, bravo.board, bravo)
        for method in METHODS & rule.methods:
            response = pat.open(url, method=method, **sent(rule, valid_looking(bravo, bravo)))
            assert response.status_code == 404, f"{method} {url}: {response.status_code}"
            assert SECRET not in response.text
    with app.app_context():
        assert fingerprint() == before


def test_status_links_of_another_boards_request_cannot_be_made_or_revoked(app, boards):
    alpha, bravo = boards
    for name in ("lee", "sue"):  # a lead and a support person of Alpha
        client = login(app, name)
        for action in ("create", "revoke"):
            for board in (alpha.board, bravo.board):
                url = f"/b/{board}/requests/{bravo.card}/status-link"
                assert client.post(url, data={"action": action}).status_code == 404
    assert app.test_client().get(f"/status/{bravo.token}").status_code == 200
    with app.app_context():
        links = db.session.execute(select(StatusLink).where(StatusLink.card_id == bravo.card))
        assert [link.revoked_at for link in links.scalars()] == [None]


def test_support_reads_every_request_on_their_board_but_acts_only_on_their_own(app, boards):
    """Support sees the board read-only, so a request someone else filed is readable; they
    comment on and share only what they filed, and My requests lists only that."""
    alpha, bravo = boards
    sue = login(app, "sue")
    with app.app_context():
        for who, role, title in (
            ("sue", "support", "Filed by sue"),
            ("lee", "lead", "Filed by the lead"),
        ):
            key = intake.new_intake_key()
            values = REQUEST | {"title": title}
            card = intake.file_request(alpha.board, actor(_user(who), role), values, key).card
        lead_card = card.id
        own_card = db.session.execute(
            select(Card.id).where(Card.title == "Filed by sue")
        ).scalar_one()
    page = sue.get(f"/b/{alpha.board}/requests/{lead_card}")
    assert page.status_code == 200 and "Filed by the lead" in page.text
    assert 'name="body"' not in page.text  # no comment form on someone else's request
    assert 'name="body"' in sue.get(f"/b/{alpha.board}/requests/{own_card}").text
    mine = sue.get(f"/b/{alpha.board}/requests").text
    assert "Filed by sue" in mine and "Filed by the lead" not in mine
    comment = {"body": "Customer called again", "visibility": "internal"}
    refused = sue.post(f"/b/{alpha.board}/requests/{lead_card}/comments", data=comment)
    assert refused.status_code == 403 and "filed by someone else" in refused.text
    linked = sue.post(
        f"/b/{alpha.board}/requests/{lead_card}/status-link", data={"action": "create"}
    )
    assert linked.status_code == 403
    said = sue.post(f"/b/{alpha.board}/requests/{own_card}/comments", data=comment)
    assert said.status_code == 303
    # ...but never another board's, by either board's URL.
    for board in (alpha.board, bravo.board):
        assert sue.get(f"/b/{board}/requests/{bravo.card}").status_code == 404


def _user(username):
    return db.session.execute(select(User).where(User.username == username)).scalar_one()


def test_the_public_status_page_shows_only_title_status_and_replies(app, boards):
    alpha, bravo = boards
    anonymous = app.test_client()
    page = anonymous.get(f"/status/{bravo.token}")
    assert page.status_code == 200
    assert SECRET in page.text and "We are on it." in page.text
    for hidden in (NOTE, REQUEST["description"], "rita@example.org", "Rita", "Bravo", "Billing"):
        assert hidden not in page.text, hidden
    assert "/b/" not in page.text  # no link into the board


@pytest.mark.parametrize(
    "token",
    [
        "",
        "x",
        "A" * 43,
        "../" * 12,
        "%00" * 12,
        "' OR 1=1 --" + "a" * 40,
    ],
)
def test_a_wrong_token_shows_nothing(app, boards, token):
    alpha, bravo = boards
    for candidate in (token, bravo.token[:-1], bravo.token + "A", bravo.token.swapcase()):
        response = app.test_client().get(f"/status/{candidate}")
        assert response.status_code == 404, candidate
        assert SECRET not in response.text


def test_a_revoked_or_replaced_link_shows_nothing(app, boards):
    alpha, bravo = boards
    bob = login(app, "bob")
    anonymous = app.test_client()
    url = f"/b/{bravo.board}/requests/{bravo.card}/status-link"
    made = bob.post(url, data={"action": "create"})  # the new link is shown in this answer
    assert made.status_code == 200
    gone = anonymous.get(f"/status/{bravo.token}")
    assert gone.status_code == 404 and SECRET not in gone.text
    new_token = made.text.split("/status/", 1)[1]
    new_token = new_token.split('"', 1)[0].split("<", 1)[0]
    assert anonymous.get(f"/status/{new_token}").status_code == 200
    assert bob.post(url, data={"action": "revoke"}).status_code == 303
    assert anonymous.get(f"/status/{new_token}").status_code == 404
