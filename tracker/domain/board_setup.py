"""A board's lanes and columns: the defaults it starts with and the rules for changing them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tracker.domain.errors import InvalidRequest
from tracker.domain.vocabulary import ColumnKind, LaneKind, LimitMode

# (kind, name, WIP limit, reference prefix), top to bottom.
DEFAULT_LANES = (
    (LaneKind.EXPEDITE, "Expedite", 1, "EXP"),
    (LaneKind.SUPPORT, "Support", 3, "SUP"),
    (LaneKind.FEATURE, "Feature", 4, "FEAT"),
)
DEFAULT_COLUMNS = (
    (ColumnKind.QUEUE, "Ready"),
    (ColumnKind.ACTIVE, "In progress"),
    (ColumnKind.ACTIVE, "Review"),
    (ColumnKind.DONE, "Done"),
)
DEFAULT_MODE = LimitMode.STRICT
MAX_COLUMNS = 12


@dataclass(frozen=True)
class ColumnSpec:
    """A column as a lead would set it: kind and name, in board order."""

    kind: str
    name: str


def check_columns(columns: Sequence[ColumnSpec]) -> None:
    """A workflow needs a queue first, at least one active column and a done column last."""
    if not columns:
        raise InvalidRequest("A board needs at least a queue, an active and a done column.")
    if len(columns) > MAX_COLUMNS:
        raise InvalidRequest(f"A board can have at most {MAX_COLUMNS} columns.")
    names = [c.name.strip().casefold() for c in columns]
    if len(set(names)) != len(names):
        raise InvalidRequest("Two columns have the same name; give each its own.")
    kinds = [c.kind for c in columns]
    if kinds[0] != ColumnKind.QUEUE:
        raise InvalidRequest("The first column must be a queue (such as Ready).")
    if kinds[-1] != ColumnKind.DONE:
        raise InvalidRequest("The last column must be a done column.")
    if ColumnKind.ACTIVE not in kinds:
        raise InvalidRequest("A board needs at least one active column (such as In progress).")
    order = {ColumnKind.QUEUE: 0, ColumnKind.ACTIVE: 1, ColumnKind.DONE: 2}
    if any(order[a] > order[b] for a, b in zip(kinds, kinds[1:], strict=False)):
        raise InvalidRequest("Columns must go queue, then active, then done, left to right.")


def reference(prefix: str, number: int) -> str:
    """A card's short reference, such as SUP-42."""
    return f"{prefix}-{number}"
