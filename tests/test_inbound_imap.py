"""Requesters' replies by email, end to end on a real IMAP server: Debian's dovecot
(/usr/sbin/dovecot, package dovecot-imapd), started by these tests with a configuration of
their own in a temporary folder, listening on a free port of 127.0.0.1. Mails are put in
its mailbox with IMAP APPEND, then `flask fetch-replies` reads them.

Without dovecot these tests are skipped, unless TRACKER_REQUIRE_IMAP=1 or CI is set: then
they fail (CI installs dovecot-imapd, .ci/run)."""

from __future__ import annotations

import grp
import imaplib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.helpers import REQUEST, actor, free_port, make_board, make_user
from tracker.domain import inbound as rules
from tracker.domain.intake import REQUESTER_REPLY_LENGTH
from tracker.domain.vocabulary import InboundOutcome, MailKind, RequestStatus
from tracker.extensions import db
from tracker.models import Board, Card, Comment, InboundMail, OutboundMail
from tracker.services import desk, inbound, intake

DOVECOT = "/usr/sbin/dovecot"
MAILBOX = "support@desk.example"
PASSWORD = "imap-secret"


def _required() -> bool:
    return os.environ.get("TRACKER_REQUIRE_IMAP", "").strip() == "1" or bool(
        os.environ.get("CI", "").strip()
    )


def _config(folder: Path, port: int) -> str:
    """A dovecot configuration for one test run: everything in `folder`, plain IMAP on
    127.0.0.1:port, one static password. As root, the mail and login processes run as
    Debian's dovecot and dovenull users (dovecot refuses to run them as root)."""
    if os.getuid() == 0:
        internal, login = "dovecot", "dovenull"
        mail_user = pwd.getpwnam("dovecot")
    else:
        internal = login = pwd.getpwuid(os.getuid()).pw_name
        mail_user = pwd.getpwuid(os.getuid())
    return f"""
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {folder}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
first_valid_uid = 1
default_internal_user = {internal}
default_internal_group = {grp.getgrgid(pwd.getpwnam(internal).pw_gid).gr_name}
default_login_user = {login}
mail_location = maildir:{folder}/mail/%u
passdb {{
  driver = static
  args = password={PASSWORD}
}}
userdb {{
  driver = static
  args = uid={mail_user.pw_uid} gid={mail_user.pw_gid} home={folder}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  chroot =
  user = {login}
}}
service anvil {{
  chroot =
}}
service auth {{
  user = {internal}
}}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


@pytest.fixture(scope="module")
def dovecot():
    """A running dovecot; yields its port. Stopped (by its own pid) at the module's end.
    Its folder is made here, not under pytest's (a root-only 0700 folder the dovecot user
    could not enter)."""
    if not (os.path.isfile(DOVECOT) and os.access(DOVECOT, os.X_OK)):
        if _required():
            pytest.fail(f"{DOVECOT} is missing (apt-get install dovecot-imapd)")
        pytest.skip(f"{DOVECOT} is missing: apt-get install dovecot-imapd to run these")
    folder = Path(tempfile.mkdtemp(prefix="wb-dovecot-"))
    for name in ("mail", "home"):
        (folder / name).mkdir()
    if os.getuid() == 0:
        folder.chmod(0o755)
        for name in ("mail", "home"):
            shutil.chown(folder / name, "dovecot", "dovecot")
    port = free_port()
    config = folder / "dovecot.conf"
    config.write_text(_config(folder, port))
    subprocess.run([DOVECOT, "-c", str(config)], check=True, timeout=30)
    pid_file = folder / "run" / "master.pid"
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                if sock.recv(100).startswith(b"* OK"):
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            log = (folder / "dovecot.log").read_text() if (folder / "dovecot.log").exists() else ""
            pytest.fail(f"dovecot did not start:\n{log[-2000:]}")
        time.sleep(0.2)
    yield port
    os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
    time.sleep(0.2)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def mailbox(dovecot):
    """The desk's mailbox, emptied before each test; returns a function that appends a mail."""
    connection = imaplib.IMAP4("127.0.0.1", dovecot, timeout=10)
    connection.login(MAILBOX, PASSWORD)
    connection.select("INBOX")
    _, found = connection.search(None, "ALL")
    for number in (found[0] or b"").split():
        connection.store(number, "+FLAGS", "(\\Deleted)")
    connection.expunge()

    def append(raw: bytes) -> None:
        status, _ = connection.append("INBOX", None, None, raw)
        assert status == "OK"

    yield append
    connection.logout()


