"""The post-incident review: its sections and their blameless prompts, when it counts as
written and when it is late, the follow-up a resolved incident offers, and its Markdown.

Blameless: the template asks what happened and what made it possible, never who is to
blame; people are named as the parts they played in the timeline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from tracker.domain.errors import InvalidRequest
from tracker.domain.incidents import REVIEW_WORKING_DAYS

# (key, heading, the template's prompt)
SECTIONS: tuple[tuple[str, str, str], ...] = (
    (
        "what_happened",
        "What happened",
        "The sequence of events in plain words, as the people involved saw it at the time.",
    ),
    (
        "impact",
        "Impact",
        "Who was affected, how, and for how long.",
    ),
    (
        "contributing_factors",
        "Contributing factors",
        "What in the system, the process or the circumstances made this possible. We look "
        "for conditions, not culprits: people did what made sense with what they knew.",
    ),
    (
        "went_well",
        "What went well",
        "What helped us notice, respond and recover.",
    ),
    (
        "to_change",
        "What to change",
        "What we will change so this is less likely or less harmful next time; each change "
        "becomes a follow-up card.",
    ),
)
SECTION_KEYS = tuple(key for key, _, _ in SECTIONS)
SECTION_LENGTH = 10_000
TITLE_LENGTH = 200


def check_sections(given: Mapping[str, str]) -> dict[str, str]:
    """The sections as kept (stripped), or InvalidRequest for one that is too long."""
    kept = {}
    for key, heading, _prompt in SECTIONS:
        value = (given.get(key) or "").strip()
        if len(value) > SECTION_LENGTH:
            raise InvalidRequest(f"Keep “{heading}” to {SECTION_LENGTH:,} characters or fewer.")
        kept[key] = value
    return kept


def is_written(sections: Mapping[str, str]) -> bool:
    """A review is written once every section says something."""
    return all((sections.get(key) or "").strip() for key in SECTION_KEYS)


def add_working_days(day: date, count: int) -> date:
    """The date `count` working days (Monday to Friday) after `day`."""
    while count > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day


def review_due(resolved_at: datetime, tz: ZoneInfo) -> date:
    """The last day the review of an incident resolved then is on time: 5 working days
    after the day it was resolved (on the board's calendar)."""
    return add_working_days(resolved_at.astimezone(tz).date(), REVIEW_WORKING_DAYS)


def is_late(
    resolved_at: datetime, written_at: datetime | None, now: datetime, tz: ZoneInfo
) -> bool:
    """Whether the review was not written within 5 working days of the resolution: written
    after its due day, or still not written after it."""
    due = review_due(resolved_at, tz)
    written_or_now = written_at if written_at is not None else now
    return written_or_now.astimezone(tz).date() > due


def check_title(title: str) -> str:
    """A follow-up card's title as kept."""
    title = " ".join(title.split())
    if not title:
        raise InvalidRequest("Give the follow-up a title.")
    if len(title) > TITLE_LENGTH:
        raise InvalidRequest(f"Keep the title to {TITLE_LENGTH} characters or fewer.")
    return title


def permanent_fix_title(mitigation_note: str) -> str:
    """The follow-up every resolved incident offers: make the temporary fix permanent."""
    note = " ".join(mitigation_note.split())
    title = (
        f"Make the temporary fix permanent: {note}" if note else "Make the temporary fix permanent"
    )
    return title[:TITLE_LENGTH]


def review_title(ref: str, title: str) -> str:
    """The review card's title."""
    return f"Post-incident review: {ref} {title}"[:TITLE_LENGTH]


def review_description(ref: str, stage_lines: Sequence[str]) -> str:
    """The review card's description, pre-filled: what it is for, the stages, the sections."""
    lines = [
        f"Blameless review of {ref}: what happened, what made it possible, what we change.",
        "",
        *stage_lines,
        "",
        *(f"- {heading}: {prompt}" for _key, heading, prompt in SECTIONS),
    ]
    return "\n".join(lines)


@dataclass(frozen=True)
class Line:
    """A timeline line for the Markdown: when (as shown), who, what."""

    at: str
    who: str
    text: str


@dataclass(frozen=True)
class Action:
    """An action item: a follow-up card and where it stands now."""

    ref: str
    title: str
    status: str  # where it stands, in words: "Support · In progress", "done"
    done: bool


def markdown(
    heading: str,
    stages: Sequence[str],
    participants: Sequence[str],
    sections: Mapping[str, str],
    actions: Sequence[Action],
    timeline: Sequence[Line],
) -> str:
    """The review as a Markdown document."""
    out = [f"# {heading}", ""]
    if stages:
        out += ["## Stages", "", *(f"- {line}" for line in stages), ""]
    out += ["## Who took part", ""]
    out += [f"- {name}" for name in participants] or ["- (nobody recorded)"]
    out.append("")
    for key, title, prompt in SECTIONS:
        out += [f"## {title}", "", sections.get(key, "").strip() or f"_{prompt}_", ""]
    out += ["## Action items", ""]
    out += [f"- [{'x' if a.done else ' '}] {a.ref} {a.title} ({a.status})" for a in actions]
    if not actions:
        out.append("- (none yet)")
    out += ["", "## Timeline", ""]
    out += [
        f"- {line.at} · {line.who}: {line.text}" if line.who else f"- {line.at} · {line.text}"
        for line in timeline
    ]
    return "\n".join(out).rstrip() + "\n"
