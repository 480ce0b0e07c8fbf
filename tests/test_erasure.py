"""Erasing a requester's personal data: gone from cards, history and mail (and from every
text column in the database), every event kept, history still replaying to the card, unsent
mail cancelled, the erasure audited without the erased values."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select, text

from tests.helpers import (
    PASSWORD,
    Inbox,
    SmtpServer,
    actor,
    everything_in_the_database,
    join_senders,
    mail_to,
    make_board,
    make_user,
)
from tracker.domain import history
from tracker.extensions import db
from tracker.models import AuditEvent, Board, Card, CardEvent, OutboundMail, User
from tracker.services import cards, erasure, intake
from tracker.services import settings as board_settings
from tracker.store import snapshot

NAME, EMAIL = "Jane Roe", "jane.roe@example.com"
OTHER_NAME, OTHER_EMAIL = "Rick Other", "rick@example.com"


class RefusingInbox(Inbox):
    """Refuses the upper-case spelling of Jane's address for good, quoting it back (as real
    servers do), so the error the outbox keeps holds her address."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == EMAIL.upper():
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def smtp():
    server = SmtpServer()
    server.inbox = RefusingInbox()
    server.start()
    yield server
    server.stop()


def file(board, who, title, name, email):
    values = {
        "title": title,
        "description": f"Checkout fails for {name} ({email}).",
        "requester": name,
        "requester_email": email,
        "severity": "S3",
        "component": "Other",
        "environment": "prod",
    }
    return intake.file_request(board.id, who, values, intake.new_intake_key()).card


@pytest.fixture
def requests(app, smtp, monkeypatch):
    """Jane filed two requests on two boards (one was mailed and sent, then got a reply
    that is still unsent; the other's mail was refused by the server, which quoted her
    address); a third card named her once and was edited to someone else; Rick filed one.
    Her name and address are also in descriptions and a reply."""
    mail_to(app, smtp.port, monkeypatch)
    with app.app_context():
        team, other = make_board("Team"), make_board("Other")
        sam = make_user("sam", board=team, role="support")
        lee = make_user("lee", board=team, role="lead")
        make_user("ada", admin=True)
        from tracker.services import boards

        boards.set_membership(other, sam, "support")
        support = actor(sam, "support")
        first = file(team, support, "Checkout broken", NAME, EMAIL)
        second = file(other, support, "Invoice wrong", "jane roe", EMAIL.upper())
        rick = file(team, support, "Slow page", OTHER_NAME, OTHER_EMAIL)
        join_senders()  # the "filed" mails go out
        smtp.stop()
        intake.add_comment(team.id, support, first.id, f"Hello {NAME}, we are on it.", "reply")
        join_senders()  # the reply fails: it stays pending, to be retried
        lead = actor(lee, "lead")
        third = cards.create_card(
            team.id, lead, team.lanes[1].id, {"title": "Renamed", "requester": NAME}
        )
        cards.edit_card(team.id, lead, third.id, third.version, {"requester": "Support desk"})
        ids = {
            "team": team.id,
            "other": other.id,
            "first": first.id,
            "second": second.id,
            "third": third.id,
            "rick": rick.id,
        }
        db.session.remove()
    return ids


def test_find_matches_email_or_name_on_the_card_or_in_its_history(app, ctx, requests):
    by_email = erasure.find(" JANE.ROE@example.com ")
    assert {m.card_id for m in by_email} == {requests["first"], requests["second"]}
    by_name = erasure.find("jane   ROE")
    assert {m.card_id for m in by_name} == {
        requests["first"],
        requests["second"],
        requests["third"],
    }
    (third,) = [m for m in by_name if m.card_id == requests["third"]]
    assert third.history_only and third.requester == "Support desk"
    assert erasure.find("nobody@example.com") == []


