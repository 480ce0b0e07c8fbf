"""Delivery: sending the outbox's due mail over SMTP, with claims, leases and retries.

The claims, leases and retry schedule are services.queue's (the webhooks' outbox uses the
same): several workers, hosts and the cron command never send the same row twice at once,
no lock is held while talking to the SMTP server, and a process that dies mid-send leaves
the row to be sent again once its lease runs out. A failure is retried with growing
pauses, then given up; a refusal for good (5xx for the recipient) is given up at once.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Any

from tracker import clock
from tracker.domain import inbound as inbound_rules
from tracker.domain import intake as intake_rules
from tracker.domain.vocabulary import MailStatus
from tracker.models import OutboundMail
from tracker.services import host, queue
from tracker.services.mail.outbox import LINK_MARK, Settings, settings

log = logging.getLogger("tracker.mail")

# The retry schedule, lease and claims are the outbox queue's (services.queue), shared with
# the webhooks' outbox. A lead's "Retry now" starts the count afresh.
RETRY_MINUTES, MAX_ATTEMPTS, LEASE = queue.RETRY_MINUTES, queue.MAX_ATTEMPTS, queue.LEASE
held_by_sender = queue.held_by_sender
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


_COLUMNS = (
    OutboundMail.id,
    OutboundMail.board_id,
    OutboundMail.card_id,
    OutboundMail.to_address,
    OutboundMail.subject,
    OutboundMail.body,
    OutboundMail.attempts,
    OutboundMail.link_seed,
)


def _claim(mail_id: int) -> _Claimed | None:
    """Take one due row for this sender (None if another sender took it first)."""
    row = queue.claim(OutboundMail, mail_id, _COLUMNS)
    return _Claimed(*row) if row else None


def _set(mail_id: int, **values: Any) -> None:
    """Record a claimed row's outcome, unless it was cancelled meanwhile (an erasure)."""
    queue.settle(OutboundMail, mail_id, **values)


def _record_failure(mail: _Claimed, error: Exception, result: Delivery) -> None:
    now = clock.now()
    error_text = f"{type(error).__name__}: {error}"[:1000]
    again = None if _permanent(error) else queue.retry_at(mail.attempts, now)
    given_up = again is None
    if given_up:
        _set(mail.id, status=MailStatus.FAILED, given_up_at=now, last_error=error_text)
        result.given_up += 1
    else:
        _set(mail.id, next_attempt_at=again, last_error=error_text)
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
        for mail_id in queue.due_ids(OutboundMail, limit, clock.now()):
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
            _set(
                mail.id, status=MailStatus.SENT, sent_at=clock.now(), last_error="", link_seed=None
            )
            result.sent += 1
    finally:
        if server is not None:
            try:
                server.quit()
            except (OSError, smtplib.SMTPException):
                server.close()
    return result
