"""Requesters' replies by email: `flask fetch-replies` reads the desk's IMAP mailbox and
files each reply on its request (tracker.domain.inbound finds the request from the reply
address and cuts the quoted mail and signature).

Each mail is recorded by its Message-ID (InboundMail, unique), in the transaction that
files it: run twice, or twice at once, a mail is filed once. A mail with attachments is
not filed; its sender gets a polite answer through the outbox (not to automatic mail,
which would answer back). A mail without a valid reply address, or with no words of its
own, is recorded and left. Every mail read is flagged seen, so the next run skips it.
"""

from __future__ import annotations

import contextlib
import email
import hashlib
import imaplib
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tracker import clock
from tracker.domain import addresses
from tracker.domain import inbound as rules
from tracker.domain.intake import REQUESTER_REPLY_LENGTH
from tracker.domain.vocabulary import InboundOutcome, MailKind, MailStatus
from tracker.extensions import db
from tracker.models import Card, InboundMail, OutboundMail
from tracker.services import desk, host
from tracker.services.mail import outbox

ADDRESS_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")
MAX_MESSAGE_BYTES = 2_000_000  # a larger mail is not read (counted as unmatched)
CUT = "\n[cut: a reply is at most 5,000 characters]"
TIMEOUT = 30


@dataclass(frozen=True)
class ImapSettings:
    host: str
    port: int
    user: str
    password: str
    mailbox: str
    ssl: bool


def imap_settings(config: Any = None) -> ImapSettings | None:
    """The IMAP settings (tracker.config reads them), or None: replies by email are off."""
    config = host.config() if config is None else config
    server, user = config.get("IMAP_HOST"), config.get("IMAP_USER")
    if not (server and user and config.get("MAIL_REPLY_ADDRESS")):
        return None
    use_ssl = str(config.get("IMAP_SSL", "1")).strip().lower() not in {"0", "false", "no", "off"}
    return ImapSettings(
        str(server),
        int(config.get("IMAP_PORT") or (993 if use_ssl else 143)),
        str(user),
        str(config.get("IMAP_PASSWORD") or ""),
        str(config.get("IMAP_MAILBOX") or "INBOX"),
        use_ssl,
    )


@dataclass
class Fetched:
    """What one run did, by outcome; `seen` mails read in all."""

    seen: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    def count(self, outcome: str) -> int:
        return self.outcomes.get(outcome, 0)


DUPLICATE = "duplicate"  # already filed by an earlier run: not recorded again


def fetch_replies(settings: ImapSettings | None = None) -> Fetched:
    """Read the unseen mail of the desk's mailbox, file each, flag each seen."""
    settings = settings or imap_settings()
    if settings is None:
        raise RuntimeError("Replies by email are not set up (TRACKER_IMAP_* settings).")
    kind = imaplib.IMAP4_SSL if settings.ssl else imaplib.IMAP4
    connection = kind(settings.host, settings.port, timeout=TIMEOUT)
    done = Fetched()
    try:
        connection.login(settings.user, settings.password)
        status, _ = connection.select(settings.mailbox)
        if status != "OK":
            raise RuntimeError(f"The mailbox {settings.mailbox} cannot be opened.")
        _, found = connection.uid("SEARCH", None, "UNSEEN")
        for uid in (found[0] or b"").split():
            raw = _fetch(connection, uid)
            outcome = file_message(raw) if raw is not None else InboundOutcome.UNMATCHED
            done.seen += 1
            done.outcomes[outcome] = done.outcomes.get(outcome, 0) + 1
            connection.uid("STORE", uid, "+FLAGS", "(\\Seen)")
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            connection.logout()
    return done


def _fetch(connection: imaplib.IMAP4, uid: bytes) -> bytes | None:
    """One mail's bytes (None when it is too large to read)."""
    _, sized = connection.uid("FETCH", uid, "(RFC822.SIZE)")
    size = rules_size(sized)
    if size is None or size > MAX_MESSAGE_BYTES:
        return None
    _, data = connection.uid("FETCH", uid, "(BODY.PEEK[])")
    for part in data:
        if isinstance(part, tuple) and len(part) == 2:
            return part[1]
    return None


def rules_size(answer: list) -> int | None:
    """The size in a FETCH (RFC822.SIZE) answer."""
    for item in answer:
        found = re.search(rb"RFC822\.SIZE (\d+)", item if isinstance(item, bytes) else b"")
        if found:
            return int(found.group(1))
    return None


