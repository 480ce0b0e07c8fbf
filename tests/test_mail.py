"""Mail to requesters, against a real SMTP server (aiosmtpd on loopback) the test starts:
the right messages, with a working status link, never an internal note; a server that is
down loses and blocks nothing, shows to leads, and is retried by the timer command and by
"Retry now"; without mail configured nothing is queued and the pages say so."""

from __future__ import annotations

import hashlib
import re
import ssl
import subprocess
import threading
import time
from datetime import timedelta

import pytest
from aiosmtpd.smtp import AuthResult
from sqlalchemy import func, select

from tests.helpers import (
    BoardSpec,
    Inbox,
    SmtpServer,
    actor,
    everything_in_the_database,
    free_port,
    join_senders,
    mail_config,
    mail_to,
    settled_mail,
)
from tracker import clock, config
from tracker.domain.errors import NotAllowed
from tracker.domain.vocabulary import MailStatus
from tracker.extensions import db
from tracker.models import Card, OutboundMail, StatusLink
from tracker.services import intake
from tracker.services import settings as board_settings
from tracker.services.mail import background, delivery, outbox

KEY = re.compile(r'name="intake_key" type="hidden" value="([^"]+)"')
LINK = re.compile(r"https://tracker\.example\.com(/status/[A-Za-z0-9_-]+)")
INTERNAL = "INTERNAL: the customer's contract lapses in May, keep this quiet"
REPLY = "We found the cause and are fixing it today."


@pytest.fixture
def smtp():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mail_on(app, smtp, monkeypatch):
    """The app with mail set up to the test's SMTP server; waits for its senders after."""
    mail_to(app, smtp.port, monkeypatch)
    yield smtp
    join_senders()


@pytest.fixture
def board_spec():
    return BoardSpec(people={"sam": "support", "ann": "member", "lee": "lead"})


def file(client, ids, **changes):
    page = client.get(f"/b/{ids['board']}/intake")
    data = {
        "title": "Invoices show the wrong VAT rate",
        "description": "Customer Dana says the March invoices use 19% instead of 7%.",
        "requester": "Dana Customer",
        "requester_email": "dana@example.com",
        "severity": "S3",
        "component": "Other",
        "environment": "production",
        "intake_key": KEY.search(page.text).group(1),
    }
    return client.post(f"/b/{ids['board']}/intake", data=data | changes)


def the_card(app) -> Card:
    with app.app_context():
        card = db.session.execute(select(Card).order_by(Card.id.desc()).limit(1)).scalar_one()
        db.session.expunge(card)
        db.session.remove()
        return card


def rows(app) -> list[OutboundMail]:
    with app.app_context():
        found = list(db.session.execute(select(OutboundMail).order_by(OutboundMail.id)).scalars())
        for row in found:
            db.session.expunge(row)
        db.session.remove()
        return found


def comment(client, ids, card_id, body, visibility):
    return client.post(
        f"/b/{ids['board']}/requests/{card_id}/comments",
        data={"body": body, "visibility": visibility},
    )


def test_filing_mails_the_requester_a_working_status_link(app, client, auth, board, mail_on):
    auth.login("sam")
    response = file(client, board)
    assert response.status_code == 303
    (to, message), *_ = mail_on.inbox.wait_for(1)
    card = the_card(app)
    assert to == ["dana@example.com"]
    assert message["To"] == "dana@example.com"
    assert message["From"] == "Weatherboard support <support@example.com>"
    assert message["Subject"] == f"[{card.ref}] We have your request: {card.title}"
    body = message.get_content()
    assert card.ref in body and card.title in body and "Hello Dana Customer" in body
    assert "March invoices" not in body  # the description is the team's, never mailed
    path = LINK.search(body).group(1)
    client.post("/logout")
    status = client.get(path)  # the requester, not logged in
    assert status.status_code == 200
    assert card.title in status.text and "received" in status.text
    # Only the link's hash is stored; the mail row says it was sent.
    with app.app_context():
        link = db.session.execute(select(StatusLink)).scalar_one()
        token = path.rsplit("/", 1)[1]
        assert link.card_id == card.id
        assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
        db.session.remove()
    join_senders()  # the sender marks the row sent after the server took the message
    (row,) = rows(app)
    assert (row.kind, row.status, row.attempts, row.last_error) == ("filed", "sent", 1, "")
    assert path not in row.body and row.link_seed is None  # nor the seed, once sent


