"""The board's filter as its address carries it (`?q=export&lane=support&who=me&sev=S1`):
parsed from the query string's pairs into a typed filter, and written back to pairs in one
order, so a filtered board can be linked, shared and reloaded.

A value that makes no sense (an unknown lane, `age=-3`, a label id that is not a number)
is dropped alone: the rest of the filter holds. Within one kind of chip the values are
alternatives (lane=support&lane=feature: either lane); the kinds narrow one another.

The names are the query string's; none is the name of a field of a card form (a board's
forms post the filter along, see templates/board/page.html): `who`, not `assignee`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from tracker.domain.vocabulary import LaneKind, Severity

ME, NOBODY = "me", "nobody"
# The ages a person can pick (days in the column, more than); any whole number up to
# MAX_AGE is taken from a typed address.
AGES = (1, 3, 7, 14, 30)
MAX_AGE = 3650
MAX_TEXT = 100
ID = re.compile(r"[1-9][0-9]{0,9}")
ID_MAX = 2**31 - 1
# C0 control characters and DEL: no database stores NUL, and none belongs in a search.
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
NAMES = ("q", "lane", "who", "sev", "blocked", "age", "label")


@dataclass(frozen=True)
class BoardFilter:
    """Which cards the board shows. Empty tuples and None mean "any"."""

    q: str = ""
    lanes: tuple[str, ...] = ()
    # "me", "nobody" and people's ids as strings, in the order given.
    who: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    # True: only blocked cards; False: only cards not blocked.
    blocked: bool | None = None
    # Only cards more than this many whole days in their column.
    older_than: int | None = None
    labels: tuple[int, ...] = ()

    @property
    def empty(self) -> bool:
        return self == BoardFilter()

    @property
    def chips(self) -> int:
        """How many chips are on (everything but the text)."""
        values = (*self.lanes, *self.who, *self.severities, *self.labels)
        return len(values) + (self.blocked is not None) + (self.older_than is not None)

    @property
    def people(self) -> tuple[int, ...]:
        """The people's ids among `who`."""
        return tuple(int(value) for value in self.who if value not in (ME, NOBODY))

    def pairs(self) -> list[tuple[str, str]]:
        """The filter as query-string pairs, in NAMES order: parse_filter's inverse."""
        found: list[tuple[str, str]] = []
        if self.q:
            found.append(("q", self.q))
        found += [("lane", lane) for lane in self.lanes]
        found += [("who", who) for who in self.who]
        found += [("sev", severity) for severity in self.severities]
        if self.blocked is not None:
            found.append(("blocked", "1" if self.blocked else "0"))
        if self.older_than is not None:
            found.append(("age", str(self.older_than)))
        found += [("label", str(label)) for label in self.labels]
        return found

    def admits(
        self,
        *,
        lane_kind: str,
        assignee_id: int | None,
        severity: str | None,
        blocked: bool,
        days: int,
        label_ids: Iterable[int],
        me: int | None,
    ) -> bool:
        """Whether a card passes every chip of the filter (the text is matched apart, by
        the database's full-text index: tracker.services.search)."""
        if self.lanes and lane_kind not in self.lanes:
            return False
        if self.who and not self._holder_matches(assignee_id, me):
            return False
        if self.severities and severity not in self.severities:
            return False
        if self.blocked is not None and blocked != self.blocked:
            return False
        if self.older_than is not None and days <= self.older_than:
            return False
        return not self.labels or not set(self.labels).isdisjoint(label_ids)

    def _holder_matches(self, assignee_id: int | None, me: int | None) -> bool:
        if assignee_id is None:
            return NOBODY in self.who
        return (ME in self.who and assignee_id == me) or assignee_id in self.people


def _unique(values: Iterable) -> tuple:
    return tuple(dict.fromkeys(values))


def _id(value: str) -> int | None:
    return int(value) if ID.fullmatch(value) and int(value) <= ID_MAX else None


def parse_filter(pairs: Iterable[tuple[str, str]]) -> BoardFilter:
    """The filter in a query string's (name, value) pairs; other names are ignored, and so
    is each value that makes no sense, alone. `mine=1` (the board's old checkbox) is
    `who=me`."""
    values: dict[str, list[str]] = {name: [] for name in (*NAMES, "mine")}
    for name, value in pairs:
        if name in values and isinstance(value, str):
            values[name].append(value if name == "q" else value.strip())
    text = CONTROL.sub("", next((v for v in values["q"] if v.strip()), "")).lstrip()
    lanes = [v for v in values["lane"] if v in set(LaneKind)]
    who = [v for v in values["who"] if v in (ME, NOBODY) or _id(v) is not None]
    if "1" in values["mine"]:
        who.insert(0, ME)
    severities = [v.upper() for v in values["sev"] if v.upper() in set(Severity)]
    blocked = next((v == "1" for v in values["blocked"] if v in ("0", "1")), None)
    ages = [int(v) for v in values["age"] if v.isascii() and v.isdigit() and len(v) < 6]
    ages = [age for age in ages if 0 <= age <= MAX_AGE]
    labels = [label for label in map(_id, values["label"]) if label is not None]
    return BoardFilter(
        q=text[:MAX_TEXT],
        lanes=_unique(lanes),
        who=_unique(str(_id(v)) if v not in (ME, NOBODY) else v for v in who),
        severities=_unique(severities),
        blocked=blocked,
        older_than=ages[0] if ages else None,
        labels=_unique(labels),
    )
