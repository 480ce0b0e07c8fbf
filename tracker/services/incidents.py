"""Incidents on Expedite cards: the stages read from the card's history, the responders'
log, "Mitigated", drills, and break-glass access grants that must be ended (DESIGN.md
"Next": incidents; the rules are tracker.domain.incidents).

The log, the mitigation, a drill mark and each grant's start and end are card events,
written through the card path (tracker.store) under the board's lock, so the board's
version moves and every open page hears of them. Every grant and its end go to the audit
log in the same transaction.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import joinedload

from tracker import clock, store
from tracker.domain import incidents, policy, reviews, text
from tracker.domain.errors import InvalidRequest
from tracker.domain.incidents import Grant, Incident, Recorded
from tracker.domain.policy import Action
from tracker.domain.vocabulary import CardStatus, EventKind, LaneKind
from tracker.extensions import db
from tracker.models import (
    BreakGlassGrant,
    Card,
    CardEvent,
    IncidentFollowUp,
    IncidentReview,
    Lane,
    Membership,
    User,
)
from tracker.services import audit
from tracker.services.common import Actor, assignable_ids, get_card, row_of_board
from tracker.store import snapshot

DRILL_FIELD = "drill"


def _require_responder(actor: Actor) -> None:
    policy.require(actor.role, Action.CHANGE_CARDS)


# Reading ---------------------------------------------------------------------------------


def lane_kinds(board_id: int) -> dict[int, str]:
    """The board's lanes: id -> kind."""
    rows = db.session.execute(select(Lane.id, Lane.kind).where(Lane.board_id == board_id))
    return {row.id: row.kind for row in rows}


def incident_of(
    card: Card, kinds: dict[int, str] | None = None, history: list[CardEvent] | None = None
) -> Incident | None:
    """The card's incident (its stages from its history: the events given, oldest first,
    or else read by stages_of), or None: it never was in the Expedite lane."""
    kinds = kinds if kinds is not None else lane_kinds(card.board_id)
    if history is None:
        found = stages_of({card.id: card.drill}, kinds)
        return found[0] if found else None
    recorded = [
        Recorded(e.kind, e.at, e.actor_id, e.changes or {}, e.reason or "") for e in history
    ]
    return incidents.from_history(
        card.id,
        recorded,
        kinds,
        mitigated_kind=EventKind.MITIGATED,
        drill=card.drill,
    )


def grant_rule(row: BreakGlassGrant) -> Grant:
    """A grant row as the domain reads it."""
    return Grant(
        row.id,
        row.holder.name,
        row.target,
        row.granted_at,
        row.expected_end,
        ended_at=row.ended_at,
        left_open_reason=row.left_open_reason,
    )


def card_grants(card_id: int) -> list[BreakGlassGrant]:
    """A card's grants, open ones first, then by when granted."""
    rows = db.session.execute(
        select(BreakGlassGrant)
        .options(
            joinedload(BreakGlassGrant.holder),
            joinedload(BreakGlassGrant.buddy),
            joinedload(BreakGlassGrant.ended_by),
        )
        .where(BreakGlassGrant.card_id == card_id)
        .order_by(BreakGlassGrant.ended_at.is_not(None), BreakGlassGrant.granted_at)
    )
    return list(rows.scalars())


def names(board_id: int) -> dict[int, str]:
    """Every person who is or was on the board, by id (the stages name them)."""
    rows = db.session.execute(
        select(User.id, User.name)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.board_id == board_id)
    )
    return {row.id: row.name for row in rows}


@dataclass(frozen=True)
class Panel:
    """What the card panel shows of an incident: its stages and stage line, its grants
    (open ones first) and the people who may hold access or be a buddy."""

    incident: Incident
    line: str
    stages: list[tuple[str, incidents.Mark, Any]]
    grants: list[BreakGlassGrant]
    names: dict[int, str]
    now: datetime

    @property
    def open_grants(self) -> list[BreakGlassGrant]:
        return [g for g in self.grants if g.ended_at is None]