def test_the_filer_and_the_request_page_say_the_requester_is_emailed(
    app, client, auth, board, mail_on
):
    auth.login("sam")
    page = file(client, board, requester="Dana")
    shown = client.get(page.headers["Location"])
    assert "The requester is emailed the reference and a status link." in shown.text
    assert "The requester is emailed at dana@example.com" in shown.text
    assert "Email to requesters is not set up" not in shown.text
    mail_on.inbox.wait_for(1)
    join_senders()
    shown = client.get(page.headers["Location"])
    assert "Filed, with the status link" in shown.text and "sent " in shown.text
    assert "A status link is working since" in shown.text


def test_an_internal_note_is_never_mailed_and_a_reply_is(app, client, auth, board, mail_on):
    auth.login("ann")
    file(client, board)
    mail_on.inbox.wait_for(1)
    card = the_card(app)
    response = comment(client, board, card.id, INTERNAL, "internal")
    assert response.status_code == 303
    assert len(settled_mail(app, mail_on.inbox)) == 1
    assert [r.kind for r in rows(app)] == ["filed"]

    response = comment(client, board, card.id, REPLY, "reply")
    assert response.status_code == 303
    messages = mail_on.inbox.wait_for(2)
    to, reply = messages[1]
    assert to == ["dana@example.com"]
    assert reply["Subject"] == f"[{card.ref}] Reply to your request: {card.title}"
    body = reply.get_content()
    assert REPLY in body and "Ann replied" in body and "Status: received." in body
    assert "The status link you were given" in body
    assert not LINK.search(body)  # the token exists only in the first mail
    for text in mail_on.inbox.texts():
        assert "contract lapses" not in text


def test_done_and_closed_are_mailed(app, client, auth, board, mail_on):
    auth.login("ann")
    file(client, board)
    first = the_card(app)
    file(client, board, title="Export to CSV drops the last row")
    second = the_card(app)
    mail_on.inbox.wait_for(2)
    response = client.post(
        f"/b/{board['board']}/cards/{first.id}/move",
        data={"lane_id": board["support_lane"], "column_id": board["Done"]},
    )
    assert response.status_code == 303
    to, done = mail_on.inbox.wait_for(3)[2]
    assert done["Subject"] == f"[{first.ref}] Done: {first.title}"
    assert "is done" in done.get_content() and to == ["dana@example.com"]
    response = client.post(
        f"/b/{board['board']}/cards/{second.id}/close",
        data={"why": "duplicate", "note": "Same as the other one you sent"},
    )
    assert response.status_code == 303
    to, closed = mail_on.inbox.wait_for(4)[3]
    assert closed["Subject"] == f"[{second.ref}] Closed: {second.title}"
    assert "Why: Duplicate: Same as the other one you sent" in closed.get_content()
    # A move within or out of Done again does not tell the requester it is done twice.
    client.post(
        f"/b/{board['board']}/cards/{first.id}/move",
        data={"lane_id": board["support_lane"], "column_id": board["Done"], "after": 0},
    )
    assert len(settled_mail(app, mail_on.inbox)) == 4
    assert [r.kind for r in rows(app)] == ["filed", "filed", "done", "closed"]


def test_a_reopened_request_is_mailed_with_why(app, client, auth, board, mail_on):
    auth.login("ann")
    file(client, board)
    card = the_card(app)
    mail_on.inbox.wait_for(1)
    client.post(
        f"/b/{board['board']}/cards/{card.id}/close",
        data={"why": "wont_do", "note": "Works as designed"},
    )
    mail_on.inbox.wait_for(2)
    response = client.post(
        f"/b/{board['board']}/cards/{card.id}/reopen", data={"why": "The VAT rule changed"}
    )
    assert response.status_code == 303
    to, reopened = mail_on.inbox.wait_for(3)[2]
    assert reopened["Subject"] == f"[{card.ref}] Reopened: {card.title}"
    assert "is open again" in reopened.get_content() and to == ["dana@example.com"]
    assert "Why: The VAT rule changed" in reopened.get_content()
    assert [r.kind for r in rows(app)] == ["filed", "closed", "reopened"]


