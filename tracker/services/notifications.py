"""In-app notifications and their mail (DESIGN.md "Next": a notification is derived from
the events a use case writes, never from a second code path).

`note_event` listens to the store's "history event written" (tracker.subscribers) and, in
the event's own transaction, writes a Notification per person the domain says hears of it
(domain.notifications.recipients), adds one to each one's unread count, and queues the
mail of those who want it at once in the outbox (sent in the background after the commit,
like requester mail). The rest is one use case per function: a person's list, marking read,
mail choices, the unsubscribe link, and the daily digests (`flask send-digests`).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import Insert, Select, Update, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from tracker import clock
from tracker.domain import notifications as rules
from tracker.domain import policy
from tracker.domain.errors import InvalidRequest, NotFound
from tracker.domain.policy import Action
from tracker.domain.vocabulary import MailKind, MailMode, MailStatus, NoticeKind
from tracker.domain.wording import counted
from tracker.extensions import db
from tracker.models import (
    Board,
    BoardColumn,
    Card,
    CardEvent,
    CardWatcher,
    DigestSent,
    Membership,
    Notification,
    OutboundMail,
    User,
)
from tracker.services import host, rotation
from tracker.services.mail import outbox

# The unsubscribe link: signed with the app's secret key under a salt of its own (a token
# made for anything else never passes), good for this long.
UNSUBSCRIBE_SALT = "weatherboard.notifications.unsubscribe"
UNSUBSCRIBE_MAX_AGE = 60 * 24 * 3600  # seconds: two months
# How many notifications the list shows at once (older ones a page further).
PAGE_SIZE = 50
# A digest lists at most this many (and says how many more there were).
DIGEST_MOST = 100


# Writing them: the listener -----------------------------------------------------------------


@functools.cache
def _people_statement() -> Select:
    """The card's assignee, with each person on its board: their role, whether they watch
    the card, and what the notifications need of them (active, mail choices, address). One
    statement per event that may notify anyone (domain.notifications.may_notify)."""
    return (
        select(
            Card.assignee_id,
            Membership.user_id,
            Membership.role,
            CardWatcher.user_id.is_not(None).label("watches"),
            User.active,
            User.notice_mail,
            User.email,
        )
        .select_from(Card)
        .outerjoin(Membership, Membership.board_id == Card.board_id)
        .outerjoin(User, User.id == Membership.user_id)
        .outerjoin(
            CardWatcher,
            (CardWatcher.card_id == Card.id) & (CardWatcher.user_id == Membership.user_id),
        )
        .where(Card.id == bindparam("card_id"))
    )


@functools.cache
def _insert_statement() -> Insert:
    return insert(Notification.__table__)


@functools.cache
def _count_statement() -> Update:
    """Add to (or take from) people's unread counts: relative, so a mark-read and a new
    notification at once both count."""
    return (
        update(User)
        .where(User.id.in_(bindparam("user_ids", expanding=True)))
        .values(unread_notifications=User.unread_notifications + bindparam("delta"))
        .execution_options(synchronize_session=False)
    )


@dataclass(frozen=True)
class _Person:
    role: str
    watching: bool
    active: bool
    notice_mail: dict[str, str] | None
    email: str | None


def note_event(session: Session, event_id: int, values: Mapping[str, Any]) -> None:
    """The store wrote a card history event: tell whom it concerns, in its transaction.

    Reads the card's people only for an event that may notify anyone; writes the
    notifications and the unread counts only when someone hears of it. Only people on the
    card's board hear of it (a watcher who left the board does not)."""
    kind, changes = values["kind"], values.get("changes") or {}
    if not rules.may_notify(kind, changes):
        return
    connection = session.connection()
    rows = connection.execute(_people_statement(), {"card_id": values["card_id"]}).all()
    if not rows:
        return
    assignee_id = rows[0].assignee_id
    people = {
        row.user_id: _Person(row.role, bool(row.watches), row.active, row.notice_mail, row.email)
        for row in rows
        if row.user_id is not None and row.active
    }
    heard = rules.recipients(
        kind,
        values.get("actor_id"),
        changes,
        assignee_id,
        [uid for uid, person in people.items() if person.watching],
        rules.mentioned_ids(changes),
        [uid for uid, person in people.items() if policy.may(person.role, Action.HOLD_CARDS)],
        _on_duty(values["board_id"]) if rules.made_urgent(kind, changes) else (),
    )
    heard = [r for r in heard if r.user_id in people]
    if not heard:
        return
    at = values["at"]
    connection.execute(
        _insert_statement(),
        [
            {
                "recipient_id": r.user_id,
                "board_id": values["board_id"],
                "card_id": values["card_id"],
                "event_id": event_id,
                "kind": r.kind.value,
                "created_at": at,
                "read_at": None,
            }
            for r in heard
        ],
    )
    connection.execute(_count_statement(), {"user_ids": [r.user_id for r in heard], "delta": 1})
    mailed = [
        r
        for r in heard
        if people[r.user_id].email
        and rules.mail_mode(people[r.user_id].notice_mail, r.kind) == MailMode.NOW
    ]
    if mailed and outbox.settings() is not None:
        _queue_notices(session, event_id, values, {r.user_id: r for r in mailed}, people)


