"""Who hears of a card event, and how each notification reads (pure functions).

A notification is derived from a card history event only (tracker.services.notifications
listens to the store's "history event written"): `recipients` decides who hears of one
event and why, from plain values. Each person hears of an event once, for the first reason
of REASONS that applies to them, and nobody ever hears of their own act.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tracker.domain import conversation
from tracker.domain.vocabulary import EventKind, MailMode, NoticeKind, Severity

# The reason of the COMMENTED event that files a requester's own reply (services.desk).
REQUESTER_REPLY = "reply from requester"

# The reasons, most specific first: someone assigned and watching hears "assigned".
REASONS = (
    NoticeKind.ASSIGNED,
    NoticeKind.MENTIONED,
    NoticeKind.ON_DUTY,
    NoticeKind.S1_FILED,
    NoticeKind.BLOCKED,
    NoticeKind.WIP_OVERRIDE,
    NoticeKind.WATCHING,
)
# The events a card's watchers hear of: a comment, or a move (a pull moves it too).
WATCHED_EVENTS = frozenset({EventKind.COMMENTED, EventKind.MOVED, EventKind.PULLED})
# Events that can make a card the S1 the board hears of: filed as S1, or raised to S1.
S1_EVENTS = frozenset({EventKind.CREATED, EventKind.ESCALATED})
# The key of a COMMENTED event's changes that names the people the comment mentions:
# {"mentioned": [[], [user ids]]} (the comment service writes it).
MENTIONED = conversation.MENTIONED

# Email: what a person gets when they never chose (assigned and mentioned at once).
DEFAULT_MAIL = {
    NoticeKind.ASSIGNED: MailMode.NOW,
    NoticeKind.MENTIONED: MailMode.NOW,
    NoticeKind.WATCHING: MailMode.OFF,
    NoticeKind.S1_FILED: MailMode.OFF,
    NoticeKind.BLOCKED: MailMode.OFF,
    NoticeKind.WIP_OVERRIDE: MailMode.OFF,
    # People on support duty hear of an S1 or S2 at once (the support rotation).
    NoticeKind.ON_DUTY: MailMode.NOW,
}


@dataclass(frozen=True)
class Recipient:
    """One person who hears of an event, and why."""

    user_id: int
    kind: NoticeKind


def mentioned_ids(changes: Mapping[str, Any]) -> set[int]:
    """The people a COMMENTED event's changes say the comment mentions (none if absent or
    malformed)."""
    value = changes.get(MENTIONED)
    if not isinstance(value, list | tuple) or len(value) != 2 or not isinstance(value[1], list):
        return set()
    return {uid for uid in value[1] if isinstance(uid, int) and not isinstance(uid, bool)}


def new_assignee(kind: str, changes: Mapping[str, Any], assignee_id: int | None) -> int | None:
    """Whom the event gives the card to: the new assignee its changes record, or (an
    assignment or pull that records none) the card's assignee; None if nobody new."""
    if "assignee_id" in changes:
        value = changes["assignee_id"]
        return value[1] if isinstance(value, list | tuple) and len(value) == 2 else None
    if kind in (EventKind.ASSIGNED, EventKind.PULLED):
        return assignee_id
    return None


def _made_s1(kind: str, changes: Mapping[str, Any]) -> bool:
    severity = changes.get("severity")
    return (
        kind in S1_EVENTS
        and isinstance(severity, list | tuple)
        and len(severity) == 2
        and severity[1] == Severity.S1
    )


def made_urgent(kind: str, changes: Mapping[str, Any]) -> bool:
    """A card filed as S1 or S2, or escalated to Expedite: the people on support duty hear
    of it at once."""
    if kind == EventKind.ESCALATED:
        return True
    severity = changes.get("severity")
    return (
        kind == EventKind.CREATED
        and isinstance(severity, list | tuple)
        and len(severity) == 2
        and severity[1] in (Severity.S1, Severity.S2)
    )


def may_notify(kind: str, changes: Mapping[str, Any]) -> bool:
    """Whether `recipients` could name anyone for this event, whoever is on the board: a
    listener reads the card's people only then (an edit or a reorder reads nothing)."""
    return (
        kind in WATCHED_EVENTS
        or kind in (EventKind.ASSIGNED, EventKind.BLOCKED, EventKind.UNBLOCKED)
        or kind == EventKind.WIP_OVERRIDE
        or "assignee_id" in changes
        or _made_s1(kind, changes)
        or made_urgent(kind, changes)
    )