def test_a_card_without_an_email_gets_no_mail_and_the_page_says_so(
    app, client, auth, board, mail_on
):
    auth.login("sam")
    page = file(client, board, requester_email="")
    assert "Give the requester the reference" in client.get(page.headers["Location"]).text
    shown = client.get(page.headers["Location"]).text
    assert "No email address was given for the requester" in shown
    card = the_card(app)
    comment(client, board, card.id, REPLY, "reply")
    join_senders()
    assert rows(app) == [] and mail_on.inbox.messages == []
    with app.app_context():  # no link was made behind the filer's back
        assert db.session.execute(select(func.count()).select_from(StatusLink)).scalar() == 0
        db.session.remove()


def test_a_server_that_is_down_blocks_nothing_and_the_timer_command_delivers_later(
    app, client, auth, board, monkeypatch
):
    server = SmtpServer()  # not started yet: its port refuses connections
    mail_to(app, server.port, monkeypatch)
    auth.login("sam")
    started = time.monotonic()
    response = file(client, board)
    assert response.status_code == 303
    assert time.monotonic() - started < 2
    join_senders()
    (row,) = rows(app)
    assert (row.status, row.attempts) == ("pending", 1)
    assert "ConnectionRefusedError" in row.last_error
    assert row.next_attempt_at > row.last_attempt_at  # a retry is scheduled
    card = the_card(app)
    assert card.ref  # the request is filed whatever the mail server does

    runner = app.test_cli_runner()
    server.start()
    try:
        nothing_due = runner.invoke(args=["send-mail"])
        assert nothing_due.exit_code == 0 and "Sent 0" in nothing_due.output
        with clock.fixed(clock.now() + timedelta(minutes=2)):
            result = runner.invoke(args=["send-mail"])
        assert result.exit_code == 0, result.output
        assert "Sent 1; 0 will be retried; 0 given up." in result.output
        ((to, message),) = server.inbox.wait_for(1)
        assert card.ref in message.get_content() and LINK.search(message.get_content())
    finally:
        server.stop()
    (row,) = rows(app)
    assert (row.status, row.attempts) == ("sent", 2)


def test_leads_see_failures_and_retry_now(app, client, auth, board, monkeypatch):
    server = SmtpServer()
    mail_to(app, server.port, monkeypatch)
    auth.login("sam")
    file(client, board)
    join_senders()
    client.post("/logout")
    auth.login("lee")
    page = client.get(f"/b/{board['board']}/settings")
    assert page.status_code == 200
    text = page.text
    assert "Email to requesters is on" in text
    assert "d***@example.com" in text and "dana@example.com" not in text
    assert "ConnectionRefusedError" in text and "Retry now" in text
    assert re.search(r"waiting or being retried: <strong>1</strong>", text)

    server.start()
    try:
        response = client.post(f"/b/{board['board']}/settings/mail/retry")
        assert response.status_code == 303
        server.inbox.wait_for(1)
        join_senders()
    finally:
        server.stop()
    text = client.get(f"/b/{board['board']}/settings").text
    assert re.search(r"Sent: <strong>1</strong>", text) and "ConnectionRefusedError" not in text
    # Support staff and members may not.
    client.post("/logout")
    auth.login("sam")
    assert client.post(f"/b/{board['board']}/settings/mail/retry").status_code == 403


def test_the_status_token_is_in_no_stored_column_before_or_after_the_mail_is_sent(
    app, client, auth, board, monkeypatch
):
    server = SmtpServer()  # not started yet: the "filed" mail waits in the outbox
    mail_to(app, server.port, monkeypatch)
    auth.login("sam")
    file(client, board)
    join_senders()
    waiting = everything_in_the_database(app)
    server.start()
    try:
        with app.app_context(), clock.fixed(clock.now() + timedelta(minutes=2)):
            assert delivery.deliver_pending().sent == 1
            db.session.remove()
        ((_, message),) = server.inbox.wait_for(1)
    finally:
        server.stop()
    path = LINK.search(message.get_content()).group(1)
    token = path.rsplit("/", 1)[1]
    sent = everything_in_the_database(app)
    assert token.lower() not in waiting and token.lower() not in sent
    (row,) = rows(app)
    assert row.status == "sent" and "/status/" not in row.body
    client.post("/logout")
    page = client.get(path)  # the mailed link works
    assert page.status_code == 200 and "Invoices show the wrong VAT rate" in page.text