def panel(card: Card, history: list[CardEvent] | None = None) -> Panel | None:
    """The incident part of the card's panel, or None for a card that never was one
    (history: the card's events, oldest first, when the caller read them already)."""
    found = incident_of(card, history=history)
    if found is None:
        return None
    now = clock.now()
    people = names(card.board_id)
    line = incidents.stage_line(card.ref, found, lambda i: people.get(i, "") if i else "", now)
    return Panel(found, line, incidents.stage_marks(found), card_grants(card.id), people, now)


def blocking(card: Card) -> list[Grant]:
    """The card's open grants with no reason to stay open: they stop it reaching done."""
    rows = db.session.execute(
        select(BreakGlassGrant)
        .options(joinedload(BreakGlassGrant.holder))
        .where(BreakGlassGrant.card_id == card.id, BreakGlassGrant.ended_at.is_(None))
    ).scalars()
    return incidents.blocking_grants([grant_rule(row) for row in rows], {})


def check_resolvable(card: Card) -> None:
    """Refuse moving an incident to done while it has grants open with no reason given
    (called by services.cards on a move into a done column, under the board lock)."""
    held = blocking(card)
    if held:
        raise InvalidRequest(incidents.resolving_refusal(card.ref, held))


@dataclass(frozen=True)
class Overdue:
    """A grant still open past its expected end or a day, as the banner names it."""

    grant_id: int
    card_id: int
    ref: str
    holder: str
    target: str
    granted_at: datetime


def overdue(board_id: int, now: datetime | None = None) -> list[Overdue]:
    """The board's grants still open past their expected end or GRANT_LONGEST, oldest first."""
    now = now or clock.now()
    rows = db.session.execute(
        select(
            BreakGlassGrant.id,
            BreakGlassGrant.card_id,
            BreakGlassGrant.target,
            BreakGlassGrant.granted_at,
            BreakGlassGrant.expected_end,
            Card.ref,
            User.name,
        )
        .join(Card, Card.id == BreakGlassGrant.card_id)
        .join(User, User.id == BreakGlassGrant.holder_id)
        .where(BreakGlassGrant.board_id == board_id, BreakGlassGrant.ended_at.is_(None))
        .order_by(BreakGlassGrant.granted_at, BreakGlassGrant.id)
    )
    found = []
    for r in rows:
        rule = Grant(r.id, r.name, r.target, r.granted_at, r.expected_end)
        if rule.overdue(now):
            found.append(Overdue(r.id, r.card_id, r.ref, r.name, r.target, r.granted_at))
    return found


# Changing --------------------------------------------------------------------------------


def _incident_card(board_id: int, card_id: Any) -> tuple[store.BoardState, Card]:
    state = store.load_locked(board_id)
    card = get_card(board_id, card_id)
    if card.status == CardStatus.CLOSED:
        raise InvalidRequest(f"{card.ref} is closed; it is no longer on the board.")
    return state, card


def _not_incident(card: Card) -> InvalidRequest:
    return InvalidRequest(f"{card.ref} is not an incident: only Expedite cards are.")


def mitigate(board_id: int, actor: Actor, card_id: Any, note: str) -> Card:
    """Record the incident mitigated, with a note ("rolled back to 4.2.1"): the banner goes."""
    _require_responder(actor)
    state, card = _incident_card(board_id, card_id)
    found = incident_of(card, {lane.id: lane.kind for lane in state.lanes})
    if found is None:
        raise _not_incident(card)
    note = incidents.check_mitigation(found, note)
    event = store.new_event(card, EventKind.MITIGATED, actor.id, snapshot(card), reason=note)
    return store.commit(state, card, events=[event]).card


def add_log_entry(board_id: int, actor: Actor, card_id: Any, text: str) -> Card:
    """Add a line to the incident's log (internal, timestamped, kept in the history)."""
    _require_responder(actor)
    state, card = _incident_card(board_id, card_id)
    if incident_of(card, {lane.id: lane.kind for lane in state.lanes}) is None:
        raise _not_incident(card)
    text = incidents.check_log_entry(text)
    event = store.new_event(card, EventKind.INCIDENT_LOG, actor.id, snapshot(card), reason=text)
    return store.commit(state, card, events=[event]).card


