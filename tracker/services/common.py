"""What every use case needs: the acting person, and the card asked for.

The board lock, the board's state and the card writes live in tracker.store; lock_board,
board_state, BoardState and snapshot are re-exported here for the use cases that import
them from this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tracker.domain.errors import NotAllowed, NotFound
from tracker.extensions import db
from tracker.models import Card, User
from tracker.store import BoardState as BoardState
from tracker.store import board_state as board_state
from tracker.store import lock_board as lock_board
from tracker.store import snapshot as snapshot

LEAD, MEMBER, SUPPORT, VIEWER = "lead", "member", "support", "viewer"
ROLES = (LEAD, MEMBER, SUPPORT, VIEWER)


@dataclass(frozen=True)
class Actor:
    """The person asking, with their role on the board in question."""

    id: int
    name: str
    role: str

    @property
    def is_lead(self) -> bool:
        return self.role == LEAD


def require_lead(actor: Actor, what: str) -> None:
    """Refuse anyone but a lead of the board: "Only a lead of this board can change <what>."."""
    if not actor.is_lead:
        raise NotAllowed(f"Only a lead of this board can change {what}.")


def person_name(user_id: int | None) -> str:
    if user_id is None:
        return ""
    user = db.session.get(User, user_id)
    return user.name if user else "This person"


def get_card(board_id: int, card_id: Any) -> Card:
    """The card of this board with this id, or NotFound (also for another board's card)."""
    try:
        card_id = int(card_id)
    except (TypeError, ValueError):
        raise NotFound("That card does not exist on this board.") from None
    card = db.session.get(Card, card_id)
    if card is None or card.board_id != board_id:
        raise NotFound("That card does not exist on this board.")
    return card
