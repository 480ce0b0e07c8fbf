"""Typed SQLAlchemy models: persistence only. Rules live in tracker.domain."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.domain.avatars import avatar_colour
from tracker.domain.vocabulary import CardStatus, LimitMode, MailStatus, Measure
from tracker.extensions import db


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, hands back aware UTC datetimes on every database."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use tracker.clock.now()")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class User(UserMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))
    # Flask-Login's alternative id: rotating it ends every session of this person at once.
    session_token: Mapped[str] = mapped_column(String(64), unique=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # How many of their notifications are unread: kept with each notification written or
    # read (services.notifications), so the bell in every page's header and the board's
    # poll read it with the person, at no statement of their own.
    unread_notifications: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Mail per kind of notification, {NoticeKind: MailMode}; a kind left out has its
    # default (tracker.domain.notifications.DEFAULT_MAIL).
    notice_mail: Mapped[dict[str, str] | None] = mapped_column(JSON)

    def get_id(self) -> str:
        return self.session_token

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def initials(self) -> str:
        parts = self.name.split()
        return "".join(p[0] for p in parts[:2]).upper() or self.username[:2].upper()

    @property
    def colour(self) -> int:
        """Their avatar's colour: an index into app.css's avatar palette (.av0, .av1, ...)."""
        return avatar_colour(self.username)


class Board(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    per_person_limit: Mapped[int | None] = mapped_column(Integer)
    pull_order: Mapped[str] = mapped_column(String(64), default="support,feature")
    # Bumped by every change to the board's cards: a cheap "has anything changed?" check.
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # How many live outgoing webhooks the board has (services.webhooks keeps it under the
    # board lock): a card change on a board without any reads nothing more for them.
    webhook_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    lanes: Mapped[list[Lane]] = relationship(order_by="Lane.position", back_populates="board")
    columns: Mapped[list[BoardColumn]] = relationship(
        order_by="BoardColumn.position", back_populates="board"
    )


class Lane(db.Model):
    __table_args__ = (UniqueConstraint("board_id", "kind", name="uq_lane_board_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # tracker.domain.vocabulary.LaneKind
    name: Mapped[str] = mapped_column(String(60))
    prefix: Mapped[str] = mapped_column(String(8))
    position: Mapped[int] = mapped_column(Integer)
    wip_limit: Mapped[int | None] = mapped_column(Integer)
    limit_mode: Mapped[str] = mapped_column(String(16), default=LimitMode.STRICT)
    # The next reference number of cards created in this lane; never reused.
    next_number: Mapped[int] = mapped_column(Integer, default=1)

    board: Mapped[Board] = relationship(back_populates="lanes")


class BoardColumn(db.Model):
    __tablename__ = "board_column"

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # tracker.domain.vocabulary.ColumnKind
    name: Mapped[str] = mapped_column(String(60))
    position: Mapped[int] = mapped_column(Integer)
    wip_limit: Mapped[int | None] = mapped_column(Integer)

    board: Mapped[Board] = relationship(back_populates="columns")


class Membership(db.Model):
    __table_args__ = (UniqueConstraint("board_id", "user_id", name="uq_membership_board_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # tracker.domain.vocabulary.Role

    user: Mapped[User] = relationship()
    board: Mapped[Board] = relationship()


# Which cards are support requests (filed through intake, or with a requester), as SQL: the
# queue's condition and its partial index's, spelled alike so the planner sees they match.
REQUEST_SQL = "filed_by_id IS NOT NULL OR requester != ''"


class Card(db.Model):
    __table_args__ = (
        UniqueConstraint("board_id", "ref", name="uq_card_board_ref"),
        Index("ix_card_board_status_done", "board_id", "status", "done_at"),
        # Each lane's latest done cards (services.board_view._done_statement). board_id,
        # implied by the lane, makes it the planner's clear choice there and covering.
        Index("ix_card_lane_board_status_done", "lane_id", "board_id", "status", "done_at"),
        Index("ix_card_cell_rank", "column_id", "lane_id", "rank"),
        # My requests (services.intake.my_requests): a person's filed cards on a board,
        # newest first, read straight from the index.
        Index("ix_card_filed_by_board_created", "filed_by_id", "board_id", "created_at"),
        # Flow (services.flow_weeks): the cards done before a week, counted per place from
        # the index alone; and the cards that arrived in a week.
        Index(
            "ix_card_board_status_done_place",
            "board_id",
            "status",
            "done_at",
            "lane_id",
            "column_id",
        ),
        # The support desk's queue (services.desk.REQUEST): a board's requests, newest
        # first, with what its filters and count read (partial: requests only). It holds
        # the columns its own condition reads too, so it answers a count alone: SQLite's
        # planner, without statistics, took the board's status index otherwise and read
        # every card of the board (bench/intake.py: queue_ms, 390 ms against 4 ms).
        Index(
            "ix_card_request_queue",
            "board_id",
            "created_at",
            "severity",
            "component",
            "status",
            "assignee_id",
            "filed_by_id",
            "requester",
            sqlite_where=text(REQUEST_SQL),
            postgresql_where=text(REQUEST_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id"))
    ref: Mapped[str] = mapped_column(String(16))
    lane_id: Mapped[int] = mapped_column(ForeignKey("lane.id"), index=True)
    column_id: Mapped[int] = mapped_column(ForeignKey("board_column.id"))
    rank: Mapped[float] = mapped_column(Float)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    estimate: Mapped[int | None] = mapped_column(Integer)
    severity: Mapped[str | None] = mapped_column(String(2))  # vocabulary.Severity
    component: Mapped[str] = mapped_column(String(80), default="")
    requester: Mapped[str] = mapped_column(String(200), default="")
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    blocked_reason: Mapped[str] = mapped_column(String(500), default="")
    # open (on the board), done (delivered) or closed (won't do, duplicate: not delivered):
    # tracker.domain.vocabulary.CardStatus.
    status: Mapped[str] = mapped_column(String(8), default=CardStatus.OPEN)
    close_reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    column_entered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # Support intake (services.intake): who filed the request, how to reach the requester,
    # where it happened, and the filing form's one-time token (a resubmit finds the card;
    # the board's new-card form keeps its one-time key here too).
    filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    requester_email: Mapped[str] = mapped_column(String(254), default="")
    environment: Mapped[str] = mapped_column(String(200), default="")
    intake_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    # A rehearsed emergency (services.incidents): it behaves as any, is labelled a drill
    # everywhere and counted apart from real incidents in every figure.
    drill: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The first reply to the requester (not an internal note, not the requester's own):
    # when the first response target was met (tracker.domain.targets).
    first_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}

    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    lane: Mapped[Lane] = relationship()
    column: Mapped[BoardColumn] = relationship()


class CardEvent(db.Model):
    """One change to a card. Appended, never edited or deleted; reports read these."""

    __tablename__ = "card_event"
    __table_args__ = (
        Index("ix_card_event_card", "card_id", "id"),
        Index("ix_card_event_board_at", "board_id", "at"),
        # One kind of event in a time range (the report's WIP overrides and escalations).
        Index("ix_card_event_board_kind_at", "board_id", "kind", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id"))
    card_id: Mapped[int] = mapped_column(ForeignKey("card.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(20))  # tracker.domain.vocabulary.EventKind
    from_column_id: Mapped[int | None] = mapped_column(Integer)
    to_column_id: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text, default="")
    # {field: [old, new]} for every tracked field the event changed (tracker.domain.history).
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship()


class BreakGlassGrant(db.Model):
    """Elevated production access a responder held during an incident (services.incidents):
    who, on what, why, with which operations buddy, from when until when expected, and who
    confirmed it revoked (or why it was left open when the incident was resolved)."""

    __tablename__ = "break_glass_grant"
    __table_args__ = (
        Index("ix_break_glass_grant_card", "card_id"),
        # A board's grants by time (the grants page, the overdue line, the report).
        Index("ix_break_glass_grant_board_granted", "board_id", "granted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id"))
    card_id: Mapped[int] = mapped_column(ForeignKey("card.id"))
    holder_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    target: Mapped[str] = mapped_column(String(200))
    why: Mapped[str] = mapped_column(String(500))
    # The operations buddy: a board member, or a name typed in (someone off the board).
    buddy_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    buddy_name: Mapped[str] = mapped_column(String(120), default="")
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expected_end: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who confirmed the access was revoked.
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # Why it was left open when its incident was resolved ("" while none was given).
    left_open_reason: Mapped[str] = mapped_column(String(500), default="")

    holder: Mapped[User] = relationship(foreign_keys=[holder_id])
    buddy: Mapped[User | None] = relationship(foreign_keys=[buddy_id])
    ended_by: Mapped[User | None] = relationship(foreign_keys=[ended_by_id])
    card: Mapped[Card] = relationship()

    @property
    def buddy_shown(self) -> str:
        """The buddy's name, a member's or the one typed in."""
        return self.buddy.name if self.buddy is not None else self.buddy_name


class IncidentReview(db.Model):
    """The post-incident review of a resolved incident (services.reviews): its card in the
    Support lane and the blameless template's sections; written once every section says
    something (domain.reviews.is_written)."""

    __tablename__ = "incident_review"
    __table_args__ = (UniqueConstraint("incident_id", name="uq_incident_review_incident"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id"), index=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("card.id"))
    card_id: Mapped[int] = mapped_column(ForeignKey("card.id"))
    what_happened: Mapped[str] = mapped_column(Text, default="")
    impact: Mapped[str] = mapped_column(Text, default="")
    contributing_factors: Mapped[str] = mapped_column(Text, default="")
    went_well: Mapped[str] = mapped_column(Text, default="")
    to_change: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    written_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    incident: Mapped[Card] = relationship(foreign_keys=[incident_id])
    card: Mapped[Card] = relationship(foreign_keys=[card_id])


class IncidentFollowUp(db.Model):
    """A card made to follow up an incident (make the temporary fix permanent, an action
    item of its review), linked to it."""

    __tablename__ = "incident_follow_up"
    __table_args__ = (
        UniqueConstraint("card_id", name="uq_incident_follow_up_card"),
        Index("ix_incident_follow_up_incident", "incident_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id"))
    incident_id: Mapped[int] = mapped_column(ForeignKey("card.id"))
    card_id: Mapped[int] = mapped_column(ForeignKey("card.id"))

    card: Mapped[Card] = relationship(foreign_keys=[card_id])


class Component(db.Model):
    """A part of the system a board's requests can concern; a lead keeps the list."""

    __table_args__ = (UniqueConstraint("board_id", "name", name="uq_component_board_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))


class Comment(db.Model):
    """A comment on a card (services.conversation): an internal note (team only) or, on a
    support request, a reply (the requester sees it). Its author may edit or delete it for
    a while (domain.conversation.EDIT_WINDOW); a deleted comment's row is gone."""

    __table_args__ = (Index("ix_comment_card", "card_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id"))
    card_id: Mapped[int] = mapped_column(ForeignKey("card.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    body: Mapped[str] = mapped_column(Text)
    # internal or reply (tracker.domain.vocabulary.Visibility).
    visibility: Mapped[str] = mapped_column(String(8))
    # When its author last edited it (None: as first written).
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Written by the requester through the status link (services.desk): no author, always
    # a reply (the thread marks it as theirs).
    from_requester: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    author: Mapped[User | None] = relationship()


class Label(db.Model):
    """A board's label: a name and a colour of tracker.domain.labels.PALETTE; a lead keeps
    the list, and a card carries any number (CardLabel)."""

    __table_args__ = (UniqueConstraint("board_id", "name", name="uq_label_board_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id"), index=True)
    name: Mapped[str] = mapped_column(String(30))
    colour: Mapped[str] = mapped_column(String(16))  # a key of domain.labels.COLOURS


class CardLabel(db.Model):
    """A label on a card. Removing a label from the board removes it from its cards."""

    __tablename__ = "card_label"

    card_id: Mapped[int] = mapped_column(ForeignKey("card.id"), primary_key=True)
    label_id: Mapped[int] = mapped_column(
        ForeignKey("label.id", ondelete="CASCADE"), primary_key=True
    )
    # The board's cards of a label (the filter chip, removing the label).
    __table_args__ = (Index("ix_card_label_label", "label_id"),)


class CardWatcher(db.Model):
    """A person who watches a card: they hear of its comments and moves
    (tracker.services.watching). The creator, the assignee and anyone who comments on the
    card or is mentioned in a comment watch it; anyone on the board may watch or unwatch."""

    __tablename__ = "card_watcher"
    __table_args__ = (
        UniqueConstraint("card_id", "user_id", name="uq_card_watcher_card_user"),
        Index("ix_card_watcher_user", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("card.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    since: Mapped[datetime] = mapped_column(UTCDateTime)


class Rotation(db.Model):
    """A board's support rotation set-up (services.rotation). No row, or enabled False: off,
    everyone pulls in the board's pull order."""

    board_id: Mapped[int] = mapped_column(ForeignKey("board.id"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # How many are on duty at once (1-4), a term's length in periods, staggered seats.
    on_duty: Mapped[int] = mapped_column(Integer, default=1)
    term_periods: Mapped[int] = mapped_column(Integer, default=1)
    staggered: Mapped[bool] = mapped_column(Boolean, default=False)


class RotationPerson(db.Model):
    """A person in a board's rotation pool."""

    __tablename__ = "rotation_person"
    __table_args__ = (UniqueConstraint("board_id", "user_id", name="uq_rotation_person"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))


class RotationTerm(db.Model):
    """One seat's support duty from start_on to end_on (both days included, the board's
    dates); user_id None when nobody in the pool was free to take it."""

    __tablename__ = "rotation_term"
    __table_args__ = (Index("ix_rotation_term_board_start", "board_id", "start_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id"))
    seat: Mapped[int] = mapped_column(Integer)
    start_on: Mapped[date] = mapped_column(Date)
    end_on: Mapped[date] = mapped_column(Date)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class RotationAway(db.Model):
    """A person of a board's rotation away (holiday, leave) from start_on to end_on."""

    __tablename__ = "rotation_away"
    __table_args__ = (Index("ix_rotation_away_board", "board_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    start_on: Mapped[date] = mapped_column(Date)
    end_on: Mapped[date] = mapped_column(Date)


class Notification(db.Model):
    """One person told of one card history event (services.notifications writes it in the
    event's own transaction; domain.notifications decides who and why)."""

    __table_args__ = (
        UniqueConstraint("event_id", "recipient_id", name="uq_notification_event_recipient"),
        # A person's list, newest first.
        Index("ix_notification_recipient_id", "recipient_id", "id"),
        # The day's digests: the notifications of one day.
        Index("ix_notification_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id"))
    card_id: Mapped[int] = mapped_column(ForeignKey("card.id"))
    event_id: Mapped[int] = mapped_column(ForeignKey("card_event.id"))
    # Why they hear of it: tracker.domain.vocabulary.NoticeKind.
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DigestSent(db.Model):
    """A person's daily digest of notifications, written for one day: the unique pair is
    what keeps `flask send-digests` from mailing a day twice, even run twice at once."""

    __tablename__ = "digest_sent"
    __table_args__ = (UniqueConstraint("user_id", "day", name="uq_digest_sent_user_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    # The calendar day the digest covers, in the person's time zone.
    day: Mapped[date] = mapped_column(Date)
    notifications: Mapped[int] = mapped_column(Integer)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StatusLink(db.Model):
    """A request's public status link. Only the token's SHA-256 is kept, never the token."""

    __tablename__ = "status_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("card.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_by: Mapped[User | None] = relationship()


class ApiToken(db.Model):
    """A person's personal access token for the API (tracker.services.tokens). Only the
    token's SHA-256 is kept; `shown` is its first characters, to tell tokens apart."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    scope: Mapped[str] = mapped_column(String(16))  # tracker.domain.vocabulary.TokenScope
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    shown: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class Sprint(db.Model):
    """A board's sprint: dates in the board's time zone, both days included, and the
    capacity the lead planned for it. Sprints of a board never overlap (domain.periods)."""

    __table_args__ = (Index("ix_sprint_board_start", "board_id", "start_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id"))
    name: Mapped[str] = mapped_column(String(60))
    start_on: Mapped[date] = mapped_column(Date)
    end_on: Mapped[date] = mapped_column(Date)
    capacity_days: Mapped[float] = mapped_column(Float)
    capacity_points: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReportSettings(db.Model):
    """A board's capacity report settings; a board without a row uses the defaults."""

    __tablename__ = "report_settings"

    board_id: Mapped[int] = mapped_column(ForeignKey("board.id"), primary_key=True)
    # N: how many finished periods the support allowance averages over.
    window_size: Mapped[int] = mapped_column(Integer, default=3)
    # person_days, points or cards.
    measure: Mapped[str] = mapped_column(String(16), default=Measure.PERSON_DAYS)
    # Percent of support share above which the report raises the alarm.
    threshold: Mapped[int] = mapped_column(Integer, default=50)


class ReportPeriodCache(db.Model):
    """A finished period's load (tracker.domain.allowance.Load as JSON), derived from the
    history alone and stored on first view so the report reads only the running period's
    history. `basis` names what the figures depend on besides the history (the board's
    time zone and the active columns of all boards); when it changes, rows are not reused.
    """

    __tablename__ = "report_period_cache"
    __table_args__ = (
        UniqueConstraint(
            "board_id", "start_on", "end_on", "basis", name="uq_report_period_cache_period"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id"))
    start_on: Mapped[date] = mapped_column(Date)
    end_on: Mapped[date] = mapped_column(Date)
    basis: Mapped[str] = mapped_column(String(64))
    load: Mapped[dict[str, Any]] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FlowWeekCache(db.Model):
    """A finished week's flow figures (tracker.services.flow_weeks.Week, as JSON), derived
    from the history alone and stored on first view, so the Flow page replays only the
    running week. One JSON column per chart family, so a chart reads only its own. `part`
    is "week" for those, or "aging" for the cycle-time percentiles of the twelve weeks
    before `week_on` that the board's aging marker reads (in `finished`). `ends_at`: the end of
    the last moment the figures depend on; `basis` as in ReportPeriodCache."""

    __tablename__ = "flow_week_cache"
    __table_args__ = (
        UniqueConstraint("board_id", "part", "week_on", "basis", name="uq_flow_week_cache_week"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id"))
    part: Mapped[str] = mapped_column(String(16))
    week_on: Mapped[date] = mapped_column(Date)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    basis: Mapped[str] = mapped_column(String(64))
    cfd: Mapped[Any | None] = mapped_column(JSON)
    finished: Mapped[Any | None] = mapped_column(JSON)
    blocks: Mapped[Any | None] = mapped_column(JSON)
    sources: Mapped[Any | None] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FlowRewrite(db.Model):
    """A change that rewrote a board's past as flow reads it (a card reopened, moved to
    another lane or another component, its data erased, or an event dated in the past):
    stored flow figures ending after `since` and computed before `at` (the change's time and
    a minute for transactions open then) are not used again. board_id None: every board (a
    backdated event moves people's shared time everywhere)."""

    __tablename__ = "flow_rewrite"
    __table_args__ = (Index("ix_flow_rewrite_board_at", "board_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int | None] = mapped_column(ForeignKey("board.id"))
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class OutboundMail(db.Model):
    """An email to a requester, or a notification mailed to a team member (services.mail,
    services.notifications): written in the same transaction as the change it tells of,
    sent after the commit, retried while the mail server fails. Kept once sent, as the
    record of what was told. A team member's mail names no card (card_id is None), so a
    request's page lists only what its requester was told."""

    __tablename__ = "outbound_mail"
    __table_args__ = (
        # What is due: status pending and next_attempt_at in the past.
        Index("ix_outbound_mail_due", "status", "next_attempt_at"),
        # The settings page's counts per board.
        Index("ix_outbound_mail_board_status", "board_id", "status"),
        Index("ix_outbound_mail_card", "card_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id"))
    card_id: Mapped[int | None] = mapped_column(ForeignKey("card.id"))
    # filed, reply, done, closed, reopened; notice or digest (vocabulary.MailKind).
    kind: Mapped[str] = mapped_column(String(16))
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    # The filed mail's status link, until it is sent: a random seed from which, with the
    # secret key, the sender derives the link's token (services.mail). Never the token.
    link_seed: Mapped[str | None] = mapped_column(String(64))
    # pending (to send, or to retry), sent, failed (given up after the last attempt), or
    # erased (cancelled by an erasure: never sent, never retried): vocabulary.MailStatus.
    status: Mapped[str] = mapped_column(String(8), default=MailStatus.PENDING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    given_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditEvent(db.Model):
    """One administrative act (services.audit): who did what, when, from where. Appended in
    the transaction of the act it describes, never edited or deleted (a session guard in
    services.audit refuses both). `detail` holds ids, field names and old/new settings
    values, never personal data, passwords or tokens."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_at", "at"),
        # A lead's audit page: their board's acts, newest first.
        Index("ix_audit_event_board_at", "board_id", "at"),
        Index("ix_audit_event_actor_at", "actor_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Who acted: None for the command line, or a failed login to an unknown account.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # What was done, e.g. membership.changed (services.audit.ACTIONS).
    action: Mapped[str] = mapped_column(String(40))
    board_id: Mapped[int | None] = mapped_column(ForeignKey("board.id"))
    # What it was done to: "user", "board", "card", ... and its id.
    target_type: Mapped[str] = mapped_column(String(20), default="")
    target_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The client's address (behind proxies: from X-Forwarded-For with TRACKER_PROXY_COUNT).
    ip: Mapped[str] = mapped_column(String(45), default="")

    actor: Mapped[User | None] = relationship()


# Alerts from monitoring and outgoing webhooks (services.alerts, services.webhooks) ---------


class AlertToken(db.Model):
    """A board's token for Alertmanager's webhook (POST /api/v1/alerts/alertmanager). Shown
    once when made; only its SHA-256 is kept. Revoked, never deleted (the audit names it)."""

    __tablename__ = "alert_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The token's first characters, so a lead can tell tokens apart (never enough to use).
    hint: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AlertSetting(db.Model):
    """A board's mapping from an alert's `severity` label to a card severity (none kept:
    critical -> S1, anything else S2; tracker.domain.alerts)."""

    __tablename__ = "alert_setting"

    board_id: Mapped[int] = mapped_column(ForeignKey("board.id"), primary_key=True)
    severity_map: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    default_severity: Mapped[str] = mapped_column(String(2))


class AlertCard(db.Model):
    """The Expedite card an alert opened, by the alert's fingerprint: while the card is open,
    the same fingerprint adds to it instead of opening another."""

    __tablename__ = "alert_card"
    __table_args__ = (Index("ix_alert_card_board_fingerprint", "board_id", "fingerprint"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id"))
    card_id: Mapped[int] = mapped_column(ForeignKey("card.id"), unique=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    labels: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When Alertmanager last said it resolved (None while it fires).
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Webhook(db.Model):
    """An address a lead registered to hear of a board's events, signed with its secret."""

    __tablename__ = "webhook"

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    # vocabulary.WebhookEvent values the hook hears of.
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The HMAC key; kept in clear, since every send needs it (shown to the lead once).
    secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebhookDelivery(db.Model):
    """One event for one hook: written in the transaction of the change it tells of (the
    outbox), sent after the commit, retried with growing pauses like mail; kept as the
    hook's delivery log with the last answer's status code."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
        Index("ix_webhook_delivery_hook", "webhook_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhook.id"))
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id"))
    # The Weatherboard-Delivery header: a receiver drops a delivery it already had.
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    event: Mapped[str] = mapped_column(String(32))  # vocabulary.WebhookEvent
    body: Mapped[str] = mapped_column(Text)
    # pending, sent or failed (vocabulary.MailStatus: the same life as a mail's).
    status: Mapped[str] = mapped_column(String(8), default=MailStatus.PENDING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    given_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ResponseTarget(db.Model):
    """A board's response targets for one severity (tracker.domain.targets), set by a lead;
    a severity without a row has the defaults."""

    __tablename__ = "response_target"

    board_id: Mapped[int] = mapped_column(ForeignKey("board.id"), primary_key=True)
    severity: Mapped[str] = mapped_column(String(2), primary_key=True)  # vocabulary.Severity
    first_response_minutes: Mapped[int] = mapped_column(Integer)
    resolution_minutes: Mapped[int] = mapped_column(Integer)
    # True: counted in working hours (Mon–Fri 09–17, the board's zone); False: around the clock.
    working_hours: Mapped[bool] = mapped_column(Boolean)


class CannedReply(db.Model):
    """One of a board's canned replies: a lead keeps a short list; choosing one on a
    request fills the reply box with its text."""

    __tablename__ = "canned_reply"
    __table_args__ = (UniqueConstraint("board_id", "title", name="uq_canned_reply_board_title"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id"), index=True)
    title: Mapped[str] = mapped_column(String(60))
    body: Mapped[str] = mapped_column(Text)


class RequestWait(db.Model):
    """A time a request waited for its requester: from when the team asked (started_at)
    until the requester answered or the team took it back (ended_at; None: still waiting).
    Response targets do not count this time."""

    __tablename__ = "request_wait"
    __table_args__ = (Index("ix_request_wait_card", "card_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id"))
    card_id: Mapped[int] = mapped_column(ForeignKey("card.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class InboundMail(db.Model):
    """One mail `flask fetch-replies` read from the desk's mailbox (services.inbound), by
    its Message-ID: a mail is filed once however often the command runs, even at once."""

    __tablename__ = "inbound_mail"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    card_id: Mapped[int | None] = mapped_column(ForeignKey("card.id"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # filed, bounced, unmatched or empty (vocabulary.InboundOutcome).
    outcome: Mapped[str] = mapped_column(String(16))