def set_drill(board_id: int, actor: Actor, card_id: Any, drill: bool) -> Card:
    """Mark the card a drill (a rehearsal, counted apart everywhere), or a real incident."""
    _require_responder(actor)
    state, card = _incident_card(board_id, card_id)
    if state.lane(card.lane_id).kind != LaneKind.EXPEDITE and not card.drill:
        raise InvalidRequest(f"{card.ref} is not in Expedite: only an emergency can be a drill.")
    if card.drill == drill:
        store.rollback()
        return card
    before = snapshot(card)
    card.drill = drill
    event = store.new_event(
        card, EventKind.DRILL, actor.id, before, noted={DRILL_FIELD: [not drill, drill]}
    )
    return store.commit(state, card, events=[event]).card


@dataclass(frozen=True)
class GrantInput:
    """A grant as a responder records it."""

    holder_id: int
    target: str
    why: str
    buddy_id: int | None
    buddy_name: str
    granted_at: datetime
    expected_end: datetime


def record_grant(board_id: int, actor: Actor, card_id: Any, given: GrantInput) -> BreakGlassGrant:
    """Record elevated production access given during an open incident (audited)."""
    _require_responder(actor)
    state, card = _incident_card(board_id, card_id)
    incidents.check_open_incident(
        incident_of(card, {lane.id: lane.kind for lane in state.lanes}), card.ref
    )
    if given.holder_id not in assignable_ids(board_id):
        raise InvalidRequest("Choose who holds the access from the board's members.")
    if given.buddy_id is not None and given.buddy_id not in names(board_id):
        raise InvalidRequest("Choose the buddy from the board's members, or type their name.")
    buddy_name = incidents.check_buddy(given.buddy_id, given.buddy_name, given.holder_id)
    incidents.check_granted_at(given.granted_at, clock.now())
    incidents.check_grant(given.target, given.why, given.granted_at, given.expected_end)
    target, why = given.target.strip()[:200], given.why.strip()[:500]
    grant = BreakGlassGrant(
        board_id=board_id,
        card_id=card.id,
        holder_id=given.holder_id,
        target=target,
        why=why,
        buddy_id=given.buddy_id,
        buddy_name=buddy_name,
        granted_at=given.granted_at,
        expected_end=given.expected_end,
        recorded_by_id=actor.id,
        left_open_reason="",
    )
    db.session.add(grant)
    db.session.flush()
    event = store.new_event(
        card,
        EventKind.GRANT_OPENED,
        actor.id,
        snapshot(card),
        reason=target,
        noted={"grant": [None, grant.id], "holder": [None, given.holder_id]},
    )
    _audit("grant.opened", actor, card, grant, {"expected_end": given.expected_end.isoformat()})
    store.commit(state, card, events=[event])
    return grant


def _board_grant(board_id: int, grant_id: Any) -> BreakGlassGrant:
    return row_of_board(
        BreakGlassGrant, board_id, grant_id, "That access grant does not exist on this board."
    )


def grant_card(board_id: int, grant_id: Any) -> Card:
    """The card a grant of this board belongs to (NotFound for another board's grant)."""
    return _board_grant(board_id, grant_id).card


def end_grant(board_id: int, actor: Actor, grant_id: Any) -> BreakGlassGrant:
    """Confirm a grant's access revoked: who and when (audited)."""
    _require_responder(actor)
    state = store.load_locked(board_id)
    grant = _board_grant(board_id, grant_id)
    incidents.check_ending(grant_rule(grant))
    card = grant.card
    grant.ended_at, grant.ended_by_id = clock.now(), actor.id
    event = store.new_event(
        card,
        EventKind.GRANT_ENDED,
        actor.id,
        snapshot(card),
        reason=grant.target,
        noted={"grant": [grant.id, None], "holder": [grant.holder_id, None]},
    )
    _audit("grant.ended", actor, card, grant, {})
    store.commit(state, card, events=[event])
    return grant


def leave_open(board_id: int, actor: Actor, grant_id: Any, reason: str) -> BreakGlassGrant:
    """Write why a grant stays open when its incident is resolved (audited); it still
    shows as open, and on the banner once overdue, until it is ended."""
    _require_responder(actor)
    state = store.load_locked(board_id)
    grant = _board_grant(board_id, grant_id)
    reason = incidents.check_left_open(grant_rule(grant), reason)
    card = grant.card
    grant.left_open_reason = reason
    event = store.new_event(
        card,
        EventKind.GRANT_LEFT_OPEN,
        actor.id,
        snapshot(card),
        reason=f"{grant.target}: {reason}",
        noted={"grant": [grant.id, grant.id]},
    )
    _audit("grant.left_open", actor, card, grant, {})
    store.commit(state, card, events=[event])
    return grant


