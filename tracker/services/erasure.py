"""Erasing a requester's personal data on request (admins).

A requester's name and email live on their cards (requester, requester_email), in those
cards' history (the `requester` values of created and edited events) and in the mail
written to them (address and body). Erasure replaces each with a placeholder in one
transaction: every event stays, with its kind, time and actor, so replaying the history
still gives the card's state. Mail still waiting to go out is cancelled. The audit log
records who erased how much on which board, never the erased values.

Not rewritten: comments and card titles or descriptions, which are the team's own words
(an admin edits a card by hand where they quote the requester).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, cast, func, or_, select, update

from tracker import clock
from tracker.domain.errors import InvalidRequest
from tracker.extensions import db
from tracker.models import Board, Card, CardEvent, OutboundMail
from tracker.services import audit
from tracker.services.common import lock_board

PLACEHOLDER = "[erased]"
# History fields that hold a requester's personal data, and what replaces a value there.
ERASED_FIELDS = {"requester": PLACEHOLDER, "requester_email": ""}
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
            CardEvent.kind.in_(("created", "edited")),
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


def _erase_changes(changes: dict[str, Any]) -> dict[str, Any]:
    erased = dict(changes)
    for name, placeholder in ERASED_FIELDS.items():
        if name in erased:
            erased[name] = [placeholder if value else value for value in erased[name]]
    return erased


def erase(card_ids: list[Any]) -> Erased:
    """Replace the requester's name and email on these cards, in their history and in their
    mail with a placeholder; cancel their unsent mail; audit it per board. One commit."""
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
    cards = db.session.execute(select(Card).where(Card.id.in_(ids)).order_by(Card.id)).scalars()
    for card in cards:
        per_board = result.boards.setdefault(
            card.board_id, {"cards": [], "events": 0, "mails": 0, "cancelled": 0}
        )
        per_board["cards"].append(card.ref)
        result.cards += 1
        if card.requester:
            card.requester = PLACEHOLDER
        card.requester_email = ""
        events = db.session.execute(
            select(CardEvent).where(CardEvent.card_id == card.id).order_by(CardEvent.id)
        ).scalars()
        for event in events:
            changes = event.changes or {}
            erased = _erase_changes(changes)
            if erased != changes:
                event.changes = erased  # a new dict: the JSON column sees the change
                per_board["events"] += 1
                result.events += 1
        cancelled = db.session.execute(
            update(OutboundMail)
            .where(OutboundMail.card_id == card.id, OutboundMail.status == "pending")
            .values(status="failed", given_up_at=now, last_error=CANCELLED)
            .execution_options(synchronize_session=False)
        ).rowcount
        mails = db.session.execute(
            update(OutboundMail)
            .where(OutboundMail.card_id == card.id)
            .values(to_address=PLACEHOLDER, body=PLACEHOLDER)
            .execution_options(synchronize_session=False)
        ).rowcount
        per_board["mails"] += mails
        per_board["cancelled"] += cancelled
        result.mails += mails
        result.cancelled += cancelled
    for board_id, counts in result.boards.items():
        boards[board_id].version += 1  # open boards and panels show the placeholder
        audit.record(
            "requester.erased",
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
    return result