def _on_duty(board_id: int) -> set[int]:
    """The people on support duty on the board today (none without a rotation)."""
    duty = rotation.duty_for_pull(db.session.get(Board, board_id))
    return set(duty.on_duty) if duty is not None else set()


def _told(event_id: int, kinds: Mapping[int, NoticeKind]) -> dict[int, rules.Told]:
    """What each person's sentence about one event is made of (read for mail only)."""
    row = db.session.execute(_told_statement().where(CardEvent.id == event_id)).one()
    return {uid: _told_of(row, kind) for uid, kind in kinds.items()}


def _told_statement() -> Select:
    actor, to_column = aliased(User), aliased(BoardColumn)
    return (
        select(
            CardEvent.kind.label("event_kind"),
            CardEvent.reason,
            CardEvent.board_id,
            CardEvent.card_id,
            actor.name.label("actor"),
            Card.ref,
            Card.title,
            to_column.name.label("to_column"),
        )
        .select_from(CardEvent)
        .join(Card, Card.id == CardEvent.card_id)
        .outerjoin(actor, actor.id == CardEvent.actor_id)
        .outerjoin(to_column, to_column.id == CardEvent.to_column_id)
    )


def _told_of(row: Any, kind: str) -> rules.Told:
    return rules.Told(
        kind,
        row.event_kind,
        row.actor or "",
        row.ref,
        row.title,
        row.to_column or "",
        row.reason or "",
    )


def _card_url(settings: outbox.Settings, board_id: int, card_id: int) -> str:
    return settings.public_url + host.current().path("board.show", board_id=board_id, card=card_id)


def unsubscribe_url(settings: outbox.Settings, user_id: int, kind: str) -> str:
    """The link in a mail that turns this kind of mail off for the person, no login."""
    token = unsubscribe_token(user_id, kind)
    return settings.public_url + host.current().path("notifications.unsubscribe", mail_token=token)


def _queue_notices(
    session: Session,
    event_id: int,
    values: Mapping[str, Any],
    mailed: Mapping[int, rules.Recipient],
    people: Mapping[int, _Person],
) -> None:
    settings = outbox.settings()
    assert settings is not None
    told = _told(event_id, {uid: r.kind for uid, r in mailed.items()})
    now = clock.now()
    for uid, recipient in mailed.items():
        words = rules.sentence(told[uid])
        body = host.current().render_text(
            "mail/notice.txt",
            {
                "sentence": words,
                "reason": told[uid].reason,
                "card_url": _card_url(settings, values["board_id"], values["card_id"]),
                "kind_label": recipient.kind.label,
                "unsubscribe_url": unsubscribe_url(settings, uid, recipient.kind),
                "account_url": settings.public_url + host.current().path("account.edit_password"),
            },
        )
        session.add(
            _mail_row(values["board_id"], MailKind.NOTICE, people[uid].email, words, body, now)
        )
    outbox.mark_written(session)


def _mail_row(board_id: int, kind: str, to: Any, subject: str, body: str, now: datetime):
    return OutboundMail(
        board_id=board_id,
        card_id=None,  # a team member's mail: the request's page lists requester mail only
        kind=kind,
        to_address=str(to),
        subject=" ".join(subject.split())[:300],
        body=body,
        status=MailStatus.PENDING,
        created_at=now,
        attempts=0,
        next_attempt_at=now,
        last_error="",
    )


# Reading and marking them -------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """One notification as the list shows it."""

    id: int
    board_id: int
    card_id: int
    board: str
    sentence: str
    created_at: datetime
    read: bool


@dataclass(frozen=True)
class Page:
    items: list[Item]
    # The id to ask for older ones from (the oldest shown), or None: nothing older.
    older: int | None


