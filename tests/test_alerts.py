"""Alertmanager's webhook opens Expedite cards (issue 17), posted as Alertmanager posts it:
recorded payloads (tests/data/alertmanager/), a board's bearer token, JSON answers."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.helpers import BoardSpec, Person, actor, make_board, make_user, new_app
from tests.helpers import app_config as config_for
from tracker.domain.vocabulary import CardStatus, EventKind, LaneKind, NoticeKind, Role, Severity
from tracker.extensions import db
from tracker.models import (
    AlertCard,
    AlertToken,
    AuditEvent,
    Card,
    CardEvent,
    Comment,
    Lane,
    Notification,
    User,
)
from tracker.services import alerts, cards, emergency, rotation

DATA = Path(__file__).resolve().parent / "data" / "alertmanager"
URL = "/api/v1/alerts/alertmanager"


@pytest.fixture
def board_spec() -> BoardSpec:
    return BoardSpec(people={"lee": Person(Role.LEAD), "mia": Person(Role.MEMBER)})


def raw(name: str) -> bytes:
    return (DATA / name).read_bytes()


def lead(board):
    return actor(db.session.get(User, board["lee"]), Role.LEAD)


@pytest.fixture
def token(app, board) -> str:
    with app.app_context():
        made = alerts.create_token(board["board"], lead(board), "prod-eu").token
        db.session.remove()
    return made


def post(client, token: str | None, body: bytes, content_type="application/json"):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post(URL, data=body, content_type=content_type, headers=headers)


def board_cards(app, board_id: int) -> list[Card]:
    with app.app_context():
        found = db.session.execute(
            select(Card).where(Card.board_id == board_id).order_by(Card.id)
        ).scalars()
        rows = list(found)
        db.session.expunge_all()
        return rows


def notes(app, card_id: int) -> list[str]:
    with app.app_context():
        query = select(Comment.body).where(Comment.card_id == card_id).order_by(Comment.id)
        return list(db.session.execute(query).scalars())


def test_a_firing_alert_opens_one_s1_expedite_card_in_the_emergency_flow(app, client, board, token):
    answer = post(client, token, raw("firing.json"))
    assert answer.status_code == 200, answer.text
    assert answer.json == {"opened": ["EXP-1"], "noted": [], "unchanged": 0, "truncated": 0}
    (card,) = board_cards(app, board["board"])
    assert (card.ref, card.title, card.severity) == (
        "EXP-1",
        "Checkout API error rate above 5%",
        "S1",
    )
    assert card.status == CardStatus.OPEN and card.assignee_id is None
    assert card.lane_id == board["expedite_lane"] and card.column_id == board["Ready"]
    assert "  alertname=HighErrorRate" in card.description
    assert "Source: http://prometheus-0:9090/graph?g0.expr=" in card.description
    assert card.requester == "Alertmanager" and card.created_by_id is None
    with app.app_context():
        # The same flow as an S1 filed at the intake form: the banner waits for someone...
        assert [w.ref for w in emergency.waiting_s1(board["board"])] == ["EXP-1"]
        (event,) = db.session.execute(
            select(CardEvent).where(CardEvent.card_id == card.id)
        ).scalars()
        assert event.kind == EventKind.CREATED and event.actor_id is None
        # ... and every member hears of it, as of an S1 filed.
        kinds = db.session.execute(select(Notification.kind, Notification.recipient_id)).all()
        assert {(NoticeKind.S1_FILED.value, board["mia"])} <= set(kinds)
        token_row = db.session.execute(select(AlertToken)).scalar_one()
        assert token_row.last_used_at is not None
    # The board page shows the banner.
    assert client.post("/login", data={"username": "mia", "password": "correct horse battery"})
    page = client.get(f"/b/{board['board']}").text
    assert "Production emergency" in page and "EXP-1" in page


def test_the_people_on_duty_hear_of_an_alert_as_of_a_filed_s1_or_s2(app, client, board, token):
    with app.app_context():
        rotation.save_setup(
            board["board"],
            lead(board),
            enabled=True,
            on_duty=1,
            term_periods=1,
            staggered=False,
            pool=[board["mia"]],
        )
        db.session.remove()
    body = json.loads(raw("firing.json"))
    body["alerts"][0]["labels"]["severity"] = "warning"  # an S2: only the duty hears of it
    assert post(client, token, json.dumps(body).encode()).status_code == 200
    with app.app_context():
        heard = db.session.execute(
            select(Notification.kind).where(Notification.recipient_id == board["mia"])
        ).scalars()
        assert list(heard) == [NoticeKind.ON_DUTY]
        assert db.session.execute(select(Card.severity)).scalar_one() == Severity.S2


def test_a_repeat_adds_nothing_changed_labels_a_note_and_a_resolution_a_note(
    app, client, board, token
):
    assert post(client, token, raw("firing.json")).json["opened"] == ["EXP-1"]
    repeat = post(client, token, raw("repeat.json")).json
    assert repeat == {"opened": [], "noted": [], "unchanged": 1, "truncated": 0}
    (card,) = board_cards(app, board["board"])
    assert notes(app, card.id) == []
    assert post(client, token, raw("relabelled.json")).json["noted"] == ["EXP-1"]
    assert notes(app, card.id) == [
        "Alert fired again with changed labels: instance: api-7f9c4:8080 → api-81d2e:8080"
    ]
    assert post(client, token, raw("relabelled.json")).json["unchanged"] == 1
    resolved = post(client, token, raw("resolved.json")).json
    assert resolved["noted"] == ["EXP-1"]
    assert notes(app, card.id)[-1] == "Alert resolved at 2026-11-30 09:41 UTC. The card stays open."
    assert post(client, token, raw("resolved.json")).json["unchanged"] == 1  # noted once
    (card,) = board_cards(app, board["board"])
    assert card.status == CardStatus.OPEN  # a resolution never closes the card
    # It fires again while the card is still open: a note, no second card.
    again = post(client, token, raw("firing.json")).json
    assert again["noted"] == ["EXP-1"] and len(board_cards(app, board["board"])) == 1
    assert notes(app, card.id)[-1].startswith("Alert firing again since 2026-11-30 09:12 UTC.")


def test_once_the_card_is_done_the_same_alert_opens_a_new_card(app, client, board, token):
    post(client, token, raw("firing.json"))
    (card,) = board_cards(app, board["board"])
    with app.app_context():
        cards.move_card(
            board["board"],
            lead(board),
            card.id,
            lane_id=board["expedite_lane"],
            column_id=board["Done"],
            take=True,
        )
        db.session.remove()
    assert post(client, token, raw("repeat.json")).json["opened"] == ["EXP-2"]
    with app.app_context():
        links = db.session.execute(select(func.count()).select_from(AlertCard)).scalar_one()
        assert links == 2


def test_a_grouped_payload_opens_a_card_per_firing_alert_with_its_severity(
    app, client, board, token
):
    answer = post(client, token, raw("grouped.json"))
    assert answer.json == {
        "opened": ["EXP-1", "EXP-2"],
        "noted": [],
        "unchanged": 1,  # the resolved alert had no open card
        "truncated": 2,
    }
    made = board_cards(app, board["board"])
    assert [(c.title, c.severity) for c in made] == [
        ("Disk on db-2 will fill within 4 hours", "S2"),
        ("DiskWillFillIn4Hours", "S1"),
    ]
    with app.app_context():
        # Ranked by severity in the Expedite queue, as intake ranks: the S1 first.
        ranks = db.session.execute(select(Card.ref).order_by(Card.rank)).scalars()
        assert list(ranks) == ["EXP-2", "EXP-1"]


def test_the_board_maps_severities_its_own_way(app, client, board, token):
    with app.app_context():
        alerts.save_severity_map(board["board"], lead(board), "warning=S1", "S3")
        db.session.remove()
    post(client, token, raw("grouped.json"))
    made = board_cards(app, board["board"])
    assert [c.severity for c in made] == ["S1", "S3"]  # warning -> S1, critical: other -> S3


@pytest.mark.parametrize(
    ("name", "status", "error"),
    [
        ("truncated.json", 400, "bad_json"),
        ("garbage.json", 400, "bad_json"),
        ("old_version.json", 422, "invalid_payload"),
    ],
)
def test_broken_payloads_are_refused_in_json_and_change_nothing(
    app, client, board, token, name, status, error
):
    answer = post(client, token, raw(name))
    assert answer.status_code == status and answer.is_json
    assert answer.json["error"] == error and answer.json["message"]
    assert board_cards(app, board["board"]) == []


def test_a_payload_of_the_wrong_type_or_size_is_refused(app, client, board, token):
    assert post(client, token, raw("firing.json"), "text/plain").status_code == 415
    big = json.loads(raw("firing.json"))
    big["alerts"][0]["annotations"]["description"] = "x" * 600_000
    answer = post(client, token, json.dumps(big).encode())
    assert answer.status_code == 413 and answer.json["error"] == "too_large"
    shape = json.loads(raw("firing.json"))
    shape["alerts"][0]["labels"]["severity"] = {"level": 1}
    answer = post(client, token, json.dumps(shape).encode())
    assert answer.status_code == 422 and answer.json["where"] == "alerts[0].labels.severity"
    assert board_cards(app, board["board"]) == []


@pytest.mark.parametrize(
    "header",
    ["", "Bearer ", "Bearer wba_not-a-real-token-at-all-0000000000000000000000", "Basic abc"],
)
def test_a_missing_or_wrong_token_is_401_in_json(app, client, board, token, header):
    headers = {"Authorization": header} if header else {}
    answer = client.post(
        URL, data=raw("firing.json"), content_type="application/json", headers=headers
    )
    assert answer.status_code == 401 and answer.json["error"] == "unauthorized"
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert board_cards(app, board["board"]) == []


def test_a_revoked_token_stops_working_at_once_and_both_acts_are_audited(app, client, board, token):
    with app.app_context():
        row = alerts.token_in_use(token)
        alerts.revoke_token(board["board"], lead(board), row.id)
        actions = db.session.execute(select(AuditEvent.action).order_by(AuditEvent.id)).scalars()
        assert [a for a in actions if a.startswith("alert")] == [
            "alert_token.created",
            "alert_token.revoked",
        ]
        db.session.remove()
    assert post(client, token, raw("firing.json")).status_code == 401


def test_a_second_boards_token_opens_cards_on_that_board_only(app, client, board, token):
    with app.app_context():
        other = make_board("Payments")
        bob = make_user("bob", board=other, role=Role.LEAD)
        other_token = alerts.create_token(other.id, actor(bob, Role.LEAD), "prod-us").token
        other_id = other.id
        db.session.remove()
    assert post(client, other_token, raw("firing.json")).json["opened"] == ["EXP-1"]
    assert board_cards(app, board["board"]) == []
    assert [c.ref for c in board_cards(app, other_id)] == ["EXP-1"]
    # The same alert on the first board is that board's own card.
    assert post(client, token, raw("firing.json")).json["opened"] == ["EXP-1"]
    assert len(board_cards(app, board["board"])) == 1


def test_only_a_lead_makes_tokens_and_the_token_is_kept_only_as_a_hash(app, board):
    with app.app_context():
        from tracker.domain.errors import NotAllowed

        mia = actor(db.session.get(User, board["mia"]), Role.MEMBER)
        with pytest.raises(NotAllowed):
            alerts.create_token(board["board"], mia, "mine")
        made = alerts.create_token(board["board"], lead(board), "prod")
        stored = db.session.execute(select(AlertToken)).scalar_one()
        assert made.token not in (stored.token_hash, stored.hint) and made.token.startswith(
            stored.hint
        )
        db.session.remove()


def test_the_lead_makes_a_token_on_the_page_and_sees_it_once(app, client, board):
    assert client.post("/login", data={"username": "lee", "password": "correct horse battery"})
    page = f"/b/{board['board']}/settings/integrations"
    made = client.post(page + "/alert-tokens", data={"name": "prod-eu"})
    assert made.status_code == 200 and "copy it now" in made.text
    with app.app_context():
        row = db.session.execute(select(AlertToken)).scalar_one()
        shown = made.text.split('<code class="secret">')[1].split("<")[0]
        assert alerts.token_in_use(shown).id == row.id
        db.session.remove()
    again = client.get(page).text
    assert "prod-eu" in again and shown not in again
    refused = client.post(
        page + "/alert-severities", data={"mapping": "critical=S9", "default": "S2"}
    )
    assert refused.status_code == 422 and "not a severity" in refused.text


def test_a_token_is_rate_limited(app, board):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    limited = new_app(config_for(url, RATELIMIT_ENABLED=True, ALERT_RATE="2 per minute"))
    with limited.app_context():
        made = alerts.create_token(board["board"], lead(board), "prod").token
        db.session.remove()
    client = limited.test_client()
    statuses = [post(client, made, raw("repeat.json")).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert post(client, made, raw("repeat.json")).json["error"] == "rate_limited"


def test_two_posts_of_the_same_alert_at_once_open_one_card(app, board, token):
    """Alertmanager in a cluster (or a retry) posts the same alert twice at the same moment:
    the board lock lets one open the card and the other finds it (SQLite file, PostgreSQL)."""
    senders = 6
    barrier = threading.Barrier(senders)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def send() -> None:
        client = app.test_client()
        try:
            barrier.wait(timeout=30)
            statuses.append(post(client, token, raw("firing.json")).status_code)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=send) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors and statuses == [200] * senders
    made = board_cards(app, board["board"])
    assert [c.ref for c in made] == ["EXP-1"]
    with app.app_context():
        lane = db.session.get(Lane, board["expedite_lane"])
        assert lane.kind == LaneKind.EXPEDITE and lane.next_number == 2
