"""Incidents: an Expedite card's stages, break-glass grants that must be ended, drills, and
the figures per period (DESIGN.md "Next": incidents).

The stages, each with its time and person, from the card's history:
- opened: created in the Expedite lane (an S1 filed), or first escalated into it;
- acknowledged: the first time after opening someone holds it (pulled, assigned, or taken
  on a move into work), or else mitigates or resolves it;
- mitigated: the first "Mitigated" a responder records, with a note;
- resolved: its last done, while it is done.
A drill (a rehearsal) has the same stages and is counted apart from real incidents.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from tracker.domain.emergency import waited
from tracker.domain.errors import InvalidRequest
from tracker.domain.flow import quantile
from tracker.domain.periods import period_index
from tracker.domain.vocabulary import CardStatus, LaneKind

# A grant open longer than this is overdue even before its expected end.
GRANT_LONGEST = timedelta(hours=24)
# A review not written within this many working days after resolution is late.
REVIEW_WORKING_DAYS = 5

OPENED, ACKNOWLEDGED, MITIGATED, RESOLVED = "opened", "acknowledged", "mitigated", "resolved"
STAGES = (OPENED, ACKNOWLEDGED, MITIGATED, RESOLVED)


@dataclass(frozen=True)
class Mark:
    """A stage reached: when, and by whom (None: nobody recorded)."""

    at: datetime
    by: int | None = None
    note: str = ""


@dataclass(frozen=True)
class Step:
    """One history event as incidents read it: kind, time, actor, and what it changed."""

    kind: str
    at: datetime
    actor_id: int | None
    assignee: int | None  # the card's holder after the event (None: nobody)
    lane_kind: str  # the card's lane kind after the event
    status: str  # the card's status after the event
    reason: str = ""


@dataclass(frozen=True)
class Incident:
    """An Expedite card's stages (None: not reached) and whether it is a drill."""

    card_id: int
    opened: Mark
    acknowledged: Mark | None = None
    mitigated: Mark | None = None
    resolved: Mark | None = None
    drill: bool = False

    @property
    def stage(self) -> str:
        for name, mark in (
            (RESOLVED, self.resolved),
            (MITIGATED, self.mitigated),
            (ACKNOWLEDGED, self.acknowledged),
        ):
            if mark is not None:
                return name
        return OPENED

    def took(self, stage: str) -> timedelta | None:
        """How long from opening until the stage was reached (None: not yet)."""
        mark = {
            ACKNOWLEDGED: self.acknowledged,
            MITIGATED: self.mitigated,
            RESOLVED: self.resolved,
        }[stage]
        return None if mark is None else mark.at - self.opened.at

    @property
    def needs_banner(self) -> bool:
        """The board's banner stays until the incident is mitigated (or resolved)."""
        return self.mitigated is None and self.resolved is None


def incident(
    card_id: int,
    created_at: datetime,
    created_by: int | None,
    steps: Sequence[Step],
    *,
    expedite_at_creation: bool,
    mitigated_kind: str,
    drill: bool = False,
) -> Incident | None:
    """The card's incident from its history (oldest first), or None when it never was an
    emergency (never in the Expedite lane)."""
    opened: Mark | None = Mark(created_at, created_by) if expedite_at_creation else None
    acknowledged = mitigated = resolved = None
    status: str = CardStatus.OPEN
    for step in steps:
        if opened is None:
            if step.lane_kind == LaneKind.EXPEDITE:
                opened = Mark(step.at, step.actor_id)
                if step.assignee is not None:  # escalated while someone was on it
                    acknowledged = Mark(step.at, step.assignee)
            status = step.status
            continue
        if acknowledged is None and step.assignee is not None:
            acknowledged = Mark(step.at, step.assignee)
        done = step.status == CardStatus.DONE
        if acknowledged is None and (step.kind == mitigated_kind or done):
            acknowledged = Mark(step.at, step.actor_id)  # whoever mitigates or resolves it
        if mitigated is None and step.kind == mitigated_kind:
            mitigated = Mark(step.at, step.actor_id, step.reason)
        if done and status != CardStatus.DONE:
            resolved = Mark(step.at, step.actor_id)  # done (again, after a reopen)
        elif not done:
            resolved = None
        status = step.status
    if opened is None:
        return None
    return Incident(card_id, opened, acknowledged, mitigated, resolved, drill)


@dataclass(frozen=True)
class Recorded:
    """One card event as stored: its kind, time, actor, {field: [old, new]} and reason."""

    kind: str
    at: datetime
    actor_id: int | None
    changes: Mapping[str, Sequence[object]]
    reason: str = ""