def _message_id(message: EmailMessage, raw: bytes) -> str:
    """The mail's Message-ID, or a hash of its bytes when it has none (or a broken one)."""
    try:
        given = str(message.get("Message-ID") or "").strip()
    except (ValueError, TypeError, IndexError):
        given = ""
    if given and len(given) <= 255 and given.isprintable():
        return given
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _header_values(message: EmailMessage, names: tuple[str, ...]) -> list[str]:
    values = []
    for name in names:
        try:
            values += [str(v) for v in message.get_all(name) or []]
        except (ValueError, TypeError, IndexError):
            continue
    return values


def _has_attachments(message: EmailMessage) -> bool:
    for part in message.walk():
        if part.is_multipart():
            continue
        disposition = part.get_content_disposition()
        if disposition == "attachment" or (
            disposition == "inline" and part.get_filename() is not None
        ):
            return True
        if part.get_content_maintype() not in ("text",):
            return True
    return False


def _text_of(message: EmailMessage) -> str:
    """The reply's own words: its plain text (or HTML as text) without quote and signature."""
    try:
        body = message.get_body(preferencelist=("plain", "html"))
    except (LookupError, ValueError, KeyError, AssertionError):
        return ""
    if body is None:
        return ""
    subtype = body.get_content_subtype()
    try:
        content = body.get_content()
    except (LookupError, ValueError, KeyError, AssertionError):
        # An unknown or lying charset: the bytes as UTF-8, what cannot be read replaced.
        payload = body.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if not isinstance(content, str):
        return ""
    if subtype == "html":
        content = rules.html_to_text(content)
    return rules.without_quote_and_signature(content.replace("\x00", ""))


def _automatic(message: EmailMessage) -> bool:
    """Mail that must never be answered: auto-replies, lists, bounces (RFC 3834)."""
    auto = str(message.get("Auto-Submitted") or "no").strip().lower()
    precedence = str(message.get("Precedence") or "").strip().lower()
    return_path = str(message.get("Return-Path") or "").strip()
    return auto != "no" or precedence in ("bulk", "junk", "list") or return_path == "<>"


def file_message(raw: bytes) -> str:
    """File one mail's bytes: as the requester's reply on the request its reply address
    names, or not (see the module's docstring). Returns the outcome."""
    message = email.message_from_bytes(raw, policy=policy.default)
    message_id = _message_id(message, raw)
    if db.session.execute(
        select(InboundMail.id).where(InboundMail.message_id == message_id)
    ).first():
        db.session.rollback()
        return DUPLICATE
    secret = host.config()["SECRET_KEY"]
    mailbox = str(host.config().get("MAIL_REPLY_ADDRESS") or "")
    card = None
    for token in rules.tokens_in(_header_values(message, ADDRESS_HEADERS), mailbox):
        card_id = rules.card_of_token(secret, token)
        if card_id is not None:
            card = db.session.get(Card, card_id)
            break
    now = clock.now()
    record = InboundMail(message_id=message_id, received_at=now, card_id=card.id if card else None)
    if card is None:
        return _record(record, InboundOutcome.UNMATCHED)
    if _has_attachments(message):
        _bounce(message, card)
        return _record(record, InboundOutcome.BOUNCED)
    text = _text_of(message)
    if not text:
        return _record(record, InboundOutcome.EMPTY)
    if len(text) > REQUESTER_REPLY_LENGTH:
        text = text[: REQUESTER_REPLY_LENGTH - len(CUT)] + CUT
    record.outcome = InboundOutcome.FILED
    try:
        desk.add_requester_reply(card, text, at=now, also=[record])  # one commit
    except IntegrityError:
        db.session.rollback()
        return DUPLICATE
    return InboundOutcome.FILED


def _record(record: InboundMail, outcome: str) -> str:
    record.outcome = outcome
    db.session.add(record)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return DUPLICATE
    return outcome


def _bounce(message: EmailMessage, card: Card) -> None:
    """Answer a mail with attachments politely, through the outbox (not automatic mail)."""
    sender = addresses.normal_email(parseaddr(str(message.get("From") or ""))[1])
    if _automatic(message) or not addresses.is_email(sender) or not outbox.configured():
        return
    now = clock.now()
    db.session.add(
        OutboundMail(
            board_id=card.board_id,
            card_id=card.id,
            kind=MailKind.BOUNCE,
            to_address=sender,
            subject=f"[{card.ref}] Your reply was not filed: attachments"[:300],
            body=host.current().render_text("mail/bounce.txt", {"card": card}),
            status=MailStatus.PENDING,
            created_at=now,
            attempts=0,
            next_attempt_at=now,
            last_error="",
        )
    )
    outbox.mark_written(db.session())