def _audit(action: str, actor: Actor, card: Card, grant: BreakGlassGrant, more: dict) -> None:
    audit.record(
        action,
        actor_id=actor.id,
        address=actor.address,
        board_id=card.board_id,
        target_type="card",
        target_id=card.id,
        detail={"card": card.ref, "grant": grant.id, "on": grant.target} | more,
    )


# The grants page (auditors: who held what, how long, with which buddy) --------------------

GRANTS_CSV_HEADER = [
    "grant_id",
    "card",
    "holder",
    "on",
    "why",
    "buddy",
    "granted_at_utc",
    "expected_end_utc",
    "ended_at_utc",
    "confirmed_revoked_by",
    "hours",
    "left_open_reason",
]


@dataclass(frozen=True)
class GrantRow:
    """One grant as the grants page and its CSV show it."""

    grant: BreakGlassGrant
    hours: float
    overdue: bool


def grants_between(board_id: int, since: date, until: date, timezone: str) -> list[GrantRow]:
    """The board's grants given from `since` to `until` (both days included, on the
    board's clock), oldest first, with how long each was (or is, while open) held."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(since, time(), zone)
    end = datetime.combine(until + timedelta(days=1), time(), zone)
    rows = db.session.execute(
        select(BreakGlassGrant)
        .options(
            joinedload(BreakGlassGrant.holder),
            joinedload(BreakGlassGrant.buddy),
            joinedload(BreakGlassGrant.ended_by),
            joinedload(BreakGlassGrant.card),
        )
        .where(
            BreakGlassGrant.board_id == board_id,
            BreakGlassGrant.granted_at >= start,
            BreakGlassGrant.granted_at < end,
        )
        .order_by(BreakGlassGrant.granted_at, BreakGlassGrant.id)
    ).scalars()
    now = clock.now()
    found = []
    for row in rows:
        rule = grant_rule(row)
        found.append(GrantRow(row, round(rule.hours(now), 2), rule.overdue(now)))
    return found


def grants_csv(rows: list[GrantRow]) -> str:
    """The grants as CSV (times in UTC), every cell through domain.text's CSV guard."""
    return text.csv_document(
        [
            GRANTS_CSV_HEADER,
            *(
                [
                    r.grant.id,
                    r.grant.card.ref,
                    r.grant.holder.name,
                    r.grant.target,
                    r.grant.why,
                    r.grant.buddy_shown,
                    r.grant.granted_at.isoformat(timespec="seconds"),
                    r.grant.expected_end.isoformat(timespec="seconds"),
                    r.grant.ended_at.isoformat(timespec="seconds") if r.grant.ended_at else "",
                    r.grant.ended_by.name if r.grant.ended_by else "",
                    r.hours,
                    r.grant.left_open_reason,
                ]
                for r in rows
            ),
        ]
    )


# The capacity report's Incidents section ----------------------------------------------------

# The events that can move a stage: who holds the card, its lane and status, a mitigation.
STAGE_EVENTS = (
    EventKind.CREATED,
    EventKind.MOVED,
    EventKind.PULLED,
    EventKind.ASSIGNED,
    EventKind.ESCALATED,
    EventKind.DEESCALATED,
    EventKind.CLOSED,
    EventKind.REOPENED,
    EventKind.MITIGATED,
)


@dataclass(frozen=True)
class FollowUpsOpen:
    """An incident of the report's periods with follow-up cards still open."""

    card_id: int
    ref: str
    title: str
    open: int
    drill: bool


@dataclass(frozen=True)
class ReportSection:
    """The report's Incidents section: figures per period, and the incidents whose
    follow-ups are still open."""

    rows: list[tuple[Any, incidents.IncidentFigures]]
    open_follow_ups: list[FollowUpsOpen]


