"""Delivery: sending the outbox's due mail over SMTP, with claims, leases and retries.

Each row is claimed by a conditional UPDATE before it is sent, so several workers, hosts
and the cron command never send the same row twice at once; no lock is held while talking
to the SMTP server. A process that dies mid-send leaves the row claimed until its lease
runs out, then it is sent again (at least once, never lost). A failure is retried with
growing pauses, then given up; a refusal for good (5xx for the recipient) is given up at
once.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Any

from sqlalchemy import select, update

from tracker import clock
from tracker.domain import inbound as inbound_rules
from tracker.domain import intake as intake_rules
from tracker.extensions import db
from tracker.models import OutboundMail
from tracker.services import host
from tracker.services.mail.outbox import FAILED, LINK_MARK, PENDING, SENT, Settings, settings

log = logging.getLogger("tracker.mail")

# Minutes to wait after the 1st, 2nd, ... failed attempt; after the last, give up (about a
# day in all). A lead's "Retry now" starts the count afresh.
RETRY_MINUTES = (1, 5, 15, 60, 180, 360, 720)
MAX_ATTEMPTS = len(RETRY_MINUTES) + 1
# How long a claimed row is left to its sender before another may try it again.
LEASE = timedelta(minutes=5)
SMTP_TIMEOUT = 10  # seconds, for connecting and for each reply of the server
BATCH = 50


@dataclass
class Delivery:
    """What one deliver_pending run did."""

    sent: int = 0
    retrying: int = 0
    given_up: int = 0


@dataclass(frozen=True)
class _Claimed:
    """A claimed row's values: nothing stays loaded (nor any transaction open) while the
    SMTP server is talked to."""

    id: int
    board_id: int
    card_id: int | None
    to_address: str
    subject: str
    body: str
    attempts: int
    link_seed: str | None


def held_by_sender(last_attempt_at: datetime | None, next_attempt_at: datetime) -> bool:
    """Whether a pending row's times say a sender claimed it (its lease may have run out)."""
    return last_attempt_at is not None and next_attempt_at == last_attempt_at + LEASE


def _status_url(config: Settings, token: str) -> str:
    """The status link's full address, built on TRACKER_PUBLIC_URL from the app's route."""
    return config.public_url + host.current().status_path(token)


def _body(mail: _Claimed, config: Settings) -> str:
    """The body to send: the stored one with the status link put in its place."""
    if not mail.link_seed:
        return mail.body
    token = intake_rules.status_token(host.config()["SECRET_KEY"], mail.link_seed)
    # The template's own mark is the last one: the title and name above it are user text.
    head, mark, tail = mail.body.rpartition(LINK_MARK)
    return head + _status_url(config, token) + tail if mark else mail.body


def _message(mail: _Claimed, config: Settings) -> EmailMessage:
    message = EmailMessage()
    message["From"] = config.sender
    message["To"] = mail.to_address
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(clock.now())
    domain = parseaddr(config.sender)[1].rpartition("@")[2] or "weatherboard.invalid"
    message["Message-ID"] = make_msgid(f"mail{mail.id}", domain=domain)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no autoreplies, please
    reply_to = _reply_to(mail.card_id)
    if reply_to:  # the requester's answer by email comes back to the request (inbound)
        message["Reply-To"] = reply_to
    message.set_content(_body(mail, config))
    return message


def _reply_to(card_id: int | None) -> str | None:
    """A requester mail's reply address (support+<token>@...), when replies by email are
    set up (TRACKER_MAIL_REPLY_ADDRESS); None for a team member's mail (no card)."""
    mailbox = str(host.config().get("MAIL_REPLY_ADDRESS") or "")
    if card_id is None or "@" not in mailbox:
        return None
    token = inbound_rules.reply_token(host.config()["SECRET_KEY"], card_id)
    return inbound_rules.reply_address(mailbox, token)


def _tls_context() -> ssl.SSLContext:
    """The system's trusted certificates, and the host name checked against them."""
    return ssl.create_default_context()