def from_history(
    card_id: int,
    events: Sequence[Recorded],
    lane_kinds: Mapping[int, str],
    *,
    mitigated_kind: str,
    drill: bool = False,
) -> Incident | None:
    """The card's incident from its whole history, oldest first, the first event its
    creation (whose changes give every field): the events are replayed into the holder,
    lane kind and status after each (lane_kinds: lane id -> kind), then read by incident()."""
    if not events:
        return None
    state: dict[str, object] = {}
    steps = []
    for event in events:
        for name, change in event.changes.items():
            state[name] = change[1]
        if event is events[0]:
            continue
        steps.append(
            Step(
                event.kind,
                event.at,
                event.actor_id,
                state.get("assignee_id"),  # type: ignore[arg-type]
                lane_kinds.get(state.get("lane_id"), ""),  # type: ignore[arg-type]
                str(state.get("status", CardStatus.OPEN)),
                event.reason,
            )
        )
    first = events[0]
    created_lane = (first.changes.get("lane_id") or (None, None))[1]
    return incident(
        card_id,
        first.at,
        first.actor_id,
        steps,
        expedite_at_creation=lane_kinds.get(created_lane) == LaneKind.EXPEDITE,  # type: ignore[arg-type]
        mitigated_kind=mitigated_kind,
        drill=drill,
    )


def _ago(then: datetime, now: datetime) -> str:
    return f"{waited(int((now - then).total_seconds() // 60))} ago"


def stage_line(ref: str, found: Incident, name: Callable[[int | None], str], now: datetime) -> str:
    """The incident's stage in a line: "EXP-7 · acknowledged by Mia 2 min ago · not
    mitigated" (a drill says so first). name(person id) names a person ("" for nobody)."""

    def by(mark: Mark) -> str:
        who = name(mark.by)
        return f" by {who}" if who else ""

    parts = [f"Drill {ref}" if found.drill else ref]
    if found.resolved is not None:
        took = found.took(RESOLVED)
        parts.append(f"resolved{by(found.resolved)} {_ago(found.resolved.at, now)}")
        parts.append(f"took {waited(int(took.total_seconds() // 60))}" if took else "")
    elif found.mitigated is not None:
        parts.append(f"mitigated{by(found.mitigated)} {_ago(found.mitigated.at, now)}")
        parts.append("not resolved")
    elif found.acknowledged is not None:
        parts.append(f"acknowledged{by(found.acknowledged)} {_ago(found.acknowledged.at, now)}")
        parts.append("not mitigated")
    else:
        parts.append(f"opened {_ago(found.opened.at, now)}")
        parts.append("not acknowledged")
    return " · ".join(p for p in parts if p)


def stage_marks(found: Incident) -> list[tuple[str, Mark, timedelta | None]]:
    """The stages reached, in order, each with its mark and how long after opening."""
    marks = [(OPENED, found.opened, None)]
    for stage, mark in (
        (ACKNOWLEDGED, found.acknowledged),
        (MITIGATED, found.mitigated),
        (RESOLVED, found.resolved),
    ):
        if mark is not None:
            marks.append((stage, mark, found.took(stage)))
    return marks


# An incident log's entry, and a reason to leave a grant open, are short.
LOG_LENGTH = 500


def check_log_entry(text: str) -> str:
    """A line of the incident log as it is kept, or InvalidRequest saying why not."""
    text = text.strip()
    if not text:
        raise InvalidRequest(
            "Write what happened or what you did (for example: restarted the workers)."
        )
    if len(text) > LOG_LENGTH:
        raise InvalidRequest(f"Keep a log entry to {LOG_LENGTH} characters or fewer.")
    return text


def check_open_incident(found: Incident | None, ref: str) -> Incident:
    """The incident, if the card is one still being worked (grants are recorded during an
    open incident only), or InvalidRequest."""
    if found is None:
        raise InvalidRequest(f"{ref} is not an incident: only Expedite cards are.")
    if found.resolved is not None:
        raise InvalidRequest(f"{ref} is resolved; reopen it to record more access.")
    return found


def check_ending(grant: Grant) -> None:
    """Refuse ending a grant that was ended already."""
    if not grant.open:
        raise InvalidRequest("That access was ended already.")


def check_left_open(grant: Grant, reason: str) -> str:
    """Why an open grant stays open when its incident is resolved, as kept."""
    check_ending(grant)
    reason = reason.strip()
    if not reason:
        raise InvalidRequest(
            "Say why the access stays open (for example: the vendor revokes it at 18:00)."
        )
    if len(reason) > LOG_LENGTH:
        raise InvalidRequest(f"Keep the reason to {LOG_LENGTH} characters or fewer.")
    return reason


def resolving_refusal(ref: str, blocking: Sequence[Grant]) -> str:
    """What a person is told when resolving an incident whose grants still block it."""
    held = "; ".join(f"{g.holder} on {g.target}" for g in blocking)
    return (
        f"{ref} still has break-glass access open ({held}). End each grant, or write why "
        "it stays open, before moving the card to done."
    )


def check_mitigation(incident: Incident, note: str) -> str:
    """The note of a "Mitigated" a responder records, or InvalidRequest saying why not."""
    note = note.strip()
    if incident.resolved is not None:
        raise InvalidRequest("This incident is resolved already.")
    if incident.mitigated is not None:
        raise InvalidRequest("This incident is mitigated already.")
    if not note:
        raise InvalidRequest("Say what mitigated it (for example: rolled back to 4.2.1).")
    if len(note) > 500:
        raise InvalidRequest("Keep the note to 500 characters or fewer.")
    return note