def test_erasure_replaces_the_data_everywhere_and_keeps_every_event(app, requests):
    assert EMAIL in everything_in_the_database(app)
    chosen = [requests["first"], requests["second"], requests["third"]]
    with app.app_context():
        events_before = [
            (e.id, e.card_id, e.kind, e.at, e.actor_id, sorted(e.changes))
            for e in db.session.execute(select(CardEvent).order_by(CardEvent.id)).scalars()
        ]
        versions = {
            board.id: board.version for board in db.session.execute(select(Board)).scalars()
        }
        ada = db.session.execute(select(User).where(User.username == "ada")).scalar_one()
        done = erasure.erase(actor(ada, ""), chosen)
        assert (done.cards, done.mails, done.cancelled) == (3, 3, 2)
        events_after = [
            (e.id, e.card_id, e.kind, e.at, e.actor_id, sorted(e.changes))
            for e in db.session.execute(select(CardEvent).order_by(CardEvent.id)).scalars()
        ]
        assert events_after == events_before  # nothing added, nothing removed
        for card_id in chosen + [requests["rick"]]:
            card = db.session.get(Card, card_id)
            changes = db.session.execute(
                select(CardEvent.changes).where(CardEvent.card_id == card_id).order_by(CardEvent.id)
            ).scalars()
            replayed = history.replay(changes)
            current = snapshot(card)
            assert {k: current[k] for k in replayed} == replayed, card.ref
        first = db.session.get(Card, requests["first"])
        assert (first.requester, first.requester_email) == ("[erased]", "")
        third = db.session.get(Card, requests["third"])
        assert third.requester == "[erased]"
        rick = db.session.get(Card, requests["rick"])
        assert (rick.requester, rick.requester_email) == (OTHER_NAME, OTHER_EMAIL)
        mails = {
            m.id: m
            for m in db.session.execute(
                select(OutboundMail).where(OutboundMail.card_id.in_(chosen))
            ).scalars()
        }
        assert {m.to_address for m in mails.values()} == {"[erased]"}
        assert {m.body for m in mails.values()} == {"[erased]"}
        # Sent stays sent; the refused and the waiting mail are cancelled, not failed.
        assert sorted(m.status for m in mails.values()) == ["erased", "erased", "sent"]
        assert {b.id: b.version for b in db.session.execute(select(Board)).scalars()} == {
            board_id: version + 1 for board_id, version in versions.items()
        }
        db.session.remove()
    everything = everything_in_the_database(app)
    assert EMAIL not in everything and "jane roe" not in everything
    assert OTHER_EMAIL in everything  # the other requester is untouched


def test_erasure_clears_the_name_from_notices_mailed_to_the_team(app, requests, smtp):
    """A team member's notice quotes the card's title; it belongs to no request (its
    card_id is empty), yet the requester's name in it goes too."""
    with app.app_context():
        team = db.session.get(Board, requests["team"])
        kim = make_user("kim", board=team, role="member", email="kim@example.com")
        lee = db.session.execute(select(User).where(User.username == "lee")).scalar_one()
        lead = actor(lee, "lead")
        first = db.session.get(Card, requests["first"])
        cards.edit_card(team.id, lead, first.id, first.version, {"title": f"Call {NAME} back"})
        cards.assign_card(team.id, lead, first.id, kim.id)
        notice = db.session.execute(
            select(OutboundMail).where(OutboundMail.to_address == "kim@example.com")
        ).scalar_one()
        assert notice.card_id is None and NAME in notice.subject
        notice_id = notice.id
        ada = db.session.execute(select(User).where(User.username == "ada")).scalar_one()
        erasure.erase(actor(ada, ""), [first.id])
        db.session.remove()
        notice = db.session.get(OutboundMail, notice_id)
        assert NAME not in notice.subject and "[erased]" in notice.subject
        assert NAME.lower() not in notice.body.lower()
        db.session.remove()
    join_senders()


def _search_index_text(app) -> bytes:
    """Everything the full-text index stores, as bytes: FTS5's segments on SQLite (where a
    deleted document's words stay until the segments merge), the tsvectors on PostgreSQL."""
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            rows = db.session.execute(text("SELECT block FROM card_fts_data")).scalars()
            found = b"\n".join(bytes(block or b"") for block in rows)
        else:
            rows = db.session.execute(text("SELECT doc::text FROM card_search")).scalars()
            found = "\n".join(rows).encode()
        db.session.remove()
    return found.lower()


def test_erasure_leaves_no_trace_in_the_search_index(app, requests):
    assert b"jane" in _search_index_text(app)
    with app.app_context():
        ada = db.session.execute(select(User).where(User.username == "ada")).scalar_one()
        erasure.erase(actor(ada, ""), [requests["first"], requests["second"], requests["third"]])
        db.session.remove()
    assert b"jane" not in _search_index_text(app)
    assert _found(app, "jane") == set()
    assert _found(app, "rick") == {requests["rick"]}  # the other requester is still found


def _found(app, word: str) -> set[int]:
    """The cards the full-text index finds by one word."""
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            query = "SELECT rowid FROM card_fts WHERE card_fts MATCH :word"
        else:
            query = "SELECT card_id FROM card_search WHERE doc @@ to_tsquery('simple', :word)"
        found = set(db.session.execute(text(query), {"word": word}).scalars())
        db.session.remove()
    return found


