"""Post-incident reviews and follow-ups (the rules are tracker.domain.reviews).

Resolving an incident offers, in one click, a review card in the Support lane, pre-filled
from the incident and editable, and its review page (the blameless template's sections);
and follow-up cards linked to the incident ("make the temporary fix permanent", each action
item), whose live status the review shows. Cards are made through the card path
(services.cards.place_new_card under the board's lock) and committed once with their link.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from tracker import clock, store
from tracker.domain import incidents, policy, reviews
from tracker.domain.emergency import waited
from tracker.domain.errors import InvalidRequest, NotFound
from tracker.domain.policy import Action
from tracker.domain.vocabulary import CardStatus, LaneKind, Severity
from tracker.extensions import db
from tracker.models import BreakGlassGrant, Card, IncidentFollowUp, IncidentReview
from tracker.services import cards
from tracker.services import incidents as incident_service
from tracker.services.common import Actor, get_card

FOLLOW_UP_LANES = (LaneKind.SUPPORT, LaneKind.FEATURE)


def _require_responder(actor: Actor) -> None:
    policy.require(actor.role, Action.CHANGE_CARDS)


def review_of(incident_id: int) -> IncidentReview | None:
    """The incident's review, if one was started."""
    return db.session.execute(
        select(IncidentReview).where(IncidentReview.incident_id == incident_id)
    ).scalar_one_or_none()


def review_for_card(card_id: int) -> IncidentReview | None:
    """The review a card is the review card of, if it is one."""
    return db.session.execute(
        select(IncidentReview).where(IncidentReview.card_id == card_id)
    ).scalar_one_or_none()


def follow_ups(incident_id: int) -> list[Card]:
    """The incident's follow-up cards, oldest first, with their lane and column."""
    return list(
        db.session.execute(
            select(Card)
            .join(IncidentFollowUp, IncidentFollowUp.card_id == Card.id)
            .options(joinedload(Card.lane), joinedload(Card.column), joinedload(Card.assignee))
            .where(IncidentFollowUp.incident_id == incident_id)
            .order_by(Card.id)
        ).scalars()
    )


def incident_of_follow_up(card_id: int) -> Card | None:
    """The incident a follow-up card follows up, if it is one."""
    return db.session.execute(
        select(Card)
        .join(IncidentFollowUp, IncidentFollowUp.incident_id == Card.id)
        .where(IncidentFollowUp.card_id == card_id)
    ).scalar_one_or_none()


@dataclass(frozen=True)
class ReadOut:
    """An incident as the API reads it out: the card panel's stages and grants, the review
    (None: not started) and the follow-up cards."""

    card: Card
    panel: incident_service.Panel
    review: IncidentReview | None
    follow_ups: list[Card]


def read_out(board_id: int, card_id: Any) -> ReadOut:
    """The card's incident; a card that never was one (never in Expedite): NotFound."""
    card = get_card(board_id, card_id)
    found = incident_service.panel(card)
    if found is None:
        raise NotFound(f"{card.ref} was never an incident.")
    return ReadOut(card, found, review_of(card.id), follow_ups(card.id))


def status_words(card: Card) -> str:
    """Where a follow-up stands: "Support · In progress (Mia)", "Done", "Closed"."""
    if card.status == CardStatus.DONE:
        return "Done"
    if card.status == CardStatus.CLOSED:
        return "Closed"
    held = f" ({card.assignee.name})" if card.assignee else ""
    return f"{card.lane.name} · {card.column.name}{held}"


def _resolved_incident(board_id: int, card_id: Any) -> tuple[Card, incidents.Incident]:
    card = get_card(board_id, card_id)
    found = incident_service.incident_of(card)
    if found is None:
        raise InvalidRequest(f"{card.ref} is not an incident: only Expedite cards are.")
    return card, found


def _stage_lines(card: Card, found: incidents.Incident, names: dict[int, str]) -> list[str]:
    lines = []
    for stage, mark, after in incidents.stage_marks(found):
        who = names.get(mark.by, "") if mark.by is not None else ""
        line = f"{stage.capitalize()} {mark.at:%Y-%m-%d %H:%M} UTC"
        line += f" by {who}" if who else ""
        line += (
            f", {waited(int(after.total_seconds() // 60))} after opening"
            if after is not None
            else ""
        )
        line += f": {mark.note}" if mark.note else ""
        lines.append(line)
    return lines


