"""Outgoing webhooks (issue 17), sent to a real HTTP receiver this test starts on loopback
(so these tests allow private addresses, as an admin would with
TRACKER_WEBHOOK_ALLOW_PRIVATE=1): written with the change, signed, sent after the commit,
retried on 500 and timeouts, logged per hook; internal addresses refused (SSRF)."""

from __future__ import annotations

import json
import queue
import socket
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.helpers import (
    REQUEST,
    BoardSpec,
    Person,
    actor,
    add_webhook_row,
    lane,
    make_board,
    make_card,
    make_user,
)
from tracker import clock
from tracker.domain import webhooks as rules
from tracker.domain.errors import NotAllowed, WipLimitExceeded
from tracker.domain.vocabulary import MailStatus, Role, WebhookEvent
from tracker.extensions import db
from tracker.models import Board, User, WebhookDelivery
from tracker.services import cards, incidents, intake, webhooks
from tracker.services import queue as outbox_queue
from tracker.services.mail import background

SUBSCRIBED = [WebhookEvent.CARD_CREATED, WebhookEvent.CARD_MOVED, WebhookEvent.CARD_DONE]


@pytest.fixture
def board_spec() -> BoardSpec:
    return BoardSpec(
        limits={"feature": 1},
        people={"lee": Person(Role.LEAD), "ann": Person(Role.MEMBER), "sam": Person(Role.SUPPORT)},
    )


class Receiver:
    """A real HTTP server on 127.0.0.1: records each post, answers with the next scripted
    status (then 200), or waits `delay` seconds first (to make the sender time out)."""

    def __init__(self) -> None:
        self.posts: queue.Queue = queue.Queue()
        self.script: list[int] = []
        self.delay = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = receiver.script.pop(0) if receiver.script else 200
                if receiver.delay:
                    time.sleep(receiver.delay)
                receiver.posts.put((self.path, dict(self.headers), body, status))
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/wb?team=1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def received(self, count: int, timeout: float = 10) -> list[tuple]:
        return [self.posts.get(timeout=timeout) for _ in range(count)]

    def nothing_more(self) -> bool:
        return self.posts.empty()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = Receiver()
    yield made
    made.stop()