class RefusingInbox(Inbox):
    """A server that refuses every recipient for good and quotes the address back."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"


def test_the_settings_page_masks_addresses_in_the_error_text_too(
    app, client, auth, board, monkeypatch
):
    server = SmtpServer()
    server.inbox = RefusingInbox()
    mail_to(app, server.port, monkeypatch)
    server.start()
    try:
        auth.login("sam")
        file(client, board)
        join_senders()
    finally:
        server.stop()
    (row,) = rows(app)
    assert row.status == "failed" and "dana@example.com" in row.last_error
    client.post("/logout")
    auth.login("lee")
    text = client.get(f"/b/{board['board']}/settings").text
    assert "Recipient address rejected" in text and "d***@example.com" in text
    assert "dana@example.com" not in text


def test_mail_is_given_up_after_the_last_retry_and_retry_now_revives_it(app, board, ctx):
    port = free_port()  # nothing listens there
    for key, value in mail_config(port).items():
        app.config[key] = value
    try:
        sam = actor(_person("sam"), "support")
        filed = intake.file_request(board["board"], sam, _values(), intake.new_intake_key())
        assert filed.mailed
        join_senders()
        moment = clock.now()
        for _ in range(delivery.MAX_ATTEMPTS + 2):
            moment += timedelta(hours=13)
            with clock.fixed(moment):
                delivery.deliver_pending()
        row = db.session.execute(select(OutboundMail)).scalar_one()
        assert (row.status, row.attempts) == ("failed", delivery.MAX_ATTEMPTS)
        assert row.given_up_at is not None and "ConnectionRefusedError" in row.last_error
        shown = board_settings.mail_summary(board["board"])
        assert (shown.pending, shown.sent, shown.failed) == (0, 0, 1)
        assert shown.failures[0].status == "failed" and shown.failures[0].to == "d***@example.com"
        with pytest.raises(NotAllowed):
            board_settings.retry_mail(board["board"], sam)
        db.session.rollback()
        app.config["SMTP_HOST"] = ""  # no kick to a closed port: just look at the row
        assert board_settings.retry_mail(board["board"], actor(_person("lee"), "lead")) == 1
        db.session.expire_all()
        row = db.session.execute(select(OutboundMail)).scalar_one()
        assert (row.status, row.attempts, row.given_up_at) == ("pending", 0, None)
    finally:
        for key in mail_config(port):
            app.config.pop(key, None)


def test_the_mail_commits_with_the_request_or_not_at_all(app, board, ctx, mail_on, monkeypatch):
    real = outbox.queue_filed

    def queue_then_fail(card, token):
        real(card, token)
        raise RuntimeError("the database went away after the mail was written")

    monkeypatch.setattr(outbox, "queue_filed", queue_then_fail)
    sam = actor(_person("sam"), "support")
    with pytest.raises(RuntimeError):
        intake.file_request(board["board"], sam, _values(), intake.new_intake_key())
    db.session.rollback()
    for model in (Card, OutboundMail, StatusLink):
        assert db.session.execute(select(func.count()).select_from(model)).scalar() == 0
    monkeypatch.setattr(outbox, "queue_filed", real)
    intake.file_request(board["board"], sam, _values(), intake.new_intake_key())
    mail_on.inbox.wait_for(1)
    assert len(settled_mail(app, mail_on.inbox)) == 1  # the failed attempt sent nothing


def test_concurrent_senders_send_each_mail_once(app, board, ctx, mail_on, monkeypatch):
    monkeypatch.setattr(background, "kick", lambda app: None)  # only the senders below send
    sam = actor(_person("sam"), "support")
    for n in range(12):
        intake.file_request(
            board["board"], sam, _values(title=f"Request {n}"), intake.new_intake_key()
        )
    db.session.remove()
    results = []

    def send():
        with app.app_context():
            results.append(delivery.deliver_pending())
            db.session.remove()

    threads = [threading.Thread(target=send) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
        assert not thread.is_alive()
    messages = settled_mail(app, mail_on.inbox)
    assert len(messages) == 12
    subjects = sorted(m["Subject"] for _, m in messages)
    assert len(set(subjects)) == 12
    assert sum(r.sent for r in results) == 12
    assert (
        db.session.execute(select(func.count()).where(OutboundMail.status == "sent")).scalar() == 12
    )


def test_credentials_are_used_and_a_refused_login_is_retried(app, board, ctx, monkeypatch):
    def check(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == b"tracker" and auth_data.password == b"right password"
        return AuthResult(success=ok, handled=False)

    server = SmtpServer(authenticator=check, auth_require_tls=False)
    server.start()
    try:
        settings = mail_config(server.port, SMTP_USER="tracker", SMTP_PASSWORD="wrong")
        for key, value in settings.items():
            monkeypatch.setitem(app.config, key, value)
        monkeypatch.setattr(background, "kick", lambda app: None)
        intake.file_request(
            board["board"], actor(_person("sam"), "support"), _values(), intake.new_intake_key()
        )
        assert delivery.deliver_pending().retrying == 1
        row = db.session.execute(select(OutboundMail)).scalar_one()
        assert "SMTPAuthenticationError" in row.last_error and row.status == "pending"
        monkeypatch.setitem(app.config, "SMTP_PASSWORD", "right password")
        with clock.fixed(clock.now() + timedelta(minutes=2)):
            assert delivery.deliver_pending().sent == 1
        server.inbox.wait_for(1)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 (made with the openssl command)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"]
        + ["-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"]
        + ["-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.mark.parametrize("tls", ["starttls", "ssl"])
def test_tls_is_used_and_the_certificate_checked(app, board, ctx, monkeypatch, certificate, tls):
    cert, key = certificate
    server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_side.load_cert_chain(cert, key)
    if tls == "starttls":
        server = SmtpServer(tls_context=server_side, require_starttls=True)
    else:
        server = SmtpServer(ssl_context=server_side)
    server.start()
    try:
        for name, value in mail_config(server.port, SMTP_TLS=tls).items():
            monkeypatch.setitem(app.config, name, value)
        monkeypatch.setattr(background, "kick", lambda app: None)
        intake.file_request(
            board["board"], actor(_person("sam"), "support"), _values(), intake.new_intake_key()
        )
        # The system's authorities do not know this certificate: refused, kept for later.
        assert delivery.deliver_pending().retrying == 1
        row = db.session.execute(select(OutboundMail)).scalar_one()
        assert "CERTIFICATE_VERIFY_FAILED" in row.last_error
        trusted = ssl.create_default_context(cafile=str(cert))
        monkeypatch.setattr(delivery, "_tls_context", lambda: trusted)
        with clock.fixed(clock.now() + timedelta(minutes=2)):
            assert delivery.deliver_pending().sent == 1
        ((to, message),) = server.inbox.wait_for(1)
        assert to == ["dana@example.com"] and LINK.search(message.get_content())
    finally:
        server.stop()


def test_without_mail_nothing_is_queued_and_the_pages_say_so(app, client, auth, board):
    auth.login("sam")
    form = client.get(f"/b/{board['board']}/intake").text
    assert "Email to requesters is not set up: give them the status link yourself." in form
    page = file(client, board)
    shown = client.get(page.headers["Location"]).text
    assert "Email to requesters is not set up: give them the status link yourself." in shown
    assert "a reply shows only on the status link" in shown
    card = the_card(app)
    comment(client, board, card.id, REPLY, "reply")
    assert rows(app) == [] and background.background_senders() == []
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(StatusLink)).scalar() == 0
        db.session.remove()
    client.post("/logout")
    auth.login("lee")
    settings = client.get(f"/b/{board['board']}/settings").text
    assert "Email to requesters is not set up" in settings and "Retry now" not in settings
    runner = app.test_cli_runner()
    result = runner.invoke(args=["send-mail"])
    assert result.exit_code == 0 and "Mail is not set up" in result.output


def test_mail_settings_from_the_environment(monkeypatch):
    from flask import Flask

    def load(**env):
        for name in config.MAIL_VARIABLES:
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        flask_app = Flask("check")
        config._mail_from_environment(flask_app)
        config._check_mail(flask_app)
        return flask_app.config

    assert outbox.settings(load()) is None
    loaded = load(
        TRACKER_SMTP_HOST="smtp.example.com",
        TRACKER_SMTP_SENDER="support@example.com",
        TRACKER_PUBLIC_URL="https://tracker.example.com/",
        TRACKER_SMTP_TLS="ssl",
    )
    assert outbox.settings(loaded) == outbox.Settings(
        "smtp.example.com", 465, "support@example.com", "ssl", "", "", "https://tracker.example.com"
    )
    assert (
        load(TRACKER_SMTP_HOST="h", TRACKER_SMTP_SENDER="s@x.y", TRACKER_PUBLIC_URL="http://x")[
            "SMTP_PORT"
        ]
        == 587
    )
    for bad, message in (
        ({"TRACKER_SMTP_HOST": "h", "TRACKER_PUBLIC_URL": "https://x"}, "TRACKER_SMTP_SENDER"),
        ({"TRACKER_SMTP_HOST": "h", "TRACKER_SMTP_SENDER": "s@x.y"}, "TRACKER_PUBLIC_URL"),
        (
            {"TRACKER_SMTP_HOST": "h", "TRACKER_SMTP_SENDER": "s@x.y", "TRACKER_PUBLIC_URL": "x"},
            "must start with https://",
        ),
        (
            {
                "TRACKER_SMTP_HOST": "h",
                "TRACKER_SMTP_SENDER": "s@x.y",
                "TRACKER_PUBLIC_URL": "https://x",
                "TRACKER_SMTP_TLS": "maybe",
            },
            "starttls, ssl or none",
        ),
        (
            {
                "TRACKER_SMTP_HOST": "h",
                "TRACKER_SMTP_SENDER": "s@x.y",
                "TRACKER_PUBLIC_URL": "https://x",
                "TRACKER_SMTP_USER": "u",
            },
            "TRACKER_SMTP_PASSWORD",
        ),
    ):
        with pytest.raises(config.ConfigError, match=message):
            load(**bad)


def test_a_title_cannot_add_mail_headers(app, board, ctx, mail_on):
    sam = actor(_person("sam"), "support")
    intake.file_request(
        board["board"],
        sam,
        _values(title="Broken\r\nBcc: everyone@example.com"),
        intake.new_intake_key(),
    )
    ((to, message),) = mail_on.inbox.wait_for(1)
    assert to == ["dana@example.com"] and message["Bcc"] is None
    assert "\n" not in message["Subject"]


def _person(username):
    from tracker.models import User

    return db.session.execute(select(User).where(User.username == username)).scalar_one()


def _values(**changes) -> dict:
    return {
        "title": "Invoices show the wrong VAT rate",
        "description": "Customer Dana says the March invoices use 19% instead of 7%.",
        "requester": "Dana Customer",
        "requester_email": "dana@example.com",
        "severity": "S3",
        "component": "Other",
        "environment": "production",
    } | changes


@pytest.mark.parametrize(("attempts", "said"), [(1, "after 1 try"), (2, "after 2 tries")])
def test_given_up_mail_counts_its_tries(app, client, auth, board, monkeypatch, attempts, said):
    """A server that refuses an address for good gives up at the first try; the request's
    page and the lead's settings say how many there were."""
    server = SmtpServer()  # never started: the "filed" mail fails
    mail_to(app, server.port, monkeypatch)
    auth.login("sam")
    file(client, board)
    join_senders()
    card = the_card(app)
    with app.app_context():
        mail = db.session.execute(select(OutboundMail)).scalar_one()
        mail.status, mail.attempts, mail.given_up_at = MailStatus.FAILED, attempts, clock.now()
        db.session.commit()
    request_page = client.get(f"/b/{board['board']}/requests/{card.id}").text
    assert f"<strong>not delivered</strong> {said};" in request_page
    client.post("/logout")
    auth.login("lee")
    assert f"given up {said}</td>" in client.get(f"/b/{board['board']}/settings").text