def _items_statement() -> Select:
    return (
        _told_statement()
        .add_columns(
            Notification.id,
            Notification.kind,
            Notification.created_at,
            Notification.read_at,
            Board.name.label("board"),
        )
        .join(Notification, Notification.event_id == CardEvent.id)
        .join(Board, Board.id == Notification.board_id)
    )


def page(user_id: int, before: int | None = None, size: int = PAGE_SIZE) -> Page:
    """A person's notifications, newest first, `size` at most, older than `before` (an id)
    if given; only those of boards they are still on."""
    query = (
        _items_statement()
        .join(
            Membership,
            (Membership.board_id == Notification.board_id) & (Membership.user_id == user_id),
        )
        .where(Notification.recipient_id == user_id)
        .order_by(Notification.id.desc())
        .limit(size + 1)
    )
    if before is not None:
        query = query.where(Notification.id < before)
    rows = db.session.execute(query).all()
    items = [
        Item(
            row.id,
            row.board_id,
            row.card_id,
            row.board,
            rules.sentence(_told_of(row, row.kind)),
            row.created_at,
            row.read_at is not None,
        )
        for row in rows[:size]
    ]
    older = items[-1].id if len(rows) > size else None
    return Page(items, older)


def mark_read(user_id: int, notification_id: Any) -> None:
    """Mark one of a person's notifications read (NotFound for anyone else's)."""
    try:
        wanted = int(notification_id)
    except (TypeError, ValueError):
        raise NotFound("That notification does not exist.") from None
    marked = db.session.execute(
        update(Notification)
        .where(
            Notification.id == wanted,
            Notification.recipient_id == user_id,
            Notification.read_at.is_(None),
        )
        .values(read_at=clock.now())
        .execution_options(synchronize_session=False)
    ).rowcount
    if not marked:
        theirs = db.session.execute(
            select(Notification.id).where(
                Notification.id == wanted, Notification.recipient_id == user_id
            )
        ).first()
        db.session.rollback()
        if theirs is None:
            raise NotFound("That notification does not exist.")
        return  # read already
    db.session.execute(_count_statement(), {"user_ids": [user_id], "delta": -1})
    db.session.commit()


def mark_all_read(user_id: int) -> int:
    """Mark every unread notification of a person read; how many were unread."""
    marked = db.session.execute(
        update(Notification)
        .where(Notification.recipient_id == user_id, Notification.read_at.is_(None))
        .values(read_at=clock.now())
        .execution_options(synchronize_session=False)
    ).rowcount
    if marked:
        db.session.execute(_count_statement(), {"user_ids": [user_id], "delta": -marked})
    db.session.commit()
    return marked


def unread_count(user_id: int) -> int:
    """A person's unread count as kept on their row (read afresh)."""
    return db.session.execute(
        select(User.unread_notifications).where(User.id == user_id)
    ).scalar_one()


# Mail choices and the unsubscribe link ------------------------------------------------------


def mail_modes(user: User) -> dict[NoticeKind, MailMode]:
    """Every kind's mail mode for a person, their choices over the defaults."""
    return rules.all_modes(user.notice_mail)


def set_mail_modes(user_id: int, modes: Mapping[str, str]) -> None:
    """Save a person's mail choice for each kind given (ValueError for an unknown one)."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("That person does not exist.")
    preferences = dict(user.notice_mail or {})
    for kind, mode in modes.items():
        preferences = rules.with_mode(preferences, kind, mode)
    user.notice_mail = preferences
    db.session.commit()


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(str(host.config()["SECRET_KEY"]), salt=UNSUBSCRIBE_SALT)


def unsubscribe_token(user_id: int, kind: str) -> str:
    """A signed token naming a person and a kind of notification mail."""
    return _serializer().dumps({"u": user_id, "k": NoticeKind(kind).value})


EXPIRED = (
    "This unsubscribe link has expired. Log in to change your email settings on your account page."
)
FORGED = (
    "This unsubscribe link is not valid. Log in to change your email settings on your account page."
)


@dataclass(frozen=True)
class Unsubscribe:
    """What an unsubscribe link asks: whose mail, of which kind."""

    user_id: int
    name: str
    kind: NoticeKind


def read_unsubscribe(token: str) -> Unsubscribe:
    """The person and kind a token names, or InvalidRequest (forged, or too old)."""
    try:
        found = _serializer().loads(token, max_age=UNSUBSCRIBE_MAX_AGE)
    except SignatureExpired:
        raise InvalidRequest(EXPIRED) from None
    except BadSignature:
        raise InvalidRequest(FORGED) from None
    try:
        user = db.session.get(User, int(found["u"]))
        kind = NoticeKind(found["k"])
    except (KeyError, TypeError, ValueError):
        raise InvalidRequest(FORGED) from None
    if user is None:
        raise InvalidRequest(FORGED)
    return Unsubscribe(user.id, user.name, kind)


def unsubscribe(token: str) -> Unsubscribe:
    """Turn off the mail a token names (no login: the token is the proof)."""
    asked = read_unsubscribe(token)
    set_mail_modes(asked.user_id, {asked.kind: MailMode.OFF})
    return asked


# Daily digests -------------------------------------------------------------------------------


@dataclass
class Digests:
    """What one send_digests run did."""

    sent: int = 0
    already: int = 0  # people whose digest for the day went out before


def _zones() -> dict[int, str]:
    """Each person's time zone: that of the first board they joined (else UTC)."""
    rows = db.session.execute(
        select(Membership.user_id, Board.timezone)
        .join(Board, Board.id == Membership.board_id)
        .order_by(Membership.id)
    ).all()
    zones: dict[int, str] = {}
    for user_id, zone in rows:
        zones.setdefault(user_id, zone or "UTC")
    return zones