@pytest.fixture
def private_ok(app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", True)


def join_senders() -> None:
    for thread in background.background_senders(webhooks.THREAD_NAME):
        thread.join(timeout=30)
        assert not thread.is_alive()


@pytest.fixture(autouse=True)
def senders_done(app):
    """No sender outlives its test: one still posting or retrying would hold the next
    test's database (SQLite's write lock)."""
    yield
    join_senders()


def person(board, name, role=Role.LEAD):
    return actor(db.session.get(User, board[name]), role)


def hook_for(app, board, url, events=SUBSCRIBED):
    with app.app_context():
        made = webhooks.add_hook(
            board["board"], person(board, "lee"), url, [str(e) for e in events]
        )
        found = made.hook.id, made.secret
        db.session.remove()
    return found


def deliveries(app) -> list[WebhookDelivery]:
    with app.app_context():
        rows = list(
            db.session.execute(select(WebhookDelivery).order_by(WebhookDelivery.id)).scalars()
        )
        db.session.expunge_all()
        return rows


def test_card_events_are_posted_signed_after_the_commit(app, board, receiver, private_ok):
    hook_id, secret = hook_for(app, board, receiver.url)
    with app.app_context():
        the_board = db.session.get(Board, board["board"])
        card = make_card(
            the_board, person(board, "ann", Role.MEMBER), "feature", "Export", at="Done"
        )
        db.session.remove()
    join_senders()
    posts = receiver.received(3)  # created, moved, done (the move into Done)
    bodies = [json.loads(body) for _, _, body, _ in posts]
    assert sorted(b["event"] for b in bodies) == ["card.created", "card.done", "card.moved"]
    for path, headers, body, _ in posts:
        assert path == "/hooks/wb?team=1"
        assert headers["Content-Type"] == "application/json"
        stamp = headers[rules.TIMESTAMP_HEADER]
        # What a receiver does: the README's verification, in these lines.
        assert rules.verify(secret, stamp, body, headers[rules.SIGNATURE_HEADER], int(time.time()))
        assert not rules.verify(
            "wrong", stamp, body, headers[rules.SIGNATURE_HEADER], int(time.time())
        )
        assert headers[rules.EVENT_HEADER] == json.loads(body)["event"]
    created = next(b for b in bodies if b["event"] == "card.created")
    assert created["card"]["id"] == card.id and created["card"]["ref"] == "FEAT-1"
    assert created["board"] == {"id": board["board"], "name": "Team"}
    assert created["actor"]["id"] == board["ann"] and created["occurred_at"].endswith("Z")
    done = next(b for b in bodies if b["event"] == "card.done")
    assert done["card"]["column"] == {"kind": "done", "name": "Done"}
    rows = deliveries(app)
    assert [(r.status, r.last_status_code, r.attempts) for r in rows] == [("sent", 200, 1)] * 3
    assert {r.webhook_id for r in rows} == {hook_id}
    assert len({r.uid for r in rows}) == 3  # each delivery has its own id for receivers


def test_a_hook_hears_only_its_events_and_only_its_board(app, board, receiver, private_ok):
    hook_for(app, board, receiver.url, [WebhookEvent.REQUEST_FILED, WebhookEvent.EXPEDITE_OPENED])
    with app.app_context():
        sam = person(board, "sam", Role.SUPPORT)
        intake.file_request(
            board["board"], sam, REQUEST | {"severity": "S1"}, intake.new_intake_key()
        )
        other = make_board("Elsewhere")
        bob = make_user("bob", board=other, role=Role.LEAD)
        make_card(other, actor(bob, Role.LEAD), "support", "Not ours", severity="S2")
        db.session.remove()
    join_senders()
    events = sorted(json.loads(body)["event"] for _, _, body, _ in receiver.received(2))
    assert events == ["expedite.opened", "request.filed"]
    assert receiver.nothing_more() and len(deliveries(app)) == 2


def test_a_refused_change_writes_no_delivery(app, board, receiver, private_ok):
    hook_for(app, board, receiver.url)
    with app.app_context():
        the_board = db.session.get(Board, board["board"])
        ann = person(board, "ann", Role.MEMBER)
        make_card(the_board, ann, "feature", "One", at="In progress")
        second = make_card(the_board, ann, "feature", "Two")
        before = len(list(db.session.execute(select(WebhookDelivery.id)).scalars()))
        with pytest.raises(WipLimitExceeded):
            cards.move_card(
                the_board.id,
                ann,
                second.id,
                lane_id=lane(the_board, "feature").id,
                column_id=board["In progress"],
            )
        after = len(list(db.session.execute(select(WebhookDelivery.id)).scalars()))
        assert after == before
        db.session.remove()
    join_senders()


def _send_due(app, moment) -> webhooks.Delivery:
    with app.app_context(), clock.fixed(moment):
        done = webhooks.deliver_pending()
        db.session.remove()
    return done


def test_a_500_is_retried_with_a_pause_and_logged_with_its_code(app, board, receiver, private_ok):
    hook_id, _ = hook_for(app, board, receiver.url, [WebhookEvent.CARD_CREATED])
    receiver.script = [500]
    with app.app_context():
        make_card(
            db.session.get(Board, board["board"]), person(board, "lee"), "feature", "Retry me"
        )
        db.session.remove()
    join_senders()
    ((_, _, first_body, status),) = receiver.received(1)
    assert status == 500
    (row,) = deliveries(app)
    assert (row.status, row.attempts, row.last_status_code) == ("pending", 1, 500)
    assert row.last_error.startswith("HTTP 500")
    # Not due again before its pause (a minute after the first failure) ...
    assert _send_due(app, clock.now()).sent == 0
    # ... and sent once it is.
    assert _send_due(app, clock.now() + timedelta(minutes=2)).sent == 1
    ((_, _, second_body, status),) = receiver.received(1)
    assert status == 200 and second_body == first_body  # the same delivery, signed afresh
    (row,) = deliveries(app)
    assert (row.status, row.attempts, row.last_status_code, row.last_error) == ("sent", 2, 200, "")
    with app.app_context():
        assert [d.id for d in webhooks.deliveries(hook_id)] == [row.id]
        db.session.remove()


def test_a_receiver_that_does_not_answer_in_time_is_retried(
    app, board, receiver, private_ok, monkeypatch
):
    monkeypatch.setitem(app.config, "WEBHOOK_TIMEOUT", 1)
    hook_for(app, board, receiver.url, [WebhookEvent.CARD_CREATED])
    receiver.delay = 2.5
    with app.app_context():
        make_card(db.session.get(Board, board["board"]), person(board, "lee"), "feature", "Slow")
        db.session.remove()
    join_senders()
    (row,) = deliveries(app)
    assert (row.status, row.attempts, row.last_status_code) == ("pending", 1, None)
    assert "timed out" in row.last_error
    receiver.received(1)  # it did arrive, late: receivers drop repeats by Weatherboard-Delivery
    receiver.delay = 0
    assert _send_due(app, clock.now() + timedelta(minutes=2)).sent == 1
    ((_, headers, _, _),) = receiver.received(1)
    assert headers[rules.DELIVERY_HEADER] == row.uid
    assert deliveries(app)[0].status == MailStatus.SENT


def test_a_delivery_is_given_up_after_the_last_try(app, board, private_ok):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    hook_for(app, board, f"http://127.0.0.1:{port}/", [WebhookEvent.CARD_CREATED])
    with app.app_context():
        make_card(db.session.get(Board, board["board"]), person(board, "lee"), "feature", "Nobody")
        db.session.remove()
    join_senders()
    moment = clock.now()
    for _ in range(outbox_queue.MAX_ATTEMPTS + 2):
        moment += timedelta(hours=13)
        _send_due(app, moment)
    (row,) = deliveries(app)
    assert (row.status, row.attempts) == ("failed", outbox_queue.MAX_ATTEMPTS)
    assert row.given_up_at is not None and "ConnectionRefusedError" in row.last_error


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x",
        "http://localhost:9/x",
        "http://[::1]:9/",
        "http://169.254.169.254/latest",
    ],
)
def test_internal_addresses_are_refused_by_default(app, board, url):
    assert not app.config["WEBHOOK_ALLOW_PRIVATE"]
    with app.app_context():
        with pytest.raises(rules.RefusedAddress, match="internal address"):
            webhooks.add_hook(board["board"], person(board, "lee"), url, ["card.created"])
        db.session.remove()


