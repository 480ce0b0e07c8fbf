"""What every use case needs: the acting person, and the card asked for.

The board lock, the board's state and the card writes live in tracker.store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select

from tracker import clock
from tracker.domain import policy
from tracker.domain.errors import NotFound
from tracker.domain.policy import Action
from tracker.domain.vocabulary import Role
from tracker.extensions import db
from tracker.models import Board, Card, Membership, User

ROLES = tuple(Role)


@dataclass(frozen=True)
class Actor:
    """The person asking, with their role on the board in question ("" for an act on no
    board), and the client address they ask from (the audit log records it; "" outside a
    web request)."""

    id: int
    name: str
    role: str
    address: str = ""


T = TypeVar("T")


def require_lead(actor: Actor, what: str, action: Action = Action.CHANGE_SETTINGS) -> None:
    """Refuse a person the policy does not allow the action (one of a lead's): "Only a lead
    of this board can change <what>."."""
    policy.require(actor.role, action, f"Only a lead of this board can change {what}.")


def person_name(user_id: int | None) -> str:
    if user_id is None:
        return ""
    user = db.session.get(User, user_id)
    return user.name if user else "This person"


def get_card(board_id: int, card_id: Any) -> Card:
    """The card of this board with this id, or NotFound (also for another board's card)."""
    return card_of_board(board_id, db.session.get(Card, whole_id(card_id)))


def whole_id(card_id: Any) -> int:
    """A card id as asked for, as a number, or NotFound (no card has any other id)."""
    try:
        return int(card_id)
    except (TypeError, ValueError):
        raise NotFound("That card does not exist on this board.") from None


def row_of_board(model: type[T], board_id: int, row_id: Any, missing: str) -> T:
    """The board's row of model with this id, or NotFound(missing): for an id of another
    board's row, of no row, or that is no number."""
    try:
        row = db.session.get(model, int(row_id))
    except (TypeError, ValueError):
        row = None
    if row is None or row.board_id != board_id:
        raise NotFound(missing)
    return row


def card_of_board(board_id: int, card: Card | None) -> Card:
    """The card found, if it is this board's, or NotFound."""
    if card is None or card.board_id != board_id:
        raise NotFound("That card does not exist on this board.")
    return card


def today_on(board: Board) -> date:
    """Today's date in the board's time zone."""
    return clock.now().astimezone(ZoneInfo(board.timezone)).date()


def assignable_ids(board_id: int) -> set[int]:
    """The people the policy lets hold cards on this board."""
    holders = [role for role in Role if policy.may(role, Action.HOLD_CARDS)]
    rows = db.session.execute(
        select(Membership.user_id).where(
            Membership.board_id == board_id, Membership.role.in_(holders)
        )
    )
    return {row.user_id for row in rows}