# Break-glass access -----------------------------------------------------------------------


@dataclass(frozen=True)
class Grant:
    """Elevated production access a responder holds during an incident."""

    id: int
    holder: str
    target: str  # on what, e.g. "orders-db primary, write"
    granted_at: datetime
    expected_end: datetime
    ended_at: datetime | None = None
    left_open_reason: str = ""

    @property
    def open(self) -> bool:
        return self.ended_at is None

    def overdue(self, now: datetime) -> bool:
        """Still open past its expected end, or longer than GRANT_LONGEST."""
        return self.open and (now > self.expected_end or now - self.granted_at > GRANT_LONGEST)

    def hours(self, now: datetime) -> float:
        return ((self.ended_at or now) - self.granted_at).total_seconds() / 3600


def check_grant(target: str, why: str, granted_at: datetime, expected_end: datetime) -> None:
    """Refuse a grant that cannot be recorded as given."""
    if not target.strip():
        raise InvalidRequest("Say what the access is on (for example: orders-db primary, write).")
    if not why.strip():
        raise InvalidRequest("Say why the access is needed.")
    if expected_end <= granted_at:
        raise InvalidRequest("The expected end comes after the access is granted.")
    if expected_end - granted_at > timedelta(days=7):
        raise InvalidRequest("Break-glass access is for hours, not weeks: a week at most.")


def check_buddy(buddy_id: int | None, buddy_name: str, holder_id: int) -> str:
    """The buddy typed in (a member chosen leaves it ""), or InvalidRequest: break-glass
    access is paired with someone from operations who is not the holder."""
    buddy_name = buddy_name.strip()
    if buddy_id is None and not buddy_name:
        raise InvalidRequest("Name the operations buddy: a board member, or type their name.")
    if buddy_id is not None and buddy_id == holder_id:
        raise InvalidRequest("The buddy is someone other than the person holding the access.")
    if len(buddy_name) > 120:
        raise InvalidRequest("Keep the buddy's name to 120 characters or fewer.")
    return "" if buddy_id is not None else buddy_name


def check_granted_at(granted_at: datetime, now: datetime) -> None:
    """Access is recorded when given or after, never ahead of time."""
    if granted_at > now + timedelta(minutes=5):
        raise InvalidRequest("Record access once it is granted: the time granted is in the future.")


def blocking_grants(grants: Iterable[Grant], reasons: dict[int, str]) -> list[Grant]:
    """The open grants that stop an incident from being resolved: every open grant without
    a written reason to leave it open (reasons: grant id -> reason)."""
    return [g for g in grants if g.open and not reasons.get(g.id, g.left_open_reason).strip()]


# Figures --------------------------------------------------------------------------------


@dataclass(frozen=True)
class IncidentFigures:
    """One period's incidents (those opened in it): real and drills counted apart; times
    to acknowledge, mitigate and resolve of the real ones (medians and 85th percentiles,
    hours); break-glass hours; reviews not written in time."""

    count: int
    drills: int
    acknowledge: tuple[float | None, float | None]
    mitigate: tuple[float | None, float | None]
    resolve: tuple[float | None, float | None]
    glass_hours: float
    late_reviews: int


def _hours(values: list[timedelta]) -> tuple[float | None, float | None]:
    hours = [v.total_seconds() / 3600 for v in values]
    return quantile(hours, 0.5), quantile(hours, 0.85)


def figures(
    incidents: Sequence[Incident],
    grants: dict[int, Sequence[Grant]],
    late_reviews: set[int],
    now: datetime,
) -> IncidentFigures:
    """The figures of the incidents of one period (grants and late reviews by card id)."""
    real = [i for i in incidents if not i.drill]
    took = {stage: [t for i in real if (t := i.took(stage)) is not None] for stage in STAGES[1:]}
    return IncidentFigures(
        count=len(real),
        drills=len(incidents) - len(real),
        acknowledge=_hours(took[ACKNOWLEDGED]),
        mitigate=_hours(took[MITIGATED]),
        resolve=_hours(took[RESOLVED]),
        glass_hours=sum(g.hours(now) for i in real for g in grants.get(i.card_id, ())),
        late_reviews=sum(1 for i in real if i.card_id in late_reviews),
    )


def figures_by_period(
    bounds: Sequence[tuple[datetime, datetime]],
    incidents: Iterable[Incident],
    grants: dict[int, Sequence[Grant]],
    late_reviews: set[int],
    now: datetime,
) -> list[IncidentFigures]:
    """The figures of each period (bounds: its aware start and end, sorted), counting each
    incident in the period it was opened in."""
    starts = [b[0] for b in bounds]
    grouped: list[list[Incident]] = [[] for _ in bounds]
    for found in incidents:
        i = period_index(found.opened.at, starts, bounds)
        if i is not None:
            grouped[i].append(found)
    return [figures(group, grants, late_reviews, now) for group in grouped]