def test_a_name_that_turns_internal_after_it_was_registered_is_not_sent_to(
    app, board, receiver, monkeypatch
):
    """DNS rebinding: the name resolved to a public address when the lead added the hook,
    and to loopback when it is sent: the send-time check refuses, nothing is posted."""
    answers = {"rebind.example": "93.184.215.14"}

    def fake_getaddrinfo(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]

    monkeypatch.setattr(webhooks.socket, "getaddrinfo", fake_getaddrinfo)
    port = receiver.server.server_port
    hook_for(app, board, f"http://rebind.example:{port}/", [WebhookEvent.CARD_CREATED])
    answers["rebind.example"] = "127.0.0.1"  # the receiver's address
    with app.app_context():
        make_card(db.session.get(Board, board["board"]), person(board, "lee"), "feature", "Rebind")
        db.session.remove()
    join_senders()
    (row,) = deliveries(app)
    assert row.status == MailStatus.FAILED and "internal address" in row.last_error
    assert receiver.nothing_more()


def test_a_hook_to_a_loopback_address_is_refused_at_send_time_too(app, board, receiver):
    with app.app_context():
        add_webhook_row(board["board"], receiver.url)  # as if allowed once, and no longer
        make_card(db.session.get(Board, board["board"]), person(board, "lee"), "feature", "Local")
        db.session.remove()
    join_senders()
    assert {r.status for r in deliveries(app)} == {MailStatus.FAILED}
    assert receiver.nothing_more()