def stages_of(drills: dict[int, bool], kinds: dict[int, str]) -> list[Incident]:
    """The incidents of these cards (id -> drill mark) read from their histories in one
    statement (the cards never in Expedite left out), by card id.

    Only the events that can move a stage are read (STAGE_EVENTS), and of their change
    sets only the new values of the three fields a stage reads, taken out by the database
    as plain numbers and words: decoding each change set's JSON here cost more than the
    rest of the report's Incidents section (bench/report.py: incidents_ms)."""
    if not drills:
        return []
    history: dict[int, list[Recorded]] = {card_id: [] for card_id in sorted(drills)}
    rows = db.session.execute(_stage_events_statement(), {"ids": list(history)})
    for card_id, kind, at, actor_id, reason, lane_id, status, holder, holder_changed in rows:
        changes: dict[str, Any] = {}
        if lane_id is not None:
            changes["lane_id"] = (None, lane_id)
        if status is not None:
            changes["status"] = (None, status)
        if holder_changed:  # to nobody too (holder None)
            changes["assignee_id"] = (None, holder)
        history[card_id].append(Recorded(kind, at, actor_id, changes, reason or ""))
    found = []
    for card_id, events in history.items():
        made = incidents.from_history(
            card_id, events, kinds, mitigated_kind=EventKind.MITIGATED, drill=drills[card_id]
        )
        if made is not None:
            found.append(made)
    return found


@functools.cache
def _stage_events_statement() -> Select:
    """The events of some cards (:ids) that can move a stage, oldest first, each with the
    new lane, status and holder it recorded (NULL: unchanged; `holder_changed` says
    whether the holder changed, as a new holder of nobody is NULL too)."""
    changes = CardEvent.changes
    return (
        select(
            CardEvent.card_id,
            CardEvent.kind,
            CardEvent.at,
            CardEvent.actor_id,
            CardEvent.reason,
            changes[("lane_id", 1)].as_integer().label("lane_id"),
            changes[("status", 1)].as_string().label("status"),
            changes[("assignee_id", 1)].as_integer().label("assignee_id"),
            changes["assignee_id"].is_not(None).label("holder_changed"),
        )
        .where(
            CardEvent.card_id.in_(bindparam("ids", expanding=True)),
            CardEvent.kind.in_(STAGE_EVENTS),
        )
        .order_by(CardEvent.card_id, CardEvent.id)
    )


def stage_lines(board_id: int, refs: dict[int, str], now: datetime) -> dict[int, str]:
    """The stage line of each of these incidents (card id -> ref), for the banner: four
    statements however many there are (their drill marks, lanes, histories, people)."""
    if not refs:
        return {}
    drills = dict(
        db.session.execute(select(Card.id, Card.drill).where(Card.id.in_(list(refs)))).all()
    )
    found = stages_of(drills, lane_kinds(board_id))
    if not found:
        return {}
    people = names(board_id)
    return {
        i.card_id: incidents.stage_line(
            refs[i.card_id], i, lambda who: people.get(who, "") if who else "", now
        )
        for i in found
    }


@dataclass(frozen=True)
class Opened:
    """The incidents a span of time holds (services' reads of them): each card's ref, title
    and drill mark by id, the incidents read from their histories, and their grants."""

    shown: dict[int, Any]
    found: list[Incident]
    grants: dict[int, list[Grant]]


