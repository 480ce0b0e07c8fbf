"""Erasing a requester's personal data on request (admins).

A requester's name and email live on their cards (requester, requester_email), in those
cards' history (the `requester` values of created and edited events), in the mail written
to them (address, subject, body, and the mail server's error, which quotes the address),
and wherever someone typed them: the card's title, description and other free text, the
history of those fields, event reasons and comments. Erasure replaces each with a
placeholder in one transaction: every event stays, with its kind, time and actor, and the
free text is rewritten the same way on the card and in its history, so replaying the
history still gives the card's state. Mail not sent yet (waiting, retrying or given up) is
cancelled for good: no sender and no "Retry now" touches it again. The audit log records
who erased how much on which board, never the erased values; status links keep only a
hash, so neither holds the requester's data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy import text as sql

from tracker import clock
from tracker.domain import text
from tracker.domain.errors import InvalidRequest
from tracker.domain.vocabulary import EventKind, MailStatus
from tracker.extensions import db
from tracker.models import Board, Card, CardEvent, Comment, OutboundMail
from tracker.services import audit, flow_weeks
from tracker.services.common import Actor
from tracker.store import bump_version, lock_board

PLACEHOLDER = "[erased]"
# History fields that hold a requester's personal data, and what replaces a value there.
ERASED_FIELDS = {"requester": PLACEHOLDER, "requester_email": ""}
# Free text of a card where someone may have written the requester's name or address.
FREE_TEXT = ("title", "description", "environment", "blocked_reason", "close_reason")
MAX_MATCHES = 500
CANCELLED = "Cancelled: the requester's personal data was erased."


@dataclass(frozen=True)
class Match:
    """A card that holds the requester's data, now or only in its history."""

    card_id: int
    board_id: int
    board: str
    ref: str
    title: str
    requester: str
    requester_email: str
    history_only: bool


def _clean(text: str) -> str:
    return " ".join((text or "").split())


def _like_json(value: str) -> str:
    """A LIKE pattern for value as the JSON column stores it (escaped as json.dumps does)."""
    encoded = json.dumps(value)[1:-1]
    for char in ("\\", "%", "_"):
        encoded = encoded.replace(char, "\\" + char)
    return f"%{encoded}%"


def find(query: str) -> list[Match]:
    """Cards whose requester name or email equals the query (case and spacing ignored), on
    the card or anywhere in its history, newest first."""
    wanted = _clean(query)
    if len(wanted) < 3:
        raise InvalidRequest("Type the requester's full email address or name.")
    folded = wanted.casefold()
    direct = select(Card.id).where(
        or_(
            func.lower(func.trim(Card.requester_email)) == wanted.lower(),
            func.lower(func.trim(Card.requester)) == wanted.lower(),
        )
    )
    found = set(db.session.execute(direct).scalars())
    # History: the stored JSON text narrows it down; the values decide.
    candidates = db.session.execute(
        select(CardEvent.card_id, CardEvent.changes).where(
            CardEvent.kind.in_((EventKind.CREATED, EventKind.EDITED)),
            func.lower(cast(CardEvent.changes, String)).like(
                _like_json(wanted.lower()), escape="\\"
            ),
        )
    )
    in_history = {
        card_id
        for card_id, changes in candidates
        if any(
            _clean(str(value or "")).casefold() == folded
            for name in ERASED_FIELDS
            for value in (changes or {}).get(name, [])
        )
    }
    ids = found | in_history
    if not ids:
        return []
    rows = db.session.execute(
        select(Card, Board.name)
        .join(Board, Board.id == Card.board_id)
        .where(Card.id.in_(ids))
        .order_by(Card.created_at.desc(), Card.id.desc())
        .limit(MAX_MATCHES)
    ).all()
    return [
        Match(
            card.id,
            card.board_id,
            board,
            card.ref,
            card.title,
            card.requester,
            card.requester_email,
            card.id not in found,
        )
        for card, board in rows
    ]


@dataclass
class Erased:
    """What an erasure touched, per board (counts only)."""

    cards: int = 0
    events: int = 0
    mails: int = 0
    cancelled: int = 0
    boards: dict[int, dict[str, Any]] = field(default_factory=dict)


def _erase_changes(changes: dict[str, Any], mentions: set[str]) -> dict[str, Any]:
    erased = {}
    for name, values in changes.items():
        if name in ERASED_FIELDS:
            values = [ERASED_FIELDS[name] if value else value for value in values]
        elif isinstance(values, list):
            values = [
                text.erase_mentions(value, mentions, PLACEHOLDER)
                if isinstance(value, str)
                else value
                for value in values
            ]
        erased[name] = values
    return erased


def _mentions(card: Card, events: list[CardEvent]) -> set[str]:
    """The requester names and addresses this card has held, now or in its history."""
    found = {card.requester, card.requester_email}
    for event in events:
        for name in ERASED_FIELDS:
            found.update(str(v) for v in (event.changes or {}).get(name, []) if v)
    return {value for value in found if value and len(value.strip()) >= 3} - {PLACEHOLDER}