def test_the_lead_adds_a_hook_sends_a_test_event_and_sees_its_log(
    app, client, board, receiver, private_ok
):
    assert client.post("/login", data={"username": "lee", "password": "correct horse battery"})
    page = f"/b/{board['board']}/settings/integrations"
    added = client.post(
        page + "/hooks", data={"url": receiver.url, "events": ["card.created", "card.done"]}
    )
    assert added.status_code == 200 and "copy it now" in added.text
    secret = added.text.split('<code class="secret">')[1].split("<")[0]
    (hook,) = deliveries(app) or [None]  # nothing sent yet
    assert hook is None
    with app.app_context():
        (made,) = webhooks.hooks(board["board"])
        hook_id = made.id
        db.session.remove()
    sent = client.post(f"{page}/hooks/{hook_id}/test")
    assert sent.status_code == 303
    join_senders()
    ((_, headers, body, _),) = receiver.received(1)
    assert headers[rules.EVENT_HEADER] == "ping" and json.loads(body)["board"]["name"] == "Team"
    assert rules.verify(
        secret,
        headers[rules.TIMESTAMP_HEADER],
        body,
        headers[rules.SIGNATURE_HEADER],
        int(time.time()),
    )
    shown = client.get(page).text
    assert (
        "Latest deliveries" in shown and "delivered" in shown and ">200<" in shown.replace(" ", "")
    )
    assert secret not in shown  # the secret is shown once
    refused = client.post(
        page + "/hooks", data={"url": "ftp://example.com/", "events": ["card.created"]}
    )
    assert refused.status_code == 422 and "Only http://" in refused.text
    assert client.post(f"{page}/hooks/{hook_id}/remove").status_code == 303
    with app.app_context():
        assert webhooks.hooks(board["board"]) == []
        db.session.remove()


def test_what_waits_for_a_removed_hook_is_given_up(app, board, receiver, private_ok):
    hook_id, _ = hook_for(app, board, receiver.url, [WebhookEvent.CARD_CREATED])
    receiver.script = [503]
    with app.app_context():
        make_card(db.session.get(Board, board["board"]), person(board, "lee"), "feature", "Gone")
        db.session.remove()
    join_senders()
    receiver.received(1)
    with app.app_context():
        webhooks.remove_hook(board["board"], person(board, "lee"), hook_id)
        db.session.remove()
    _send_due(app, clock.now() + timedelta(minutes=2))
    (row,) = deliveries(app)
    assert row.status == MailStatus.FAILED and row.last_error == "The webhook was removed."
    assert receiver.nothing_more()


def test_only_a_lead_manages_hooks(app, board):
    with app.app_context():
        with pytest.raises(NotAllowed):
            webhooks.add_hook(
                board["board"],
                person(board, "ann", Role.MEMBER),
                "https://example.com/",
                ["card.created"],
            )
        db.session.remove()


def test_the_expedite_mitigated_hook_point_writes_in_the_callers_transaction(
    app, board, receiver, private_ok
):
    hook_for(app, board, receiver.url, [WebhookEvent.EXPEDITE_MITIGATED])
    with app.app_context():
        written = webhooks.queue_event(
            board["board"], WebhookEvent.EXPEDITE_MITIGATED, {"card": {"ref": "EXP-1"}}
        )
        assert written == 1
        db.session.rollback()  # the caller's change failed: nothing is sent
        assert db.session.execute(select(WebhookDelivery.id)).first() is None
        webhooks.queue_event(
            board["board"], WebhookEvent.EXPEDITE_MITIGATED, {"card": {"ref": "EXP-1"}}
        )
        db.session.commit()
        db.session.remove()
    join_senders()
    ((_, headers, body, _),) = receiver.received(1)
    assert json.loads(body)["event"] == "expedite.mitigated" and json.loads(body)["card"] == {
        "ref": "EXP-1"
    }


