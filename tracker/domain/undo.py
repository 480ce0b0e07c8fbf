"""Undo: whether a change to a card may still be undone, and what undoing it puts back.

A move, a close and a block can be undone for a short while (the app's UNDO_SECONDS, 10 by
default) by the person who made them, as long as nobody changed the card since. The undo
is a change like any other (tracker.services.cards.undo_change): checked against the WIP
limits and recorded in the history as a move, a reopen or an unblock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from tracker.domain.errors import InvalidRequest
from tracker.domain.vocabulary import EventKind

DEFAULT_SECONDS = 10


class Undoing(StrEnum):
    """What undoing a change does: move the card back, reopen it, or unblock it."""

    MOVE = "move"
    REOPEN = "reopen"
    UNBLOCK = "unblock"


# The history event of each change that can be undone, and what undoing it does. A move by
# hand is recorded as moved, escalated, moved out of Expedite, or reordered within its cell.
UNDOABLE: dict[str, Undoing] = {
    EventKind.MOVED: Undoing.MOVE,
    EventKind.ESCALATED: Undoing.MOVE,
    EventKind.DEESCALATED: Undoing.MOVE,
    EventKind.REORDERED: Undoing.MOVE,
    EventKind.CLOSED: Undoing.REOPEN,
    EventKind.BLOCKED: Undoing.UNBLOCK,
}

# What the undo's own history event gives as its reason: "Ann reopened it: undoing the close".
REASONS: dict[Undoing, str] = {
    Undoing.MOVE: "undoing the last move",
    Undoing.REOPEN: "undoing the close",
    Undoing.UNBLOCK: "undoing the block",
}

# Events after a change that leave the card as it was: a WIP override is written with the
# move it allowed (one change, two events), and a comment changes nothing on the card.
UNCHANGING = frozenset({EventKind.WIP_OVERRIDE, EventKind.COMMENTED})

# The fields a move back puts back as they were before the move.
MOVED_BACK = ("lane_id", "column_id", "assignee_id")


class UndoRefused(InvalidRequest):
    """The change may not be undone (any more): nothing changed."""


@dataclass(frozen=True)
class Done:
    """A change to a card as its history event recorded it: the card's reference, the
    event's kind, who made it and when, and its changes ({field: [old, new]})."""

    ref: str
    kind: str
    actor_id: int | None
    at: datetime
    changes: Mapping[str, Any] = field(default_factory=dict)


def refusal(
    done: Done, *, by: int, now: datetime, window: timedelta, later: Iterable[str]
) -> str | None:
    """Why `by` may not undo `done` at `now` (None: they may): only a move, a close or a
    block can be undone, only by the person who made it, only within `window` of it, and
    only while the card is as the change left it (`later`: the kinds of the card's events
    written after the change's own)."""
    if done.kind not in UNDOABLE:
        return f"That change to {done.ref} cannot be undone."
    if done.actor_id != by:
        return f"Only the person who made that change to {done.ref} can undo it."
    if now - done.at > window:
        return (
            f"It is too late to undo that change to {done.ref}: a change can be undone "
            f"for {seconds_said(window)} after it was made."
        )
    if any(kind not in UNCHANGING for kind in later):
        return f"{done.ref} changed since; undo is no longer possible."
    return None


def check(done: Done, *, by: int, now: datetime, window: timedelta, later: Iterable[str]) -> None:
    """Refuse (UndoRefused) an undo that `refusal` gives a reason against."""
    why = refusal(done, by=by, now=now, window=window, later=later)
    if why is not None:
        raise UndoRefused(why)


def undoing(kind: str) -> Undoing:
    """What undoing a change of this (undoable) kind does."""
    return UNDOABLE[kind]


def moved_back(changes: Mapping[str, Any], now: Mapping[str, Any]) -> dict[str, Any]:
    """Where a move back takes a card: the lane, column and assignee it had before the move
    (`changes`, the move's {field: [old, new]}), and what it has `now` for those the move
    left alone."""
    return {name: changes[name][0] if name in changes else now[name] for name in MOVED_BACK}


def seconds_said(window: timedelta) -> str:
    """A window in words: "10 seconds", "1 second", "2.5 seconds"."""
    seconds = window.total_seconds()
    shown = f"{seconds:g}"
    return f"{shown} second" if seconds == 1 else f"{shown} seconds"
