"""Typed SQLAlchemy models: persistence only. Rules live in tracker.domain."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

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

    def get_id(self) -> str:
        return self.session_token

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def initials(self) -> str:
        parts = self.name.split()
        return "".join(p[0] for p in parts[:2]).upper() or self.username[:2].upper()


class Board(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    per_person_limit: Mapped[int | None] = mapped_column(Integer)
    pull_order: Mapped[str] = mapped_column(String(64), default="support,feature")
    # Bumped by every change to the board's cards: a cheap "has anything changed?" check.
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    lanes: Mapped[list[Lane]] = relationship(order_by="Lane.position", back_populates="board")
    columns: Mapped[list[BoardColumn]] = relationship(
        order_by="BoardColumn.position", back_populates="board"
    )


class Lane(db.Model):
    __table_args__ = (UniqueConstraint("board_id", "kind", name="uq_lane_board_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(60))
    prefix: Mapped[str] = mapped_column(String(8))
    position: Mapped[int] = mapped_column(Integer)
    wip_limit: Mapped[int | None] = mapped_column(Integer)
    limit_mode: Mapped[str] = mapped_column(String(16), default="strict")
    # The next reference number of cards created in this lane; never reused.
    next_number: Mapped[int] = mapped_column(Integer, default=1)

    board: Mapped[Board] = relationship(back_populates="lanes")


class BoardColumn(db.Model):
    __tablename__ = "board_column"

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(60))
    position: Mapped[int] = mapped_column(Integer)
    wip_limit: Mapped[int | None] = mapped_column(Integer)

    board: Mapped[Board] = relationship(back_populates="columns")


class Membership(db.Model):
    __table_args__ = (UniqueConstraint("board_id", "user_id", name="uq_membership_board_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))

    user: Mapped[User] = relationship()
    board: Mapped[Board] = relationship()


class Card(db.Model):
    __table_args__ = (
        UniqueConstraint("board_id", "ref", name="uq_card_board_ref"),
        Index("ix_card_board_status_done", "board_id", "status", "done_at"),
        # Each lane's latest done cards (services.board_view._done_statement). board_id,
        # implied by the lane, makes it the planner's clear choice there and covering.
        Index("ix_card_lane_board_status_done", "lane_id", "board_id", "status", "done_at"),
        Index("ix_card_column_rank", "column_id", "rank"),
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
    severity: Mapped[str | None] = mapped_column(String(2))
    component: Mapped[str] = mapped_column(String(80), default="")
    requester: Mapped[str] = mapped_column(String(200), default="")
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    blocked_reason: Mapped[str] = mapped_column(String(500), default="")
    # open (on the board), done (delivered) or closed (won't do, duplicate: not delivered).
    status: Mapped[str] = mapped_column(String(8), default="open")
    close_reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    column_entered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
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
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id"))
    card_id: Mapped[int] = mapped_column(ForeignKey("card.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(20))
    from_column_id: Mapped[int | None] = mapped_column(Integer)
    to_column_id: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text, default="")
    # {field: [old, new]} for every tracked field the event changed (tracker.domain.history).
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship()
