"""Pull next: the highest-priority ready card a person may take, or why there is none."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from tracker.domain.vocabulary import LaneKind
from tracker.domain.wip import EXPEDITE, BoardWip, Lane, Placement

DEFAULT_PULL_ORDER = (LaneKind.SUPPORT, LaneKind.FEATURE)


@dataclass(frozen=True)
class ReadyCard:
    """A card in a lane's ready queue, in rank order."""

    id: int
    column_id: int
    blocked: bool = False
    assignee_id: int | None = None


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
    ready: Mapping[int, Sequence[ReadyCard]],
    person_id: int,
    to_column_id: int,
) -> PullPlan:
    """Choose the top unblocked, unassigned ready card of the first lane that may take one.

    `lanes` is already in pull order and `ready[lane_id]` in rank order. Lanes whose limits
    (lane, column or the person's) are reached are skipped, with the reason recorded.
    """
    plan = PullPlan()
    for lane in lanes:
        queue = ready.get(lane.id, ())
        free = [c for c in queue if not c.blocked and c.assignee_id is None]
        if not queue:
            plan.reasons.append(f"{lane.name}: nothing is ready.")
            continue
        if not free:
            plan.reasons.append(
                f"{lane.name}: all {len(queue)} ready cards are blocked or already assigned."
            )
            continue
        top = free[0]
        breaches = wip.breaches(
            Placement(lane.id, top.column_id, None), Placement(lane.id, to_column_id, person_id)
        )
        if breaches:
            plan.reasons.append(f"{lane.name}: " + " ".join(b.message() for b in breaches))
            continue
        plan.card_id = top.id
        return plan
    return plan
