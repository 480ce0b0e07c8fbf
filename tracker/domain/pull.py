"""Pull next: the highest-priority ready card a person may take, or why there is none; and
who holds a card moved by hand into work in progress."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from tracker.domain.vocabulary import ColumnKind, LaneKind
from tracker.domain.wip import BoardWip, Lane, Placement

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
    rank = {LaneKind.EXPEDITE: -1} | {kind: i for i, kind in enumerate(order)}
    return sorted(lanes, key=lambda lane: rank.get(lane.kind, len(order)))


@dataclass(frozen=True)
class Duty:
    """The support rotation as a pull sees it: the people on support duty now (id: name).
    A board without a rotation has none (None), and everyone pulls in its pull order."""

    on_duty: Mapping[int, str]

    def free(self, wip: BoardWip) -> list[str]:
        """The names of those on duty who could take another card now: under the board's
        per-person limit, or, without one, holding no card in progress."""
        room = wip.per_person_limit if wip.per_person_limit is not None else 1
        return [name for person, name in self.on_duty.items() if wip.person_count[person] < room]


def lanes_for(
    lanes: Sequence[Lane], order: Sequence[str], duty: Duty | None, person_id: int, wip: BoardWip
) -> tuple[list[Lane], list[str]]:
    """The lanes a person pulls from, in order, and why any lane is left out.

    Without a rotation: Expedite, then the board's pull order. With one, people on support
    duty pull Expedite, Support, Feature; everyone else Expedite, Feature, and Support only
    when nobody on duty is free to take it (DESIGN.md "Next": the support rotation)."""
    if duty is None:
        return lanes_in_pull_order(lanes, order), []
    if person_id in duty.on_duty:
        return lanes_in_pull_order(lanes, (LaneKind.SUPPORT, LaneKind.FEATURE)), []
    ordered = lanes_in_pull_order(lanes, (LaneKind.FEATURE, LaneKind.SUPPORT))
    free = duty.free(wip)
    if not free:
        return ordered, []
    kept = [lane for lane in ordered if lane.kind != LaneKind.SUPPORT]
    names = ", ".join(free)
    reasons = [
        f"{lane.name}: left to those on support duty, free to take it ({names}); "
        "you are not on duty."
        for lane in ordered
        if lane.kind == LaneKind.SUPPORT
    ]
    return kept, reasons


def interrupts(
    lane_kind: str, entering_work: bool, holder_id: int | None, duty: Duty | None
) -> bool:
    """Whether a support card going into work is an interruption the rotation failed to
    absorb: its holder is not on support duty."""
    return (
        duty is not None
        and lane_kind == LaneKind.SUPPORT
        and entering_work
        and holder_id is not None
        and holder_id not in duty.on_duty
    )


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
