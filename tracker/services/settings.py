"""What a lead's board settings page shows and does about mail to requesters: the board's
mail counts and latest failures, and "Retry now"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update

from tracker import clock
from tracker.domain import policy, text
from tracker.domain.policy import Action
from tracker.domain.vocabulary import MailStatus
from tracker.extensions import db
from tracker.models import Card, OutboundMail
from tracker.services.common import Actor
from tracker.services.mail import delivery, outbox
from tracker.store import lock_board


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


def mail_summary(board_id: int, *, failures: int = 5) -> MailSummary:
    """The board's mail counts by status and its latest unresolved failures (addresses
    masked, in the To column and in the error text, which often quotes them)."""
    config = outbox.settings()
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
            OutboundMail.status.in_((MailStatus.PENDING, MailStatus.FAILED)),
            OutboundMail.last_error != "",
        )
        .order_by(OutboundMail.last_attempt_at.desc(), OutboundMail.id.desc())
        .limit(failures)
    ).all()
    return MailSummary(
        config is not None,
        config.sender if config else "",
        counts.get(MailStatus.PENDING, 0),
        counts.get(MailStatus.SENT, 0),
        counts.get(MailStatus.FAILED, 0),
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


def retry_mail(board_id: int, actor: Actor) -> int:
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
        ).where(
            OutboundMail.board_id == board_id,
            OutboundMail.status.in_((MailStatus.PENDING, MailStatus.FAILED)),
        )
    ).all()
    count = 0
    for mail_id, status, next_attempt_at, last_attempt_at in rows:
        sending = delivery.held_by_sender(last_attempt_at, next_attempt_at)
        if status == MailStatus.PENDING and sending and next_attempt_at > now:
            continue  # a sender holds it right now
        # Only if nobody changed it since it was read (a sender claiming it, say).
        count += db.session.execute(
            update(OutboundMail)
            .where(
                OutboundMail.id == mail_id,
                OutboundMail.status == status,
                OutboundMail.next_attempt_at == next_attempt_at,
            )
            .values(status=MailStatus.PENDING, next_attempt_at=now, attempts=0, given_up_at=None)
            .execution_options(synchronize_session=False)
        ).rowcount
    if count:
        outbox.mark_written(db.session())
    db.session.commit()
    return count