def send_digests(now: datetime | None = None, day: date | None = None) -> Digests:
    """Queue one digest mail per person with digest notifications of the day: yesterday
    in their time zone, or `day`. A person's day is recorded in digest_sent in the same
    transaction as its mail; a second run (even at once) finds the row and sends nothing."""
    result = Digests()
    settings = outbox.settings()
    if settings is None:
        return result
    now = now or clock.now()
    people = db.session.execute(
        select(User.id, User.email, User.notice_mail).where(
            User.active.is_(True), User.email.is_not(None), User.email != ""
        )
    ).all()
    zones = _zones()
    db.session.commit()
    for user_id, email, preferences in people:
        kinds = [k for k, mode in rules.all_modes(preferences).items() if mode == MailMode.DIGEST]
        if not kinds:
            continue
        zone = zones.get(user_id, "UTC")
        covered = day or rules.digest_day(now, zone)
        if _send_digest(settings, user_id, email, kinds, zone, covered, now):
            result.sent += 1
        elif _sent_before(user_id, covered):
            result.already += 1
    return result


def _sent_before(user_id: int, day: date) -> bool:
    found = db.session.execute(
        select(DigestSent.id).where(DigestSent.user_id == user_id, DigestSent.day == day)
    ).first()
    db.session.commit()
    return found is not None


def _send_digest(
    settings: outbox.Settings,
    user_id: int,
    email: str,
    kinds: list[NoticeKind],
    zone: str,
    day: date,
    now: datetime,
) -> bool:
    """One person's digest of one day, in its own transaction; False if there was nothing
    to send or it went out before."""
    start, end = rules.day_bounds(day, zone)
    rows = db.session.execute(
        _items_statement()
        .where(
            Notification.recipient_id == user_id,
            Notification.kind.in_([k.value for k in kinds]),
            Notification.created_at >= start,
            Notification.created_at < end,
        )
        .order_by(Notification.id)
    ).all()
    if not rows:
        db.session.rollback()
        return False
    inserter = (
        postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    )
    # The day's row, unless another run wrote it: RETURNING says which (rowcount does not,
    # on every driver, for an INSERT the ORM runs).
    claimed = db.session.execute(
        inserter(DigestSent.__table__)
        .values(user_id=user_id, day=day, notifications=len(rows), sent_at=now)
        .on_conflict_do_nothing()
        .returning(DigestSent.__table__.c.id)
    ).first()
    if claimed is None:
        db.session.rollback()
        return False
    lines = defaultdict(list)
    for row in rows[:DIGEST_MOST]:
        lines[row.board].append(
            (
                rules.sentence(_told_of(row, row.kind)),
                _card_url(settings, row.board_id, row.card_id),
            )
        )
    present = sorted({NoticeKind(row.kind) for row in rows}, key=list(NoticeKind).index)
    body = host.current().render_text(
        "mail/digest.txt",
        {
            "day": day,
            "boards": dict(lines),
            "more": max(0, len(rows) - DIGEST_MOST),
            "unsubscribe": [(k.label, unsubscribe_url(settings, user_id, k)) for k in present],
            "account_url": settings.public_url + host.current().path("account.edit_password"),
        },
    )
    subject = f"Your day on Weatherboard, {day.isoformat()}: {counted(len(rows), 'notification')}"
    db.session.add(_mail_row(rows[0].board_id, MailKind.DIGEST, email, subject, body, now))
    outbox.mark_written(db.session())
    db.session.commit()
    return True