@pytest.fixture
def desk_app(app, dovecot):
    app.config.update(
        MAIL_REPLY_ADDRESS=MAILBOX,
        IMAP_HOST="127.0.0.1",
        IMAP_PORT=str(dovecot),
        IMAP_USER=MAILBOX,
        IMAP_PASSWORD=PASSWORD,
        IMAP_SSL="0",
    )
    yield app
    for key in ("MAIL_REPLY_ADDRESS", "IMAP_HOST", "IMAP_PORT", "IMAP_USER", "IMAP_PASSWORD"):
        app.config.pop(key, None)
    app.config.pop("IMAP_SSL", None)


def a_request(app, *, requester_email: str = "rita@customer.example") -> tuple[int, str]:
    """A filed request, and its reply address."""
    with app.app_context():
        board = make_board()
        sam = actor(make_user("sam", board=board, role="support"), "support")
        values = REQUEST | {"requester_email": requester_email}
        card = intake.file_request(board.id, sam, values, intake.new_intake_key()).card
        token = rules.reply_token(app.config["SECRET_KEY"], card.id)
        card_id = card.id
        db.session.remove()
    return card_id, rules.reply_address(MAILBOX, token)


def mail(to: str, body: str, *, message_id: str | None = "<r1@customer.example>", **headers):
    message = EmailMessage()
    message["From"] = "Rita <rita@customer.example>"
    message["To"] = to
    message["Subject"] = "Re: [SUP-1] Export is empty"
    if message_id:
        message["Message-ID"] = message_id
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


SIGNATURE = "-- \n"  # the standard delimiter, its space included
REPLY = (
    """It still happens with the new version.

Rita
"""
    + SIGNATURE
    + """Rita Requester, Customer Ltd.

On Mon, 2 Mar 2026 at 10:00, Support <support@desk.example> wrote:
> Could you try the new version?
"""
)


def run(app) -> inbound.Fetched:
    with app.app_context():
        done = inbound.fetch_replies()
        db.session.remove()
    return done


def test_a_reply_is_filed_once_without_its_quote_and_signature(desk_app, mailbox):
    card_id, address = a_request(desk_app)
    with desk_app.app_context():
        sam = db.session.get(Card, card_id).filed_by_id
        desk.set_waiting(
            db.session.get(Card, card_id).board_id, actor_of(sam, "support"), card_id, True
        )
        db.session.remove()
    mailbox(mail(address, REPLY).as_bytes())
    first = run(desk_app)
    assert (first.seen, first.count(InboundOutcome.FILED)) == (1, 1)
    # The same mail again (a resend, or another copy in the folder): not filed twice.
    mailbox(mail(address, REPLY).as_bytes())
    second = run(desk_app)
    assert (second.seen, second.count(inbound.DUPLICATE)) == (1, 1)
    assert run(desk_app).seen == 0  # everything read is flagged seen
    with desk_app.app_context():
        (reply,) = db.session.execute(select(Comment)).scalars().all()
        assert (
            reply.from_requester and reply.body == "It still happens with the new version.\n\nRita"
        )
        board = db.session.get(Board, db.session.get(Card, card_id).board_id)
        row = desk.queue(board, desk.QueueFilter()).rows[0]
        assert row.status.key == RequestStatus.RECEIVED  # the wait ended


def actor_of(user_id: int, role: str):
    from tracker.models import User

    return actor(db.session.get(User, user_id), role)


def test_attachments_are_refused_with_a_polite_answer(desk_app, mailbox, monkeypatch):
    desk_app.config.update(
        SMTP_HOST="127.0.0.1", SMTP_SENDER="support@desk.example", PUBLIC_URL="http://x"
    )
    monkeypatch.setattr("tracker.services.mail.background.kick", lambda app: None)
    try:
        card_id, address = a_request(desk_app)
        with_file = mail(address, "See the screenshot.", message_id="<a1@customer.example>")
        with_file.add_attachment(b"\x89PNG...", maintype="image", subtype="png", filename="s.png")
        mailbox(with_file.as_bytes())
        auto = mail(address, "Out of office", message_id="<a2@customer.example>")
        auto.add_attachment(b"x", maintype="application", subtype="pdf", filename="x.pdf")
        auto["Auto-Submitted"] = "auto-replied"
        mailbox(auto.as_bytes())
        done = run(desk_app)
        assert done.count(InboundOutcome.BOUNCED) == 2
        with desk_app.app_context():
            assert db.session.execute(select(Comment)).first() is None
            bounces = (
                db.session.execute(select(OutboundMail).where(OutboundMail.kind == MailKind.BOUNCE))
                .scalars()
                .all()
            )
            assert [b.to_address for b in bounces] == ["rita@customer.example"]  # not the auto
            assert "plain text, without attachments" in bounces[0].body
    finally:
        for key in ("SMTP_HOST", "SMTP_SENDER", "PUBLIC_URL"):
            desk_app.config.pop(key, None)


