"""Personal access tokens' rules: their shape, whether one still works, and what its scope
lets it do. A token acts as its person, never beyond their role on the board (the policy
table), and a read token only reads (READ_ACTIONS)."""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime

from tracker.domain import policy
from tracker.domain.errors import InvalidRequest
from tracker.domain.policy import Action
from tracker.domain.vocabulary import TokenScope

# Every token starts with this, so a secret scanner (or a person) knows one on sight.
PREFIX = "wbpat_"
# What a token shows of itself once made: its prefix and the next few characters.
SHOWN = len(PREFIX) + 6
SHAPE = re.compile(r"wbpat_[A-Za-z0-9_-]{32,64}")
MAX_NAME = 80
MAX_DAYS = 366 * 2

# The actions a read token may take: reading the board, its reports and its audit log.
READ_ACTIONS = frozenset({Action.VIEW_BOARD, Action.VIEW_REPORT, Action.VIEW_AUDIT})


def digest(secret: str) -> str:
    """What is stored of a token: its SHA-256 (a high-entropy secret needs no slow hash)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def well_formed(secret: str) -> bool:
    """Whether a bearer value has a token's shape (anything else is refused unread)."""
    return SHAPE.fullmatch(secret) is not None


def usable(expires_at: datetime | None, revoked_at: datetime | None, now: datetime) -> bool:
    """A token works until revoked, and until its expiry when it has one."""
    return revoked_at is None and (expires_at is None or now < expires_at)


def may(scope: str, role: str | None, action: str) -> bool:
    """Whether a token of this scope, acting for a person of this role, may take the action:
    the role must allow it (policy.may), and a read token only reads."""
    if not policy.may(role, action):
        return False
    return scope == TokenScope.READ_WRITE or action in READ_ACTIONS


def check_new(name: str, scope: str, expires_on: date | None, today: date) -> str:
    """A new token's name, cleaned; refuse an empty or long name, an unknown scope or an
    expiry that is past or too far off."""
    name = " ".join(name.split())
    if not name:
        raise InvalidRequest("Give the token a name, so you know later what uses it.")
    if len(name) > MAX_NAME:
        raise InvalidRequest(f"A token's name is at most {MAX_NAME} characters.")
    if scope not in set(TokenScope):
        raise InvalidRequest("Choose read or read-write.")
    if expires_on is not None and not today < expires_on:
        raise InvalidRequest("Choose an expiry date after today, or none.")
    if expires_on is not None and (expires_on - today).days > MAX_DAYS:
        raise InvalidRequest(f"A token expires within {MAX_DAYS} days, or never.")
    return name