def _connect(config: Settings) -> smtplib.SMTP:
    if config.tls == "ssl":
        server: smtplib.SMTP = smtplib.SMTP_SSL(
            config.host, config.port, timeout=SMTP_TIMEOUT, context=_tls_context()
        )
    else:
        server = smtplib.SMTP(config.host, config.port, timeout=SMTP_TIMEOUT)
    try:
        if config.tls == "starttls":
            server.starttls(context=_tls_context())
        if config.user:
            server.login(config.user, config.password)
    except BaseException:
        server.close()
        raise
    return server


def _permanent(error: Exception) -> bool:
    """The server refused this recipient for good (5xx): trying again cannot help."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return bool(error.recipients) and all(code >= 500 for code, _ in error.recipients.values())
    return False


def _due_ids(limit: int, now: datetime) -> list[int]:
    ids = list(
        db.session.execute(
            select(OutboundMail.id)
            .where(OutboundMail.status == PENDING, OutboundMail.next_attempt_at <= now)
            .order_by(OutboundMail.next_attempt_at, OutboundMail.id)
            .limit(limit)
        ).scalars()
    )
    db.session.commit()  # end the read: each claim below starts its own write transaction
    return ids


def _claim(mail_id: int) -> _Claimed | None:
    """Take one due row for this sender (None if another sender took it first)."""
    now = clock.now()
    claimed = db.session.execute(
        update(OutboundMail)
        .where(
            OutboundMail.id == mail_id,
            OutboundMail.status == PENDING,
            OutboundMail.next_attempt_at <= now,
        )
        .values(
            attempts=OutboundMail.attempts + 1,
            last_attempt_at=now,
            next_attempt_at=now + LEASE,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    row = None
    if claimed:
        row = db.session.execute(
            select(
                OutboundMail.id,
                OutboundMail.board_id,
                OutboundMail.card_id,
                OutboundMail.to_address,
                OutboundMail.subject,
                OutboundMail.body,
                OutboundMail.attempts,
                OutboundMail.link_seed,
            ).where(OutboundMail.id == mail_id)
        ).one()
    db.session.commit()
    return _Claimed(*row) if row else None


def _set(mail_id: int, **values: Any) -> None:
    """Record a claimed row's outcome, unless it was cancelled meanwhile (an erasure)."""
    db.session.execute(
        update(OutboundMail)
        .where(OutboundMail.id == mail_id, OutboundMail.status == PENDING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _record_failure(mail: _Claimed, error: Exception, result: Delivery) -> None:
    now = clock.now()
    error_text = f"{type(error).__name__}: {error}"[:1000]
    given_up = _permanent(error) or mail.attempts >= MAX_ATTEMPTS
    if given_up:
        _set(mail.id, status=FAILED, given_up_at=now, last_error=error_text)
        result.given_up += 1
    else:
        wait = timedelta(minutes=RETRY_MINUTES[mail.attempts - 1])
        _set(mail.id, next_attempt_at=now + wait, last_error=error_text)
        result.retrying += 1
    log.warning(
        "mail.failed",
        extra={
            "event": "mail.failed",
            "ids": {
                "mail_id": mail.id,
                "board_id": mail.board_id,
                "card_id": mail.card_id,
                "attempts": mail.attempts,
                "error": type(error).__name__,
                "given_up": given_up,
            },
        },
    )


def deliver_pending(limit: int = BATCH) -> Delivery:
    """Send the mail that is due, oldest first, at most `limit`; record each outcome.

    Needs an app context and no open changes in the session (it commits). When the server
    cannot be reached at all, the rest of the batch waits for the next run.
    """
    result = Delivery()
    config = settings()
    if config is None:
        return result
    server: smtplib.SMTP | None = None
    try:
        for mail_id in _due_ids(limit, clock.now()):
            mail = _claim(mail_id)
            if mail is None:
                continue  # another sender has it
            try:
                if server is None:
                    server = _connect(config)
                server.send_message(_message(mail, config))
            except (OSError, smtplib.SMTPException) as error:
                _record_failure(mail, error, result)
                if server is None or isinstance(error, OSError | smtplib.SMTPServerDisconnected):
                    break  # the server is away: the others wait for the next run
                continue
            _set(mail.id, status=SENT, sent_at=clock.now(), last_error="", link_seed=None)
            result.sent += 1
    finally:
        if server is not None:
            try:
                server.quit()
            except (OSError, smtplib.SMTPException):
                server.close()
    return result
