"""The outbox: mail to a requester written in the caller's transaction, sent later.

A queue_* function adds an OutboundMail row to the session of the change it tells of, so
both commit together or not at all, and marks the session (`written`): once it commits,
tracker.subscribers starts a background sender. Each function writes nothing when mail is
off or the card has no usable address.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import clock
from tracker.domain import addresses
from tracker.domain import intake as intake_rules
from tracker.domain.vocabulary import MailKind, MailStatus
from tracker.extensions import db
from tracker.models import BoardColumn, Card, OutboundMail, StatusLink
from tracker.services import host

# Where the "filed" mail's status link goes; the sender puts the link there and keeps it
# nowhere (the stored body keeps this mark).
LINK_MARK = "[your status link: in the email only]"
_WRITTEN = "weatherboard_mail_queued"  # session.info flag: this transaction wrote mail


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    sender: str
    tls: str  # starttls, ssl or none
    user: str
    password: str
    public_url: str


def settings(config: Mapping[str, Any] | None = None) -> Settings | None:
    """The SMTP settings (tracker.config reads and checks them), or None: mail is off."""
    config = host.config() if config is None else config
    server, sender = config.get("SMTP_HOST"), config.get("SMTP_SENDER")
    public_url = config.get("PUBLIC_URL")
    if not (server and sender and public_url):
        return None
    tls = str(config.get("SMTP_TLS") or "starttls").lower()
    port = int(config.get("SMTP_PORT") or {"ssl": 465, "none": 25}.get(tls, 587))
    return Settings(
        str(server),
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


def mark_written(session: Session) -> None:
    """Note that this transaction wrote mail to send once it commits."""
    session.info[_WRITTEN] = True


def written(session: Session) -> bool:
    """Whether the transaction that just ended wrote mail to send (and forget the note)."""
    return bool(session.info.pop(_WRITTEN, False))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _queue(
    card: Card, kind: str, subject: str, *, link_seed: str | None = None, **values: Any
) -> OutboundMail | None:
    address = _recipient(card)
    if address is None:
        return None
    now = clock.now()
    values |= {"card": card, "greeting": _one_line(card.requester or "")}
    # Replies by email are on (services.inbound): the mail's Reply-To files the answer.
    values["answerable"] = "@" in str(host.config().get("MAIL_REPLY_ADDRESS") or "")
    row = OutboundMail(
        board_id=card.board_id,
        card_id=card.id,
        kind=kind,
        to_address=address,
        subject=_one_line(f"[{card.ref}] {subject}: {card.title}")[:300],
        # .txt templates are not HTML-escaped.
        body=host.current().render_text(f"mail/{kind}.txt", values),
        link_seed=link_seed,
        status=MailStatus.PENDING,
        created_at=now,
        attempts=0,
        next_attempt_at=now,
        last_error="",
    )
    db.session.add(row)
    mark_written(db.session())
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
    return intake_rules.request_status(
        card.status, card.column_id, [(c.id, c.kind) for c in columns], card.close_reason
    )


def queue_filed(card: Card, link_seed: str) -> OutboundMail | None:
    """The mail that tells the requester their request was filed, with its status link.

    The link is not written into the stored body: the sender derives its token from
    link_seed and the secret key (domain.intake.status_token) when it sends, then forgets
    the seed, so the database never holds the token (only the link's hash, as always).
    """
    return _queue(card, MailKind.FILED, "We have your request", link=LINK_MARK, link_seed=link_seed)


def queue_reply(card: Card, body: str, author: str) -> OutboundMail | None:
    """A reply the team wrote to the requester (never an internal note: callers pass
    only replies, and this takes only the reply's text)."""
    return _queue(
        card,
        MailKind.REPLY,
        "Reply to your request",
        reply=body,
        author=intake_rules.first_name(author),
        status=_plain_status(card),
        has_link=_has_link(card),
    )


def queue_done(card: Card) -> OutboundMail | None:
    """The request reached a done column."""
    return _queue(card, MailKind.DONE, "Done", has_link=_has_link(card))


def queue_closed(card: Card) -> OutboundMail | None:
    """The request was closed without doing it (won't do, duplicate), with the reason the
    team wrote for the requester (the status link shows it too)."""
    return _queue(
        card, MailKind.CLOSED, "Closed", reason=card.close_reason, has_link=_has_link(card)
    )


def queue_reopened(card: Card, reason: str) -> OutboundMail | None:
    """A request that was done or closed is back on the team's board, with why."""
    return _queue(card, MailKind.REOPENED, "Reopened", reason=reason, has_link=_has_link(card))


def card_mail(card_id: int) -> list[OutboundMail]:
    """The mail written for one request, oldest first (the request page lists it)."""
    return list(
        db.session.execute(
            select(OutboundMail).where(OutboundMail.card_id == card_id).order_by(OutboundMail.id)
        ).scalars()
    )
