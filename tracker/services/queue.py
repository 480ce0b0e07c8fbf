"""An outbox table's sending machinery: due rows, claims with a lease, outcomes, retries.

Shared by the mail outbox (services.mail.delivery) and the webhook outbox
(services.webhooks). A table qualifies with the columns status, attempts, next_attempt_at
and last_attempt_at (vocabulary.MailStatus for the status). Each row is claimed by a
conditional UPDATE before it is sent, so several workers, hosts and the cron command never
send the same row twice at once, and no lock is held while the other end is talked to. A
sender that dies mid-send leaves its row claimed until the lease runs out; then it is sent
again (at least once, never lost). A failure waits RETRY_MINUTES[attempts - 1] before the
next try; after MAX_ATTEMPTS it is given up.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from tracker import clock
from tracker.domain.vocabulary import MailStatus
from tracker.extensions import db

# Minutes to wait after the 1st, 2nd, ... failed attempt; after the last, give up (about a
# day in all).
RETRY_MINUTES = (1, 5, 15, 60, 180, 360, 720)
MAX_ATTEMPTS = len(RETRY_MINUTES) + 1
# How long a claimed row is left to its sender before another may try it again.
LEASE = timedelta(minutes=5)


def held_by_sender(last_attempt_at: datetime | None, next_attempt_at: datetime) -> bool:
    """Whether a pending row's times say a sender claimed it (its lease may have run out)."""
    return last_attempt_at is not None and next_attempt_at == last_attempt_at + LEASE


def due_ids(model: Any, limit: int, now: datetime) -> list[int]:
    """The ids of the rows due now, oldest first; ends the read (each claim is a write
    transaction of its own)."""
    ids = list(
        db.session.execute(
            select(model.id)
            .where(model.status == MailStatus.PENDING, model.next_attempt_at <= now)
            .order_by(model.next_attempt_at, model.id)
            .limit(limit)
        ).scalars()
    )
    db.session.commit()
    return ids


def claim(
    model: Any, row_id: int, columns: tuple[Any, ...], join: tuple[Any, Any] | None = None
) -> Any | None:
    """Take one due row for this sender: its `columns` read (a Row; `join`: a table and
    its ON clause to read columns of too), or None when another sender took it first.
    Counts the attempt and sets the lease."""
    now = clock.now()
    claimed = db.session.execute(
        update(model)
        .where(model.id == row_id, model.status == MailStatus.PENDING, model.next_attempt_at <= now)
        .values(attempts=model.attempts + 1, last_attempt_at=now, next_attempt_at=now + LEASE)
        .execution_options(synchronize_session=False)
    ).rowcount
    row = None
    if claimed:
        read = select(*columns).where(model.id == row_id)
        if join is not None:
            read = read.join(*join)
        row = db.session.execute(read).one()
    db.session.commit()
    return row


def settle(model: Any, row_id: int, **values: Any) -> None:
    """Record a claimed row's outcome, unless it stopped being pending meanwhile (a mail
    cancelled by an erasure)."""
    db.session.execute(
        update(model)
        .where(model.id == row_id, model.status == MailStatus.PENDING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def retry_at(attempts: int, now: datetime) -> datetime | None:
    """When a row that failed its `attempts`-th try is tried again (None: give it up)."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return now + timedelta(minutes=RETRY_MINUTES[attempts - 1])