def opened_between(
    board_id: int,
    start: datetime,
    end: datetime,
    *,
    before: int | None = None,
    limit: int | None = None,
) -> Opened:
    """The incidents opened or escalated from `start` to `end` (newest card first; with
    `before` only cards of a lower id, at most `limit` of them).

    Reads the expedite cards created in the span and the cards escalated in it, then only
    their events that can move a stage, and their grants: a handful of statements whatever
    the length of the history (bench/report.py: incidents_ms).
    """
    kinds = lane_kinds(board_id)
    expedite = [lane_id for lane_id, kind in kinds.items() if kind == LaneKind.EXPEDITE]
    escalated = select(CardEvent.card_id).where(
        CardEvent.board_id == board_id,
        CardEvent.kind == EventKind.ESCALATED,
        CardEvent.at >= start,
        CardEvent.at < end,
    )
    created = select(Card.id).where(
        Card.lane_id.in_(expedite),
        Card.board_id == board_id,
        Card.created_at >= start,
        Card.created_at < end,
    )
    ids_query = (
        select(Card.id, Card.ref, Card.title, Card.drill)
        .where(Card.id.in_(created.union(escalated).scalar_subquery()))
        .order_by(Card.id.desc())
    )
    if before is not None:
        ids_query = ids_query.where(Card.id < before)
    if limit is not None:
        ids_query = ids_query.limit(limit)
    shown = {row.id: row for row in db.session.execute(ids_query)}
    if not shown:
        return Opened({}, [], {})
    ids = list(shown)
    found = stages_of({card_id: row.drill for card_id, row in shown.items()}, kinds)
    grants: dict[int, list[Grant]] = {}
    for row in db.session.execute(
        select(
            BreakGlassGrant.id,
            BreakGlassGrant.card_id,
            BreakGlassGrant.target,
            BreakGlassGrant.granted_at,
            BreakGlassGrant.expected_end,
            BreakGlassGrant.ended_at,
            BreakGlassGrant.left_open_reason,
        ).where(BreakGlassGrant.card_id.in_(ids))
    ):
        rule = Grant(
            row.id,
            "",
            row.target,
            row.granted_at,
            row.expected_end,
            row.ended_at,
            left_open_reason=row.left_open_reason,
        )
        grants.setdefault(row.card_id, []).append(rule)
    return Opened(shown, found, grants)


@dataclass(frozen=True)
class Listed:
    """An incident of a list: its card's ref and title, its stages, its open grants."""

    ref: str
    title: str
    incident: Incident
    open_grants: int


def listed(
    board: Any, since: date, until: date, *, before: int | None, limit: int
) -> tuple[list[Listed], bool]:
    """The incidents opened from `since` to `until` (the board's days, both included),
    newest first, at most `limit` (with `before`: of the cards below that id); and whether
    more follow."""
    zone = ZoneInfo(board.timezone)
    start = datetime.combine(since, time(), zone)
    end = datetime.combine(until + timedelta(days=1), time(), zone)
    read = opened_between(board.id, start, end, before=before, limit=limit + 1)
    more = len(read.shown) > limit
    kept = set(list(read.shown)[:limit])
    found = sorted(
        (i for i in read.found if i.card_id in kept), key=lambda i: i.card_id, reverse=True
    )
    items = [
        Listed(
            read.shown[i.card_id].ref,
            read.shown[i.card_id].title,
            i,
            sum(1 for g in read.grants.get(i.card_id, []) if g.open),
        )
        for i in found
    ]
    return items, more


def report_section(board: Any, periods: Sequence[Any]) -> ReportSection:
    """Per period (the report's), the incidents opened in it: count, drills apart, times to
    acknowledge, mitigate and resolve (median, 85th percentile), break-glass hours and
    reviews not written within 5 working days; and the incidents with open follow-ups
    (opened_between reads them; then their reviews and follow-ups, one statement each).
    """
    if not periods:
        return ReportSection([], [])
    tz = ZoneInfo(board.timezone)
    bounds = [p.bounds(tz) for p in periods]
    read = opened_between(board.id, bounds[0][0], bounds[-1][1])
    shown, found, grants = read.shown, read.found, read.grants
    ids = list(shown)
    if not shown:
        return ReportSection(
            [(p, incidents.figures([], {}, set(), clock.now())) for p in periods], []
        )
    written = dict(
        db.session.execute(
            select(IncidentReview.incident_id, IncidentReview.written_at).where(
                IncidentReview.incident_id.in_(ids)
            )
        ).all()
    )
    now = clock.now()
    late = {
        i.card_id
        for i in found
        if i.resolved is not None
        and reviews.is_late(i.resolved.at, written.get(i.card_id), now, tz)
    }
    figures = incidents.figures_by_period(bounds, found, grants, late, now)
    open_counts = dict(
        db.session.execute(
            select(IncidentFollowUp.incident_id, func.count())
            .join(Card, Card.id == IncidentFollowUp.card_id)
            .where(IncidentFollowUp.incident_id.in_(ids), Card.status == CardStatus.OPEN)
            .group_by(IncidentFollowUp.incident_id)
        ).all()
    )
    still_open = [
        FollowUpsOpen(card_id, shown[card_id].ref, shown[card_id].title, n, shown[card_id].drill)
        for card_id, n in sorted(open_counts.items())
    ]
    return ReportSection(list(zip(periods, figures, strict=True)), still_open)
