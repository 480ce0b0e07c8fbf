"""An incident's timeline as the card shows it: its stages, its log and its history (the
grants' starts and ends are history events too) in one list, oldest first."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tracker.domain.emergency import waited
from tracker.domain.incidents import ACKNOWLEDGED, MITIGATED, OPENED, RESOLVED
from tracker.domain.reviews import permanent_fix_title
from tracker.domain.vocabulary import EventKind
from tracker.services import incidents, reviews

STAGE_WORDS = {
    OPENED: "Opened",
    ACKNOWLEDGED: "Acknowledged",
    MITIGATED: "Mitigated",
    RESOLVED: "Resolved",
}


@dataclass(frozen=True)
class Entry:
    """One line of the timeline: when, who, what; a stage's line names the stage."""

    at: datetime
    who: str
    text: str
    stage: str = ""  # the stage reached ("" for an event)
    log: bool = False  # a line of the incident log


def took(delta) -> str:
    """How long after opening, in words ("2 min")."""
    return waited(int(delta.total_seconds() // 60)) if delta is not None else ""


def timeline(panel, history: list[Any], describe: Callable[[Any], str]) -> list[Entry]:
    """The stages (with how long each took) and the card's events merged by time; a stage
    comes before the event that reached it."""
    entries = []
    for stage, mark, after in panel.stages:
        who = panel.names.get(mark.by, "") if mark.by is not None else ""
        text = STAGE_WORDS[stage] + (f" after {took(after)}" if after is not None else "")
        if mark.note:
            text += f": {mark.note}"
        entries.append((mark.at, 0, Entry(mark.at, who, text, stage=stage)))
    for index, event in enumerate(history):
        who = event.actor.name if event.actor else "Weatherboard"
        log = event.kind == EventKind.INCIDENT_LOG
        entries.append((event.at, 1 + index, Entry(event.at, who, describe(event), log=log)))
    entries.sort(key=lambda item: (item[0], item[1]))
    return [entry for _, _, entry in entries]


def section(card, history: list[Any], describe: Callable[[Any], str], **shown) -> dict[str, Any]:
    """What templates/board/_incident.html needs beside the board, the card and the people:
    the incident (None: the card never was one), its timeline, and what the last answer
    shows (a notice, or an error with what was typed)."""
    found = incidents.panel(card, history)
    mitigated = found.incident.mitigated if found is not None else None
    return {
        "incident": found,
        "timeline": timeline(found, history, describe) if found is not None else [],
        "took": took,
        "shown": shown,
        # After the incident: its review and follow-ups; on a review or follow-up card, the
        # incident it belongs to.
        "review": reviews.review_of(card.id) if found is not None else None,
        "follow_ups": reviews.follow_ups(card.id) if found is not None else [],
        "permanent_fix": permanent_fix_title(mitigated.note if mitigated else ""),
        "reviewing": reviews.review_for_card(card.id) if found is None else None,
        "following": reviews.incident_of_follow_up(card.id) if found is None else None,
        "status_words": reviews.status_words,
    }
