"""The production-emergency banner: what it says about the S1 incidents not mitigated yet
(unassigned for how long, or their stage once someone is on them), and about break-glass
access left open too long."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Waiting:
    """An S1 card in the Expedite lane not mitigated yet: with nobody on it (stage ""), or
    with its incident's stage line once someone is (domain.incidents.stage_line)."""

    card_id: int
    ref: str
    title: str
    created_at: datetime
    stage: str = ""
    drill: bool = False


@dataclass(frozen=True, slots=True)
class OpenAccess:
    """Break-glass access still open past its expected end or a day: who, on what, since
    when (as the board's clock shows it, "14:02")."""

    card_id: int
    holder: str
    target: str
    since: str


@dataclass(frozen=True, slots=True)
class Alarm:
    """One line of the banner."""

    card_id: int
    ref: str
    title: str
    text: str  # "Production emergency: EXP-3 — unassigned for 4 min"
    drill: bool = False


@dataclass(frozen=True, slots=True)
class Banner:
    """The banner's lines (oldest emergency first) and a key that changes when they do."""

    alarms: tuple[Alarm, ...]
    key: str

    def __bool__(self) -> bool:
        return bool(self.alarms)


def waited(minutes: int) -> str:
    """A wait in plain words: "less than 1 min", "4 min", "2 h", "2 h 5 min", "1 d 3 h"."""
    minutes = max(0, minutes)
    if minutes < 1:
        return "less than 1 min"
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 24 * 60:
        hours, rest = divmod(minutes, 60)
        return f"{hours} h {rest} min" if rest else f"{hours} h"
    days, rest = divmod(minutes, 24 * 60)
    hours = rest // 60
    return f"{days} d {hours} h" if hours else f"{days} d"


def _said(card: Waiting, now: datetime) -> str:
    opening = "Drill" if card.drill else "Production emergency"
    if card.stage:
        return f"{opening}: {card.stage}"
    wait = waited(int((now - card.created_at).total_seconds() // 60))
    return f"{opening}: {card.ref} — unassigned for {wait}"


def banner(waiting: Iterable[Waiting], now: datetime, access: Iterable[OpenAccess] = ()) -> Banner:
    """The banner for the S1 incidents not mitigated at `now`: one line each, the longest
    wait first; then a line for each grant open too long (oldest first, as given).

    The key is a short digest of everything the banner shows, so a client that already
    shows it can be told "nothing changed" instead of being sent it again.
    """
    alarms = tuple(
        Alarm(card.card_id, card.ref, card.title, _said(card, now), card.drill)
        for card in sorted(waiting, key=lambda c: (c.created_at, c.card_id))
    ) + tuple(
        Alarm(
            grant.card_id,
            "",
            "",
            f"Break-glass access still open: {grant.holder} on {grant.target} since {grant.since}",
        )
        for grant in access
    )
    return Banner(alarms, banner_key(alarms))


def banner_key(alarms: Iterable[Alarm]) -> str:
    """A short digest of the banner's content ("" when there is no banner)."""
    shown = "\n".join(f"{a.card_id}\t{a.text}\t{a.title}" for a in alarms)
    if not shown:
        return ""
    return hashlib.blake2s(shown.encode(), digest_size=8).hexdigest()