def test_the_erasure_is_audited_per_board_without_the_values(app, requests):
    with app.app_context():
        ada = db.session.execute(select(User).where(User.username == "ada")).scalar_one()
        db.session.remove()
    client = app.test_client()
    client.post("/login", data={"username": "ada", "password": PASSWORD})
    chosen = [requests["first"], requests["second"], requests["third"]]
    done = client.post("/admin/erasure", data={"q": EMAIL, "card_id": chosen, "confirm": "y"})
    assert done.status_code == 303
    with app.app_context():
        found = list(
            db.session.execute(
                select(AuditEvent)
                .where(AuditEvent.action == "requester.erased")
                .order_by(AuditEvent.board_id)
            ).scalars()
        )
        assert [(r.board_id, r.actor_id) for r in found] == [
            (requests["team"], ada.id),
            (requests["other"], ada.id),
        ]
        assert found[0].detail["events"] >= 3 and found[0].detail["mails"] == 2
        assert found[0].detail["mails_cancelled"] == 1
        assert found[1].detail["mails_cancelled"] == 1
        assert found[1].detail["cards"] == ["SUP-1"]
        dumped = json.dumps([r.detail for r in found]).lower()
        assert "jane" not in dumped and "example.com" not in dumped
        db.session.remove()


def test_the_page_finds_and_erases_only_when_confirmed(app, requests):
    client = app.test_client()
    client.post("/login", data={"username": "ada", "password": PASSWORD})
    page = client.get("/admin/erasure", query_string={"q": EMAIL})
    assert page.status_code == 200
    assert "Checkout broken" in page.text and "Invoice wrong" in page.text
    assert "Slow page" not in page.text
    unconfirmed = client.post("/admin/erasure", data={"q": EMAIL, "card_id": requests["first"]})
    assert unconfirmed.status_code == 422 and "Tick the box" in unconfirmed.text
    nothing = client.post("/admin/erasure", data={"q": EMAIL, "confirm": "y"})
    assert nothing.status_code == 422 and "Choose at least one request" in nothing.text
    short = client.get("/admin/erasure", query_string={"q": "j"})
    assert short.status_code == 422
    assert EMAIL in everything_in_the_database(app)  # nothing was erased


def test_only_admins_can_search_or_erase(app, requests):
    client = app.test_client()
    client.post("/login", data={"username": "lee", "password": PASSWORD})
    assert client.get("/admin/erasure", query_string={"q": EMAIL}).status_code == 403
    refused = client.post(
        "/admin/erasure", data={"q": EMAIL, "card_id": requests["first"], "confirm": "y"}
    )
    assert refused.status_code == 403
    assert EMAIL in everything_in_the_database(app)


def test_retry_now_never_sends_mail_that_erasure_cancelled(app, requests, smtp):
    smtp.start()
    jane = [requests["first"], requests["second"]]
    with app.app_context():
        lee = db.session.execute(select(User).where(User.username == "lee")).scalar_one()
        olga = make_user("olga", board=db.session.get(Board, requests["other"]), role="lead")
        ada = db.session.execute(select(User).where(User.username == "ada")).scalar_one()
        erasure.erase(actor(ada, ""), jane)
        before = len(smtp.inbox.messages)
        others_unsent = db.session.execute(
            select(func.count()).where(
                OutboundMail.board_id == requests["team"],
                OutboundMail.card_id.not_in(jane),
                OutboundMail.status.in_(("pending", "failed")),
            )
        ).scalar_one()  # Rick's mail, when the stopped server refused it
        assert board_settings.retry_mail(requests["team"], actor(lee, "lead")) == others_unsent
        assert board_settings.retry_mail(requests["other"], actor(olga, "lead")) == 0
        join_senders()
        statuses = db.session.execute(
            select(OutboundMail.status).where(OutboundMail.card_id.in_(jane))
        ).scalars()
        assert sorted(statuses) == ["erased", "erased", "sent"]
        db.session.remove()
    recipients = [to for tos, _ in smtp.inbox.messages[before:] for to in tos]
    assert "[erased]" not in recipients and EMAIL not in recipients
    assert len(recipients) == others_unsent


def test_the_page_and_its_notice_count_requests_emails_and_events(app, requests):
    """Rick filed one request (its mail is still unsent); Jane two."""
    client = app.test_client()
    client.post("/login", data={"username": "ada", "password": PASSWORD})
    assert (
        "<h2>1 request found</h2>"
        in client.get("/admin/erasure", query_string={"q": OTHER_EMAIL}).text
    )
    assert (
        "<h2>2 requests found</h2>" in client.get("/admin/erasure", query_string={"q": EMAIL}).text
    )
    done = client.post(
        "/admin/erasure",
        data={"q": OTHER_EMAIL, "card_id": [requests["rick"]], "confirm": "y"},
        follow_redirects=True,
    ).text
    # Whether Rick's mail was still unsent depends on the sender's timing.
    assert re.search(
        r"from 1 request, 1 history event and 1 email; (1 unsent email|0 unsent emails) cancel",
        done,
    )
    both = client.post(
        "/admin/erasure",
        data={"q": EMAIL, "card_id": [requests["first"], requests["second"]], "confirm": "y"},
        follow_redirects=True,
    ).text
    assert re.search(
        r"from 2 requests, \d+ history events and \d+ emails; \d+ unsent emails cancelled\.", both
    )
    assert "(s)" not in done + both