def test_malformed_and_hostile_mail_is_recorded_and_left(desk_app, mailbox):
    card_id, address = a_request(desk_app)
    forged = address.replace(address.split("+")[1].split(".")[1][:4], "aaaa")
    other_card = address.replace(f"+{card_id}.", f"+{card_id + 1}.")
    mailbox(mail(forged, "Forged signature", message_id="<h1@x>").as_bytes())
    mailbox(mail(other_card, "Moved to another request", message_id="<h2@x>").as_bytes())
    mailbox(mail(MAILBOX, "No token at all", message_id="<h3@x>").as_bytes())
    mailbox(mail("support+../../etc@desk.example", "Path", message_id="<h4@x>").as_bytes())
    mailbox(mail(address, "> only a quote\n", message_id="<h5@x>").as_bytes())
    mailbox(mail(address, "No Message-ID, still filed once", message_id=None).as_bytes())
    mailbox(
        b"To: " + address.encode() + b"\r\nSubject: =?bogus?q?x?=\r\nContent-Type: text/plain; "
        b"charset=no-such-charset\r\n\r\n\xff\xfe broken bytes \x00\r\n"
    )
    mailbox(b"\x00\x01 not a mail at all")
    html = EmailMessage()
    html["To"] = address
    html["Message-ID"] = "<h6@x>"
    html.set_content(
        "<p>Works <b>now</b>, thanks!</p><script>alert(1)</script>"
        "<blockquote>old text</blockquote>",
        subtype="html",
    )
    mailbox(html.as_bytes())
    long = mail(address, "x" * 9000, message_id="<h7@x>")
    mailbox(long.as_bytes())
    done = run(desk_app)
    assert done.seen == 10
    assert done.count(InboundOutcome.UNMATCHED) == 5  # forged, moved, none, path, not a mail
    assert done.count(InboundOutcome.EMPTY) == 1  # only a quote
    with desk_app.app_context():
        bodies = db.session.execute(select(Comment.body).order_by(Comment.id)).scalars().all()
        assert any("broken bytes" in b for b in bodies)  # an unknown charset, read as UTF-8
        assert "No Message-ID, still filed once" in bodies
        assert "Works now, thanks!" in bodies
        assert all("<script>" not in b and "old text" not in b for b in bodies)
        assert max(len(b) for b in bodies) <= REQUESTER_REPLY_LENGTH
        assert all("\x00" not in b for b in bodies)
        recorded = db.session.execute(select(func.count()).select_from(InboundMail)).scalar_one()
        assert recorded == 10
    assert run(desk_app).seen == 0


def test_the_requesters_mail_carries_the_reply_address(desk_app):
    from tracker.services.mail import delivery, outbox
    from tracker.services.mail.outbox import settings

    card_id, address = a_request(desk_app)
    desk_app.config.update(SMTP_HOST="127.0.0.1", SMTP_SENDER=MAILBOX, PUBLIC_URL="http://x")
    try:
        with desk_app.app_context():
            claimed = delivery._Claimed(1, 1, card_id, "rita@customer.example", "S", "B", 1, None)
            message = delivery._message(claimed, settings())
            assert message["Reply-To"] == address
            team = delivery._Claimed(2, 1, None, "ann@team.example", "S", "B", 1, None)
            assert delivery._message(team, settings())["Reply-To"] is None
            told = outbox.queue_reply(db.session.get(Card, card_id), "We are on it.", "Ann")
            assert "You can answer this email" in told.body
            db.session.rollback()
    finally:
        for key in ("SMTP_HOST", "SMTP_SENDER", "PUBLIC_URL"):
            desk_app.config.pop(key, None)


def test_the_command_says_when_it_is_not_set_up(app):
    result = app.test_cli_runner().invoke(args=["fetch-replies"])
    assert result.exit_code == 0 and "not set up" in result.output
