"""Mail to requesters: an outbox written with the change, delivered after the commit.

The services that change a request (intake.file_request, intake.add_comment with a reply,
cards.move_card into a done column, cards.close_card) call a queue_* function here inside
their transaction. It adds an OutboundMail row, so the change and its mail commit together
or not at all, and marks the session; when that session commits, a background thread of
this process sends what is due (deliver_pending). A mail server that is down never fails
or slows the change: the row stays pending and is retried with growing pauses, by the next
change's thread, by `flask send-mail` (run it from cron or a systemd timer), or by a lead's
"Retry now" in the board settings, which also show the failures.

Each row is claimed by a conditional UPDATE before it is sent, so several workers, hosts
and the cron command never send the same row twice at once; no lock is held while talking
to the SMTP server. A process that dies mid-send leaves the row claimed until its lease
runs out, then it is sent again (at least once, never lost).

Mail says only what the requester's status link shows: the reference, the title, the
plain-words status, the reply the team chose to send, and (in the first mail) the link.
Never an internal note, the description, or anything else of the board.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import event, func, select, update

from tracker import clock
from tracker.domain import addresses, policy, text
from tracker.domain import intake as intake_rules
from tracker.domain.policy import Action
from tracker.domain.vocabulary import ColumnKind, MailKind, MailStatus
from tracker.extensions import db
from tracker.models import BoardColumn, Card, OutboundMail, StatusLink
from tracker.services.common import Actor, lock_board

log = logging.getLogger("tracker.mail")

PENDING, SENT, FAILED = MailStatus.PENDING, MailStatus.SENT, MailStatus.FAILED
# Cancelled because the requester's data was erased (services.erasure): never sent, never
# retried, not counted as a failure.
CANCELLED = MailStatus.ERASED
FILED, REPLY, DONE, CLOSED = MailKind.FILED, MailKind.REPLY, MailKind.DONE, MailKind.CLOSED
KINDS = tuple(MailKind)
# Minutes to wait after the 1st, 2nd, ... failed attempt; after the last, give up (about a
# day in all). A lead's "Retry now" starts the count afresh.
RETRY_MINUTES = (1, 5, 15, 60, 180, 360, 720)
MAX_ATTEMPTS = len(RETRY_MINUTES) + 1
# How long a claimed row is left to its sender before another may try it again.
LEASE = timedelta(minutes=5)
SMTP_TIMEOUT = 10  # seconds, for connecting and for each reply of the server
BATCH = 50
_QUEUED = "weatherboard_mail_queued"  # session.info flag: this transaction wrote mail
_THREAD_NAME = "weatherboard-mail"
# Where the "filed" mail's status link goes; the sender puts the link there and keeps it
# nowhere (the stored body keeps this mark).
LINK_MARK = "[your status link: in the email only]"


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    sender: str
    tls: str  # starttls, ssl or none
    user: str
    password: str
    public_url: str


def settings(config: Any = None) -> Settings | None:
    """The SMTP settings (tracker.config reads and checks them), or None: mail is off."""
    config = current_app.config if config is None else config
    host, sender = config.get("SMTP_HOST"), config.get("SMTP_SENDER")
    public_url = config.get("PUBLIC_URL")
    if not (host and sender and public_url):
        return None
    tls = str(config.get("SMTP_TLS") or "starttls").lower()
    port = int(config.get("SMTP_PORT") or {"ssl": 465, "none": 25}.get(tls, 587))
    return Settings(
        str(host),
        port,
        str(sender),
        tls,
        str(config.get("SMTP_USER") or ""),
        str(config.get("SMTP_PASSWORD") or ""),
        str(public_url).rstrip("/"),
    )


def configured() -> bool:
    """Whether requesters get email (the pages say so when they don't)."""
    return settings() is not None


def _recipient(card: Card) -> str | None:
    """The address to write to, when mail is on and the card has a usable one."""
    address = addresses.normal_email(card.requester_email)
    if not addresses.is_email(address) or settings() is None:
        return None
    return address


def will_mail(card: Card) -> bool:
    """Whether a change to this request is emailed to its requester."""
    return _recipient(card) is not None


# Writing mail (inside the caller's transaction) -----------------------------------------


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _status_url(token: str) -> str:
    """The status link's full address, built on TRACKER_PUBLIC_URL from the app's route."""
    path = current_app.url_map.bind("", script_name="/").build("intake.status", {"token": token})
    return settings().public_url + path


def _render(kind: str, **values: Any) -> str:
    # The app's Jinja environment, without context processors (no request here); .txt
    # templates are not HTML-escaped.
    return current_app.jinja_env.get_template(f"mail/{kind}.txt").render(**values)


def _queue(
    card: Card, kind: str, subject: str, *, link_seed: str | None = None, **values: Any
) -> OutboundMail | None:
    address = _recipient(card)
    if address is None:
        return None
    now = clock.now()
    row = OutboundMail(
        board_id=card.board_id,
        card_id=card.id,
        kind=kind,
        to_address=address,
        subject=_one_line(f"[{card.ref}] {subject}: {card.title}")[:300],
        body=_render(kind, card=card, greeting=_one_line(card.requester or ""), **values),
        link_seed=link_seed,
        status=PENDING,
        created_at=now,
        attempts=0,
        next_attempt_at=now,
        last_error="",
    )
    db.session.add(row)
    db.session.info[_QUEUED] = True
    return row


def _has_link(card: Card) -> bool:
    return (
        db.session.execute(
            select(StatusLink.id)
            .where(StatusLink.card_id == card.id, StatusLink.revoked_at.is_(None))
            .limit(1)
        ).first()
        is not None
    )


def _plain_status(card: Card) -> intake_rules.PlainStatus:
    columns = db.session.execute(
        select(BoardColumn.id, BoardColumn.kind)
        .where(BoardColumn.board_id == card.board_id)
        .order_by(BoardColumn.position)
    ).all()
    kinds = {c.id: c.kind for c in columns}
    active = [c.id for c in columns if c.kind == ColumnKind.ACTIVE]
    index = active.index(card.column_id) if card.column_id in active else None
    return intake_rules.plain_status(
        card.status, kinds.get(card.column_id, ""), index, card.close_reason
    )


def queue_filed(card: Card, link_seed: str) -> OutboundMail | None:
    """The mail that tells the requester their request was filed, with its status link.

    The link is not written into the stored body: the sender derives its token from
    link_seed and the secret key (domain.intake.status_token) when it sends, then forgets
    the seed, so the database never holds the token (only the link's hash, as always).
    """
    return _queue(card, FILED, "We have your request", link=LINK_MARK, link_seed=link_seed)


def queue_reply(card: Card, body: str, author: str) -> OutboundMail | None:
    """A reply the team wrote to the requester (never an internal note: callers pass
    only replies, and this takes only the reply's text)."""
    return _queue(
        card,
        REPLY,
        "Reply to your request",
        reply=body,
        author=intake_rules.first_name(author),
        status=_plain_status(card),
        has_link=_has_link(card),
    )


def queue_done(card: Card) -> OutboundMail | None:
    """The request reached a done column."""
    return _queue(card, DONE, "Done", has_link=_has_link(card))


def queue_closed(card: Card) -> OutboundMail | None:
    """The request was closed without doing it (won't do, duplicate), with the reason the
    team wrote for the requester (the status link shows it too)."""
    return _queue(card, CLOSED, "Closed", reason=card.close_reason, has_link=_has_link(card))


# Sending (after the commit) --------------------------------------------------------------


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


def _body(mail: _Claimed) -> str:
    """The body to send: the stored one with the status link put in its place."""
    if not mail.link_seed:
        return mail.body
    token = intake_rules.status_token(current_app.config["SECRET_KEY"], mail.link_seed)
    # The template's own mark is the last one: the title and name above it are user text.
    head, mark, tail = mail.body.rpartition(LINK_MARK)
    return head + _status_url(token) + tail if mark else mail.body


def _message(mail: _Claimed, config: Settings) -> EmailMessage:
    message = EmailMessage()
    message["From"] = config.sender
    message["To"] = mail.to_address
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(clock.now())
    domain = parseaddr(config.sender)[1].rpartition("@")[2] or "weatherboard.invalid"
    message["Message-ID"] = make_msgid(f"mail{mail.id}", domain=domain)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no autoreplies, please
    message.set_content(_body(mail))
    return message


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


# After the commit: a background sender per process --------------------------------------


class _Sender:
    """One background sender per app and process: a kick during a run makes it go again."""

    def __init__(self) -> None:
        self.running = threading.Lock()
        self.again = threading.Event()


def _sender(app: Flask) -> _Sender:
    return app.extensions.setdefault("weatherboard_mail", _Sender())


def kick(app: Flask) -> threading.Thread:
    """Send what is due in a daemon thread, without waiting for it."""
    sender = _sender(app)
    sender.again.set()
    thread = threading.Thread(target=_drain, args=(app, sender), name=_THREAD_NAME, daemon=True)
    thread.start()
    return thread


def _drain(app: Flask, sender: _Sender) -> None:
    while sender.again.is_set():
        if not sender.running.acquire(blocking=False):
            return  # the running sender sees `again` and goes round once more
        try:
            while sender.again.is_set():
                sender.again.clear()
                with app.app_context():
                    try:
                        deliver_pending()
                    except Exception:  # a daemon thread has no one to tell but the log
                        log.exception("mail.delivery_crashed", extra={"event": "mail.crashed"})
                    finally:
                        db.session.remove()
        finally:
            sender.running.release()


def _after_commit(session) -> None:
    if session.info.pop(_QUEUED, False) and has_app_context():
        kick(current_app._get_current_object())


def _after_rollback(session, _previous_transaction=None) -> None:
    session.info.pop(_QUEUED, None)


def register(app: Flask) -> None:
    """Send queued mail as soon as the transaction that wrote it commits (once per process)."""
    for name, listener in (
        ("after_commit", _after_commit),
        ("after_soft_rollback", _after_rollback),
    ):
        if not event.contains(db.session, name, listener):
            event.listen(db.session, name, listener)


def background_senders() -> list[threading.Thread]:
    """The background sender threads alive now (a test waits for them)."""
    return [t for t in threading.enumerate() if t.name == _THREAD_NAME]


# For leads: what happened to the board's mail -------------------------------------------


@dataclass(frozen=True)
class Failure:
    at: datetime | None
    to: str  # partly masked
    kind: str
    ref: str
    error: str
    status: str
    next_attempt_at: datetime
    attempts: int


@dataclass(frozen=True)
class MailSummary:
    configured: bool
    sender: str
    pending: int
    sent: int
    failed: int
    failures: list[Failure]


def summary(board_id: int, *, failures: int = 5) -> MailSummary:
    """The board's mail counts by status and its latest unresolved failures (addresses
    masked, in the To column and in the error text, which often quotes them)."""
    config = settings()
    counts = dict(
        db.session.execute(
            select(OutboundMail.status, func.count())
            .where(OutboundMail.board_id == board_id)
            .group_by(OutboundMail.status)
        ).all()
    )
    rows = db.session.execute(
        select(OutboundMail, Card.ref)
        .outerjoin(Card, Card.id == OutboundMail.card_id)
        .where(
            OutboundMail.board_id == board_id,
            OutboundMail.status.in_((PENDING, FAILED)),
            OutboundMail.last_error != "",
        )
        .order_by(OutboundMail.last_attempt_at.desc(), OutboundMail.id.desc())
        .limit(failures)
    ).all()
    return MailSummary(
        config is not None,
        config.sender if config else "",
        counts.get(PENDING, 0),
        counts.get(SENT, 0),
        counts.get(FAILED, 0),
        [
            Failure(
                row.last_attempt_at,
                text.mask_address(row.to_address),
                row.kind,
                ref or "",
                text.mask_addresses(row.last_error),
                row.status,
                row.next_attempt_at,
                row.attempts,
            )
            for row, ref in rows
        ],
    )


def card_mail(card_id: int) -> list[OutboundMail]:
    """The mail written for one request, oldest first (the request page lists it)."""
    return list(
        db.session.execute(
            select(OutboundMail).where(OutboundMail.card_id == card_id).order_by(OutboundMail.id)
        ).scalars()
    )


def retry_now(board_id: int, actor: Actor) -> int:
    """A lead sends the board's waiting and given-up mail again now; returns how many.

    Given-up mail starts its retries afresh; mail a sender holds right now is left to it;
    mail an erasure cancelled is never touched (its status is neither of these).
    The sending itself happens after the commit, in the background.
    """
    policy.require(actor.role, Action.RETRY_MAIL)
    lock_board(board_id)  # a write transaction from the start (SQLite reads, then writes)
    now = clock.now()
    rows = db.session.execute(
        select(
            OutboundMail.id,
            OutboundMail.status,
            OutboundMail.next_attempt_at,
            OutboundMail.last_attempt_at,
        ).where(OutboundMail.board_id == board_id, OutboundMail.status.in_((PENDING, FAILED)))
    ).all()
    count = 0
    for mail_id, status, next_attempt_at, last_attempt_at in rows:
        sending = last_attempt_at is not None and next_attempt_at == last_attempt_at + LEASE
        if status == PENDING and sending and next_attempt_at > now:
            continue  # a sender holds it right now
        # Only if nobody changed it since it was read (a sender claiming it, say).
        count += db.session.execute(
            update(OutboundMail)
            .where(
                OutboundMail.id == mail_id,
                OutboundMail.status == status,
                OutboundMail.next_attempt_at == next_attempt_at,
            )
            .values(status=PENDING, next_attempt_at=now, attempts=0, given_up_at=None)
            .execution_options(synchronize_session=False)
        ).rowcount
    if count:
        db.session.info[_QUEUED] = True
    db.session.commit()
    return count
