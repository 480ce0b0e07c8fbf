"""Card history: events record each field they change as [old, new]; replay folds them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# The fields of a card that its events describe; replaying the events yields them.
TRACKED_FIELDS = (
    "lane_id",
    "column_id",
    "assignee_id",
    "title",
    "description",
    "estimate",
    "severity",
    "component",
    "requester",
    "blocked",
    "blocked_reason",
    "status",
    "close_reason",
)


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """The tracked fields that differ, as {field: [old, new]}."""
    return {
        name: [before.get(name), after.get(name)]
        for name in TRACKED_FIELDS
        if name in after and before.get(name) != after.get(name)
    }


def replay(changes: Iterable[Mapping[str, list[Any]]]) -> dict[str, Any]:
    """Fold a card's events, oldest first, into the state they describe."""
    state: dict[str, Any] = {}
    for change in changes:
        for name, (_old, new) in change.items():
            state[name] = new
    return state
