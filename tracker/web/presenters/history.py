"""A card's history in words: each recorded change as "label: old → new", with names for
the ids it holds."""

from __future__ import annotations

from collections.abc import Callable

FIELD_LABELS = {
    "lane_id": "lane",
    "column_id": "column",
    "assignee_id": "assignee",
    "blocked_reason": "blocked because",
    "close_reason": "closed as",
}


def describer(board, members) -> Callable[[str, object, object], str]:
    """A function that says one history change in words, with names for ids."""
    names = {
        "lane_id": {lane.id: lane.name for lane in board.lanes},
        "column_id": {column.id: column.name for column in board.columns},
        "assignee_id": {user.id: user.name for user, _ in members},
    }

    def describe(field: str, old, new) -> str:
        label = FIELD_LABELS.get(field, field)
        if field == "description":
            return "description changed"
        if field in names:
            old = names[field].get(old, "a former member") if old is not None else None
            new = names[field].get(new, "a former member") if new is not None else None
        return f"{label}: {'—' if old in (None, '') else old} → {'—' if new in (None, '') else new}"

    return describe
