"""Pull next: the highest-priority ready card a person may take, or why there is none; and
who holds a card moved by hand into work in progress."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from tracker.domain.vocabulary import ColumnKind, LaneKind
from tracker.domain.wip import EXPEDITE, BoardWip, Lane, Placement

DEFAULT_PULL_ORDER = (LaneKind.SUPPORT, LaneKind.FEATURE)


def holder_after_move(
    column_kind: str, assignee_id: int | None, mover_id: int, mover_may_hold: bool
) -> int | None:
    """Who holds a card after a person moves it into a column: a card with nobody on it that
    enters an active column becomes the mover's, as a pulled card does, when their role lets
    them hold cards (the capacity report counts only the time someone holds a card); any
    other card keeps its assignee."""
    if column_kind == ColumnKind.ACTIVE and assignee_id is None and mover_may_hold:
        return mover_id
    return assignee_id


@dataclass(frozen=True)
class ReadyCard:
    """A card in a lane's ready queue, in rank order."""

    id: int
    column_id: int
    blocked: bool = False
    assignee_id: int | None = None


@dataclass(frozen=True)
class ReadyQueue:
    """A lane's ready queue as a pull needs it: the first of its cards (in the ready columns'
    order, nearest the work first, then rank) that is free to take, neither blocked nor
    assigned; and when none is, how many cards wait in it. A pull needs that number only to
    say why it took nothing from the lane, so a queue with a free card leaves it uncounted
    (None): the store then reads one card, however long the queue."""

    waiting: int | None
    first_free: ReadyCard | None = None

    @classmethod
    def of(cls, cards: Sequence[ReadyCard]) -> ReadyQueue:
        """The queue of these cards, in order."""
        free = next((c for c in cards if not c.blocked and c.assignee_id is None), None)
        return cls(None if free else len(cards), free)


@dataclass
class PullPlan:
    """The card to pull (or None) and, lane by lane, why the others were passed over."""

    card_id: int | None = None
    reasons: list[str] = field(default_factory=list)


def lanes_in_pull_order(lanes: Sequence[Lane], order: Sequence[str]) -> list[Lane]:
    """Expedite first, then the lane kinds in the board's pull order, then any others."""
    rank = {EXPEDITE: -1} | {kind: i for i, kind in enumerate(order)}
    return sorted(lanes, key=lambda lane: rank.get(lane.kind, len(order)))


def plan_pull(
    wip: BoardWip,
    lanes: Sequence[Lane],
    ready: Mapping[int, ReadyQueue],
    person_id: int,
    to_column_id: int,
) -> PullPlan:
    """Choose the top unblocked, unassigned ready card of the first lane that may take one.

    `lanes` is already in pull order; `ready[lane_id]` is the lane's ready queue (none: an
    empty one). Lanes whose limits (lane, column or the person's) are reached are skipped,
    with the reason recorded.
    """
    plan = PullPlan()
    for lane in lanes:
        queue = ready.get(lane.id, ReadyQueue(0))
        top = queue.first_free
        if top is None:
            plan.reasons.append(_nothing_free(lane.name, queue.waiting))
            continue
        breaches = wip.breaches(
            Placement(lane.id, top.column_id, None), Placement(lane.id, to_column_id, person_id)
        )
        if breaches:
            plan.reasons.append(f"{lane.name}: " + " ".join(b.message() for b in breaches))
            continue
        plan.card_id = top.id
        return plan
    return plan


def _nothing_free(lane_name: str, waiting: int) -> str:
    """Why a lane offers nothing to pull, with its waiting cards in words."""
    if not waiting:
        return f"{lane_name}: nothing is ready."
    if waiting == 1:
        return f"{lane_name}: the one ready card is blocked or already assigned."
    return f"{lane_name}: all {waiting} ready cards are blocked or already assigned."
