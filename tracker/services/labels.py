"""A board's labels: a lead keeps the list (name and palette colour); members and leads put
any number on a card through its edit form (services.cards.edit_card), which records the
change in the card's history."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, insert, select

from tracker.domain import labels as rules
from tracker.domain.errors import InvalidRequest, NotFound
from tracker.extensions import db
from tracker.models import CardLabel, Label
from tracker.services.common import Actor, require_lead
from tracker.store import bump_version, lock_board


def board_labels(board_id: int) -> list[Label]:
    """The board's labels by name (case aside)."""
    found = db.session.execute(select(Label).where(Label.board_id == board_id)).scalars()
    return sorted(found, key=lambda label: (label.name.casefold(), label.id))


def _label(board_id: int, label_id: Any) -> Label:
    label = db.session.get(Label, label_id) if isinstance(label_id, int) else None
    if label is None or label.board_id != board_id:
        raise NotFound("That label is not on this board.")
    return label


def add_label(board_id: int, actor: Actor, name: str, colour: str) -> Label:
    """A lead adds a label to the board's list."""
    require_lead(actor, "its labels")
    board = lock_board(board_id)
    existing = [label.name for label in board_labels(board_id)]
    name, colour = rules.clean_label(name, colour, existing)
    label = Label(board_id=board_id, name=name, colour=colour)
    db.session.add(label)
    bump_version(board)  # the tiles show labels: kept grids of the board are stale
    db.session.commit()
    return label


def edit_label(board_id: int, actor: Actor, label_id: Any, name: str, colour: str) -> Label:
    """A lead renames or recolours a label; the cards carrying it show the change."""
    require_lead(actor, "its labels")
    board = lock_board(board_id)
    label = _label(board_id, label_id)
    existing = [other.name for other in board_labels(board_id)]
    label.name, label.colour = rules.clean_label(name, colour, existing, renaming=label.name)
    bump_version(board)
    db.session.commit()
    return label


def remove_label(board_id: int, actor: Actor, label_id: Any) -> str:
    """A lead removes a label from the board and from every card carrying it; the cards'
    histories keep the name it had."""
    require_lead(actor, "its labels")
    board = lock_board(board_id)
    label = _label(board_id, label_id)
    name = label.name
    db.session.execute(delete(CardLabel).where(CardLabel.label_id == label.id))
    db.session.delete(label)
    bump_version(board)
    db.session.commit()
    return name


def card_labels(card_id: int) -> list[Label]:
    """The labels a card carries, by name."""
    found = db.session.execute(
        select(Label)
        .join(CardLabel, CardLabel.label_id == Label.id)
        .where(CardLabel.card_id == card_id)
    ).scalars()
    return sorted(found, key=lambda label: (label.name.casefold(), label.id))


def put_labels(board_id: int, card_id: int, label_ids: Iterable[int]) -> list[list[str]] | None:
    """Give a card exactly these labels of its board (in the caller's transaction, which
    holds the board lock); the change as the card's history records it ([old names, new
    names]), or None when nothing changed. An id that is not one of the board's labels is
    refused."""
    wanted = set(label_ids)
    board = {label.id: label for label in board_labels(board_id)}
    if not wanted <= board.keys():
        raise InvalidRequest("One of those labels is no longer on this board; reload the card.")
    current = {label.id: label.name for label in card_labels(card_id)}
    change = rules.label_change(current.values(), [board[i].name for i in wanted])
    if change is None:
        return None
    gone, new = current.keys() - wanted, wanted - current.keys()
    if gone:
        db.session.execute(
            delete(CardLabel).where(CardLabel.card_id == card_id, CardLabel.label_id.in_(gone))
        )
    if new:
        rows = [{"card_id": card_id, "label_id": label_id} for label_id in sorted(new)]
        db.session.execute(insert(CardLabel), rows)
    return change