def recipients(
    kind: str,
    actor_id: int | None,
    changes: Mapping[str, Any],
    assignee_id: int | None,
    watcher_ids: Iterable[int],
    mentioned: Iterable[int],
    member_ids: Iterable[int],
    on_duty: Iterable[int] = (),
) -> list[Recipient]:
    """Who hears of one card event, each once, for the first reason of REASONS.

    - assigned: the event gives the card a new assignee (an assignment, a pull, a move
      that makes the mover its holder);
    - mentioned: a comment's mentions;
    - on_duty: the people on support duty (`on_duty`), for a card filed as S1 or S2 or
      escalated to Expedite;
    - s1_filed: a card filed as (or raised to) S1: everyone of `member_ids` (the board's
      members and leads: those who can take it);
    - blocked: the card's assignee, when it is blocked or unblocked;
    - wip_override: the card's assignee, when a move of it went over a WIP limit;
    - watching: the card's watchers, for a comment or a move.
    `assignee_id` is the card's assignee after the event. The actor hears of nothing.
    """
    reasons: dict[NoticeKind, set[int]] = {reason: set() for reason in REASONS}
    given_to = new_assignee(kind, changes, assignee_id)
    if given_to is not None:
        reasons[NoticeKind.ASSIGNED].add(given_to)
    if kind == EventKind.COMMENTED:
        reasons[NoticeKind.MENTIONED].update(mentioned)
    if made_urgent(kind, changes):
        reasons[NoticeKind.ON_DUTY].update(on_duty)
    if _made_s1(kind, changes):
        reasons[NoticeKind.S1_FILED].update(member_ids)
    if kind in (EventKind.BLOCKED, EventKind.UNBLOCKED) and assignee_id is not None:
        reasons[NoticeKind.BLOCKED].add(assignee_id)
    if kind == EventKind.WIP_OVERRIDE and assignee_id is not None:
        reasons[NoticeKind.WIP_OVERRIDE].add(assignee_id)
    if kind in WATCHED_EVENTS:
        reasons[NoticeKind.WATCHING].update(watcher_ids)
    found: dict[int, NoticeKind] = {}
    for reason in REASONS:
        for user_id in sorted(reasons[reason]):
            if user_id is not None and user_id != actor_id:
                found.setdefault(user_id, reason)
    return [Recipient(user_id, reason) for user_id, reason in sorted(found.items())]


# Email preferences -------------------------------------------------------------------------


def mail_mode(preferences: Mapping[str, Any] | None, kind: str) -> MailMode:
    """How a person gets mail of this kind: their choice if they made a valid one, else
    the default (DEFAULT_MAIL)."""
    chosen = (preferences or {}).get(kind)
    if chosen in MailMode.__members__.values():
        return MailMode(chosen)
    return DEFAULT_MAIL.get(NoticeKind(kind), MailMode.OFF)


def all_modes(preferences: Mapping[str, Any] | None) -> dict[NoticeKind, MailMode]:
    """Every kind's mail mode for a person (the account page shows them)."""
    return {kind: mail_mode(preferences, kind) for kind in NoticeKind}


def with_mode(preferences: Mapping[str, Any] | None, kind: str, mode: str) -> dict[str, str]:
    """The preferences with one kind set to a mode (both checked: ValueError otherwise)."""
    return {**(preferences or {}), NoticeKind(kind).value: MailMode(mode).value}


# Digests ---------------------------------------------------------------------------------


def day_bounds(day: date, zone: str) -> tuple[datetime, datetime]:
    """The start and end (exclusive) of a calendar day in a time zone, as aware times."""
    tz = ZoneInfo(zone)
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return start, end


def digest_day(now: datetime, zone: str) -> date:
    """The day a digest sent now covers: yesterday in the person's time zone (the last
    whole day, so each day is covered once, whenever the daily run happens)."""
    return now.astimezone(ZoneInfo(zone)).date() - timedelta(days=1)


# Words -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Told:
    """What a notification's sentence is made of (plain values read with it)."""

    kind: str  # NoticeKind
    event_kind: str  # EventKind
    actor: str  # the actor's name ("" when unknown)
    ref: str
    title: str
    to_column: str = ""  # the column a move took the card to
    reason: str = ""  # a block's or an override's why


def sentence(told: Told) -> str:
    """One notification as a sentence: "Ann assigned you SUP-12: Login fails"."""
    who = told.actor or "Someone"
    card = f"{told.ref}: {told.title}"
    if told.kind == NoticeKind.ASSIGNED:
        return f"{who} assigned you {card}"
    if told.kind == NoticeKind.MENTIONED:
        return f"{who} mentioned you on {card}"
    if told.kind == NoticeKind.ON_DUTY:
        if told.event_kind == EventKind.ESCALATED:
            return f"You are on support duty: {who} escalated {card} to Expedite"
        return f"You are on support duty: {card} came in, filed by {who}"
    if told.kind == NoticeKind.S1_FILED:
        return f"Production emergency (S1) on your board: {card}, filed by {who}"
    if told.kind == NoticeKind.BLOCKED:
        if told.event_kind == EventKind.UNBLOCKED:
            return f"{who} unblocked your card {card}"
        return f"{who} blocked your card {card}" + (
            f" (waiting for: {told.reason})" if told.reason else ""
        )
    if told.kind == NoticeKind.WIP_OVERRIDE:
        return f"{who} took your card {card} over a WIP limit" + (
            f": {told.reason}" if told.reason else ""
        )
    if told.event_kind == EventKind.COMMENTED and told.reason == REQUESTER_REPLY:
        return f"The requester answered on {card}"
    if told.event_kind == EventKind.COMMENTED:
        return f"{who} commented on {card} (you watch it)"
    where = f" to {told.to_column}" if told.to_column else ""
    return f"{who} moved {card}{where} (you watch it)"
