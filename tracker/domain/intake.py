"""Support intake rules: severities, where a request goes and where it ranks, plain status."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from tracker.domain.errors import InvalidRequest
from tracker.domain.vocabulary import (
    CardStatus,
    ColumnKind,
    LaneKind,
    RequestStatus,
    Severity,
    Visibility,
)

# Most urgent first. S1 pre-empts everything (the Expedite lane); the rest queue in Support.
SEVERITIES = tuple(Severity)
SEVERITY_NAMES = {severity: severity.label for severity in Severity}
VISIBILITIES = tuple(Visibility)
OTHER_COMPONENT = "Other"
MAX_COMPONENTS = 100
COMPONENT_LENGTH = 80
# A requester's reply (the status page, or a mail: services.desk, services.inbound).
REQUESTER_REPLY_LENGTH = 5_000


def priority(severity: str | None) -> int:
    """Lower is more urgent; a card without a (known) severity comes after every severity."""
    try:
        return SEVERITIES.index(severity or "")
    except ValueError:
        return len(SEVERITIES)


def check_severity(severity: str) -> str:
    if severity not in SEVERITIES:
        raise InvalidRequest("Choose a severity from the list (S1 to S4).")
    return severity


def lane_kind_for(severity: str) -> str:
    """S1 (production down) goes to the Expedite lane; S2 to S4 go to Support."""
    return LaneKind.EXPEDITE if check_severity(severity) == Severity.S1 else LaneKind.SUPPORT


def slot_after(queue: Sequence[tuple[int, str | None]], severity: str) -> int:
    """Where a new request goes in a ready queue of (card id, severity), top to bottom.

    After every card of equal or higher priority, so S2 sits above S3 above S4 and, within
    a severity, older requests stay above newer ones. Returns the id of the card to place
    it after, or 0 for the top of the queue.
    """
    urgent = as_urgent(severity)
    after = 0
    for card_id, other in queue:
        if other in urgent:
            after = card_id
    return after


def as_urgent(severity: str) -> tuple[str, ...]:
    """The severities as urgent as this one or more: a new request goes below every card
    of these (slot_after; services.intake asks the database for the last of them)."""
    mine = priority(severity)
    return tuple(s for s in SEVERITIES if priority(s) <= mine)


def check_component(name: str, known: Sequence[str]) -> str:
    """The component as stored: one of the board's list, or Other."""
    if name == OTHER_COMPONENT or name in known:
        return name
    raise InvalidRequest("Choose a component from the list, or Other if none fits.")


def clean_component_name(name: str, existing: Sequence[str]) -> str:
    """A new component's name: not empty, not too long, not Other, not already listed."""
    name = " ".join(name.split())
    if not name:
        raise InvalidRequest("Give the component a name.")
    if len(name) > COMPONENT_LENGTH:
        raise InvalidRequest(f"A component name is at most {COMPONENT_LENGTH} characters.")
    if name.casefold() == OTHER_COMPONENT.casefold():
        raise InvalidRequest("Other is always offered; give the component a more specific name.")
    for other in existing:
        if other.casefold() == name.casefold():
            raise InvalidRequest(f"{other} is already in the list.")
    if len(existing) >= MAX_COMPONENTS:
        raise InvalidRequest(f"A board can list at most {MAX_COMPONENTS} components.")
    return name


def check_visibility(visibility: str) -> str:
    if visibility not in VISIBILITIES:
        raise InvalidRequest("Choose whether this is an internal note or a reply to the requester.")
    return visibility


@dataclass(frozen=True)
class PlainStatus:
    """A request's status in words a requester understands."""

    key: str  # received, working, review, done, closed
    label: str


def plain_status(
    status: str, column_kind: str, active_index: int | None, close_reason: str = ""
) -> PlainStatus:
    """Received (waiting in a queue), being worked on (first active column), in review (a
    later active column), done, or closed without doing it (with the reason).

    active_index is the column's position among the board's active columns (0 = first).
    """
    if status == CardStatus.CLOSED:
        closed = RequestStatus.CLOSED
        label = f"{closed.label} ({close_reason})" if close_reason else closed.label
        return PlainStatus(closed, label)
    if status == CardStatus.DONE or column_kind == ColumnKind.DONE:
        key = RequestStatus.DONE
    elif column_kind == ColumnKind.ACTIVE:
        key = RequestStatus.REVIEW if active_index else RequestStatus.WORKING
    else:
        key = RequestStatus.RECEIVED
    return PlainStatus(key, key.label)


def request_status(
    status: str, column_id: int | None, columns: Sequence[tuple[int, str]], close_reason: str = ""
) -> PlainStatus:
    """A request's plain-words status from where its card sits on the board: the one rule
    the status page, My requests, the request page and the mail to the requester share.

    columns are the board's (id, kind) pairs, left to right.
    """
    kinds = dict(columns)
    active = [column for column, kind in columns if kind == ColumnKind.ACTIVE]
    index = active.index(column_id) if column_id in active else None
    return plain_status(status, kinds.get(column_id, ""), index, close_reason)


def first_name(name: str) -> str:
    """What the public status page calls a team member: the first word of their name."""
    parts = name.split()
    return parts[0] if parts else ""


def status_token(secret: str | bytes, seed: str) -> str:
    """The status link token the server derives from a random seed and its secret key.

    The first mail's link is made this way so that the outbox keeps only the seed until the
    mail is sent (then not even that): the database alone never gives the link.
    """
    key = secret.encode() if isinstance(secret, str) else secret
    digest = hmac.new(key, b"weatherboard status link\0" + seed.encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode("ascii")