def test_the_send_webhooks_command_posts_what_is_due(app, board, receiver, private_ok):
    hook_for(app, board, receiver.url, [WebhookEvent.EXPEDITE_MITIGATED])
    with app.app_context():
        webhooks.queue_event(board["board"], WebhookEvent.EXPEDITE_MITIGATED, {"card": None})
        webhooks.written(db.session())  # no background sender: the command sends it
        db.session.commit()
        db.session.remove()
    result = app.test_cli_runner().invoke(args=["send-webhooks"])
    assert result.exit_code == 0 and "Sent 1; 0 will be retried; 0 given up." in result.output
    receiver.received(1)
    assert deliveries(app)[0].status == MailStatus.SENT


def test_the_readmes_verification_snippet_verifies_a_real_delivery(
    app, board, receiver, private_ok
):
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    snippet = readme.split("A receiver checks it:\n\n```python\n", 1)[1].split("```", 1)[0]
    names: dict = {}
    exec(snippet, names)  # noqa: S102 - the README's own code, run as a reader would
    hook_for(app, board, receiver.url, [WebhookEvent.CARD_CREATED])
    _, secret = hook_for(app, board, receiver.url, [WebhookEvent.CARD_CREATED])
    with app.app_context():
        make_card(db.session.get(Board, board["board"]), person(board, "lee"), "feature", "Hi")
        db.session.remove()
    join_senders()
    posts = receiver.received(2)
    verdicts = sorted(names["verified"](secret, headers, body) for _, headers, body, _ in posts)
    assert verdicts == [False, True]  # one hook's secret verifies its own post only


def test_a_card_event_queued_by_hand_carries_the_cards_json(app, board, receiver, private_ok):
    """The hook point incidents call when an Expedite card is mitigated."""
    hook_for(app, board, receiver.url, [WebhookEvent.EXPEDITE_MITIGATED])
    with app.app_context():
        the_board = db.session.get(Board, board["board"])
        card = make_card(the_board, person(board, "lee"), "expedite", "Down", severity="S1")
        written = webhooks.queue_card_event(
            board["board"],
            WebhookEvent.EXPEDITE_MITIGATED,
            card.id,
            board["lee"],
            note="Rolled back",
        )
        assert written == 1
        db.session.commit()
        db.session.remove()
    join_senders()
    ((_, _, body, _),) = receiver.received(1)
    sent = json.loads(body)
    assert sent["event"] == "expedite.mitigated" and sent["card"]["ref"] == "EXP-1"
    assert sent["note"] == "Rolled back" and sent["actor"]["id"] == board["lee"]


def test_mitigating_an_incident_posts_expedite_mitigated(app, board, receiver, private_ok):
    """Recording an incident mitigated (services.incidents) is the card event a hook on
    "expedite.mitigated" hears of, posted after the commit like the others."""
    hook_for(app, board, receiver.url, [WebhookEvent.EXPEDITE_MITIGATED])
    with app.app_context():
        the_board = db.session.get(Board, board["board"])
        lee = person(board, "lee")
        card = make_card(the_board, lee, "expedite", "Checkout down", severity="S1")
        incidents.mitigate(board["board"], lee, card.id, "rolled back to 4.2.1")
        db.session.remove()
    join_senders()
    ((_, headers, body, _),) = receiver.received(1)
    sent = json.loads(body)
    assert sent["event"] == "expedite.mitigated" and sent["card"]["ref"] == "EXP-1"
    assert headers["Weatherboard-Event"] == "expedite.mitigated"
