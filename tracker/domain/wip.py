"""WIP limits: which counts a move raises, and whether the board allows it.

A card *counts* toward a lane when it sits in an active column of that lane; toward a
column when it sits in that column; toward a person when it is assigned to them in an active
column. Expedite cards count only toward their own lane, and only that lane's limit stops
them. A move is checked against every limit whose count it would raise, and only those.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from tracker.domain.errors import WipLimitExceeded
from tracker.domain.vocabulary import ColumnKind, LaneKind, LimitMode
from tracker.domain.wording import counted

COLUMN_KINDS = tuple(ColumnKind)
LIMIT_MODES = tuple(LimitMode)


@dataclass(frozen=True)
class Lane:
    id: int
    kind: str
    name: str
    wip_limit: int | None = None
    mode: str = LimitMode.STRICT


@dataclass(frozen=True)
class Column:
    id: int
    kind: str
    name: str
    wip_limit: int | None = None


def counts_in(column: Column) -> bool:
    """Whether a card in this column counts toward any limit: the column is active (its
    lane's and its assignee's counts), or has a limit of its own. Cards anywhere else (an
    unlimited ready queue, which may hold most of a board) need not be counted at all."""
    return column.kind == ColumnKind.ACTIVE or column.wip_limit is not None


class Placement(NamedTuple):
    """Where a card is, or would be: lane, column and assignee. A tuple: a board's cards
    are counted by distinct placement (most cards share theirs with others)."""

    lane_id: int
    column_id: int
    assignee_id: int | None = None


@dataclass(frozen=True)
class Breach:
    """One limit a move would break: its scope, the count now, and the limit."""

    scope: str  # "lane", "column" or "person"
    name: str
    count: int
    limit: int
    mode: str = LimitMode.STRICT

    def message(self) -> str:
        state = "at" if self.count == self.limit else "over"
        figures = f"{self.count} of {self.limit}"
        if self.scope == "lane":
            return (
                f"{self.name} is {state} its WIP limit, {figures}: finish or move something first."
            )
        if self.scope == "column":
            return (
                f"The {self.name} column is {state} its limit, {figures}: "
                "finish or move something first."
            )
        return (
            f"{self.name} already holds {counted(self.count, 'card')} in progress and the "
            f"limit per person is {self.limit}: finish one first."
        )


@dataclass(frozen=True)
class LaneLoad:
    """A lane's WIP for display: count, limit and whether it is full or over."""

    count: int
    limit: int | None

    @property
    def state(self) -> str:
        if self.limit is None or self.count < self.limit:
            return "ok"
        return "full" if self.count == self.limit else "over"


class BoardWip:
    """The WIP counts of one board, and the checks a move must pass."""

    def __init__(
        self,
        lanes: Iterable[Lane],
        columns: Iterable[Column],
        placements: Iterable[Placement] | Mapping[Placement, int],
        per_person_limit: int | None = None,
        person_names: Mapping[int, str] | None = None,
    ) -> None:
        """placements: where each open card is, or how many open cards are at each place."""
        self.lanes = {lane.id: lane for lane in lanes}
        self.columns = {column.id: column for column in columns}
        self.per_person_limit = per_person_limit
        self.person_names = dict(person_names or {})
        self.lane_count: Counter[int] = Counter()
        self.column_count: Counter[int] = Counter()
        self.person_count: Counter[int] = Counter()
        counted = placements if isinstance(placements, Mapping) else Counter(placements)
        for placement, cards in counted.items():
            self._add(placement, cards)

    def _keys(self, p: Placement | None) -> tuple[int | None, int | None, int | None]:
        """The lane, column and person counts this placement contributes to (None: none)."""
        if p is None:
            return None, None, None
        lane = self.lanes[p.lane_id]
        active = self.columns[p.column_id].kind == ColumnKind.ACTIVE
        if lane.kind == LaneKind.EXPEDITE:
            return (p.lane_id if active else None), None, None
        return (
            p.lane_id if active else None,
            p.column_id,
            p.assignee_id if active and p.assignee_id is not None else None,
        )

    def _add(self, p: Placement, delta: int) -> None:
        lane_key, column_key, person_key = self._keys(p)
        if lane_key is not None:
            self.lane_count[lane_key] += delta
        if column_key is not None:
            self.column_count[column_key] += delta
        if person_key is not None:
            self.person_count[person_key] += delta

    def apply(self, before: Placement | None, after: Placement | None) -> None:
        """Update the counts for a card that moved from before to after."""
        if before is not None:
            self._add(before, -1)
        if after is not None:
            self._add(after, 1)

    def load(self, lane_id: int) -> LaneLoad:
        return LaneLoad(self.lane_count[lane_id], self.lanes[lane_id].wip_limit)

    def column_load(self, column_id: int) -> LaneLoad:
        return LaneLoad(self.column_count[column_id], self.columns[column_id].wip_limit)

    def breaches(self, before: Placement | None, after: Placement) -> list[Breach]:
        """Every limit whose count the move before → after raises and that is already reached."""
        old = self._keys(before)
        new = self._keys(after)
        found: list[Breach] = []
        lane_key, column_key, person_key = new
        if lane_key is not None and lane_key != old[0]:
            lane = self.lanes[lane_key]
            count = self.lane_count[lane_key]
            if lane.wip_limit is not None and count >= lane.wip_limit:
                found.append(Breach("lane", lane.name, count, lane.wip_limit, lane.mode))
        if column_key is not None and column_key != old[1]:
            column = self.columns[column_key]
            count = self.column_count[column_key]
            if column.wip_limit is not None and count >= column.wip_limit:
                found.append(Breach("column", column.name, count, column.wip_limit))
        if person_key is not None and person_key != old[2] and self.per_person_limit is not None:
            count = self.person_count[person_key]
            if count >= self.per_person_limit:
                name = self.person_names.get(person_key, "This person")
                found.append(Breach("person", name, count, self.per_person_limit))
        return found


def authorise(breaches: list[Breach], *, is_lead: bool, reason: str | None) -> list[Breach]:
    """Allow a move that breaks limits only as a recorded override with a written reason.

    A lead may override any limit; anyone may exceed a lane limit in `with reason` mode.
    Returns the breaches to record as an override (empty when no limit is broken) or raises
    WipLimitExceeded, saying whether a reason would have been enough.
    """
    if not breaches:
        return []
    overridable = is_lead or all(
        b.scope == "lane" and b.mode == LimitMode.WITH_REASON for b in breaches
    )
    reason = (reason or "").strip()
    if not overridable or not reason:
        raise WipLimitExceeded(breaches, overridable=overridable, reason_given=bool(reason))
    return breaches