def _team_mail_naming(board_id: int, mentions: set[str]) -> list[OutboundMail]:
    """The board's mail to team members (notices, which belong to no card's requester)
    whose subject or body holds one of these names or addresses, in any case."""
    if not mentions:
        return []
    naming = [
        func.lower(column).contains(value.lower(), autoescape=True)
        for value in mentions
        for column in (OutboundMail.subject, OutboundMail.body)
    ]
    query = select(OutboundMail).where(
        OutboundMail.board_id == board_id, OutboundMail.card_id.is_(None), or_(*naming)
    )
    return list(db.session.execute(query).scalars())


def erase(actor: Actor, card_ids: list[Any]) -> Erased:
    """An admin replaces the requester's name and email on these cards, in their history
    and in their mail with a placeholder; cancels their unsent mail; audits it per board.
    One commit."""
    try:
        ids = sorted({int(card_id) for card_id in card_ids})
    except (TypeError, ValueError):
        raise InvalidRequest("Choose the requests to erase from the list.") from None
    if not ids:
        raise InvalidRequest("Choose at least one request to erase.")
    board_ids = sorted(
        set(db.session.execute(select(Card.board_id).where(Card.id.in_(ids))).scalars())
    )
    if not board_ids:
        raise InvalidRequest("Those requests do not exist.")
    boards = {board_id: lock_board(board_id) for board_id in board_ids}  # lowest id first
    result = Erased()
    now = clock.now()
    cards = list(
        db.session.execute(select(Card).where(Card.id.in_(ids)).order_by(Card.id)).scalars()
    )
    for card in cards:
        per_board = result.boards.setdefault(
            card.board_id, {"cards": [], "events": 0, "mails": 0, "cancelled": 0}
        )
        per_board["cards"].append(card.ref)
        result.cards += 1
        events = list(
            db.session.execute(
                select(CardEvent).where(CardEvent.card_id == card.id).order_by(CardEvent.id)
            ).scalars()
        )
        mentions = _mentions(card, events)
        if card.requester:
            card.requester = PLACEHOLDER
        card.requester_email = ""
        for name in FREE_TEXT:
            setattr(card, name, text.erase_mentions(getattr(card, name), mentions, PLACEHOLDER))
        for event in events:
            changes = event.changes or {}
            erased = _erase_changes(changes, mentions)
            reason = text.erase_mentions(event.reason, mentions, PLACEHOLDER)
            if erased != changes or reason != event.reason:
                event.changes = erased  # a new dict: the JSON column sees the change
                event.reason = reason
                per_board["events"] += 1
                result.events += 1
        for comment in db.session.execute(
            select(Comment).where(Comment.card_id == card.id)
        ).scalars():
            comment.body = text.erase_mentions(comment.body, mentions, PLACEHOLDER)
        mails = cancelled = 0
        for row in db.session.execute(
            select(OutboundMail).where(OutboundMail.card_id == card.id)
        ).scalars():
            mails += 1
            row.to_address = row.body = PLACEHOLDER
            row.link_seed = None
            row.subject = text.erase_mentions(row.subject, mentions, PLACEHOLDER)
            # never to be sent, nor retried
            if row.status in (MailStatus.PENDING, MailStatus.FAILED):
                row.status, row.given_up_at, row.last_error = MailStatus.ERASED, now, CANCELLED
                cancelled += 1
            elif row.last_error:
                row.last_error = PLACEHOLDER
        for row in _team_mail_naming(card.board_id, mentions):
            # A notice to a team member quotes the card's title ("… moved SUP-4 Call Jane
            # back"): its words go, the mail itself is the member's and stays as it was.
            row.subject = text.erase_mentions(row.subject, mentions, PLACEHOLDER)
            row.body = text.erase_mentions(row.body, mentions, PLACEHOLDER)
        # A block reason may name the requester: stored flow weeks are computed again.
        flow_weeks.forget_cards(db.session(), [(card.board_id, card.id)])
        per_board["mails"] += mails
        per_board["cancelled"] += cancelled
        result.mails += mails
        result.cancelled += cancelled
    for board_id, counts in result.boards.items():
        bump_version(boards[board_id])  # open boards and panels show the placeholder
        audit.record(
            "requester.erased",
            actor_id=actor.id,
            address=actor.address,
            board_id=board_id,
            target_type="board",
            target_id=board_id,
            detail={
                "cards": counts["cards"],
                "events": counts["events"],
                "mails": counts["mails"],
                "mails_cancelled": counts["cancelled"],
            },
        )
    db.session.commit()
    _forget_deleted_words()
    return result


def _forget_deleted_words() -> None:
    """SQLite's FTS5 keeps a re-indexed card's old words in its segments until they merge:
    merge them all now, so the erased name and address are gone from the file too (its own
    commit, after the erasure's; an index that has not merged yet is still correct, only not
    yet clean). PostgreSQL replaced the card's tsvector row; the old row version goes with
    the card's own at the next VACUUM, as every updated row does."""
    if db.engine.dialect.name == "sqlite":
        db.session.execute(sql("INSERT INTO card_fts (card_fts) VALUES ('optimize')"))
        db.session.commit()