def start_review(board_id: int, actor: Actor, incident_id: Any) -> IncidentReview:
    """Make the resolved incident's review card in the Support lane, pre-filled, with its
    review (one click; a second click finds the one made)."""
    _require_responder(actor)
    state = store.load_locked(board_id)
    card, found = _resolved_incident(board_id, incident_id)
    if found.resolved is None:
        raise InvalidRequest(f"{card.ref} is not resolved yet: review it once it is done.")
    made = review_of(card.id)
    if made is not None:
        store.rollback()
        return made
    lane = state.lane_of_kind(LaneKind.SUPPORT)
    names = incident_service.names(board_id)
    stages = _stage_lines(card, found, names)
    fields = {
        "title": reviews.review_title(card.ref, card.title),
        "description": reviews.review_description(card.ref, stages),
        # Support work like any other request of the lane, not urgent (S3: minor).
        "severity": Severity.S3,
    }
    review_card = cards.place_new_card(state, actor, lane, fields)
    now = clock.now()
    review = IncidentReview(
        board_id=board_id,
        incident_id=card.id,
        card_id=review_card.id,
        what_happened="\n".join(stages),
        impact="",
        contributing_factors="",
        went_well="",
        to_change="",
        created_at=now,
        created_by_id=actor.id,
        updated_at=now,
    )
    db.session.add(review)
    store.commit(state, review_card)
    return review


def save_review(
    board_id: int, actor: Actor, incident_id: Any, sections: dict[str, str]
) -> IncidentReview:
    """Save the review's sections; the first save with every section written dates it."""
    _require_responder(actor)
    card = get_card(board_id, incident_id)
    review = review_of(card.id)
    if review is None:
        raise InvalidRequest(f"{card.ref} has no review yet: start it from the incident.")
    kept = reviews.check_sections(sections)
    for key, value in kept.items():
        setattr(review, key, value)
    now = clock.now()
    review.updated_at = now
    if review.written_at is None and reviews.is_written(kept):
        review.written_at = now
    db.session.commit()
    return review


def add_follow_up(
    board_id: int, actor: Actor, incident_id: Any, title: str, lane_kind: str
) -> Card:
    """Make a follow-up card of the incident in the Support or Feature lane's ready queue,
    linked to it."""
    _require_responder(actor)
    state = store.load_locked(board_id)
    card, _found = _resolved_incident(board_id, incident_id)
    if lane_kind not in FOLLOW_UP_LANES:
        raise InvalidRequest("Put a follow-up in the Support or the Feature lane.")
    title = reviews.check_title(title)
    lane = state.lane_of_kind(lane_kind)
    description = f"Follow-up of {card.ref} {card.title}."
    made = cards.place_new_card(state, actor, lane, {"title": title, "description": description})
    db.session.add(IncidentFollowUp(board_id=board_id, incident_id=card.id, card_id=made.id))
    return store.commit(state, made).card


@dataclass(frozen=True)
class ReviewPage:
    """What the review page shows: the incident, its stages, who took part, the review
    (None: not started), the follow-ups with their status, and the grants."""

    incident_card: Card
    incident: incidents.Incident
    stages: list[str]
    participants: list[str]
    review: IncidentReview | None
    follow_ups: list[Card]
    grants: list[BreakGlassGrant]
    late: bool


def review_page(board_id: int, incident_id: Any, timezone: str, history: list) -> ReviewPage:
    """The review page's content (history: the incident's events, oldest first)."""
    card, found = _resolved_incident(board_id, incident_id)
    names = incident_service.names(board_id)
    grants = incident_service.card_grants(card.id)
    people = {e.actor_id for e in history if e.actor_id is not None}
    people |= {g.holder_id for g in grants} | {g.buddy_id for g in grants if g.buddy_id}
    taking_part = sorted(names.get(i, "a former member") for i in people)
    taking_part += sorted({g.buddy_name for g in grants if g.buddy_name})
    review = review_of(card.id)
    late = False
    if found.resolved is not None:
        written = review.written_at if review is not None else None
        late = reviews.is_late(found.resolved.at, written, clock.now(), ZoneInfo(timezone))
    return ReviewPage(
        card,
        found,
        _stage_lines(card, found, names),
        taking_part,
        review,
        follow_ups(card.id),
        grants,
        late,
    )
