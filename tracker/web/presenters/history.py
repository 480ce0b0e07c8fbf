"""A card's history in words: each event as a sentence about the card, "moved it from In
progress to Review", "blocked it: waiting for the provider's keys", with names for the ids
it holds; never a raw field, a flag as True or False, or a value said twice.

Plain Python over an event's kind, its recorded changes ({field: [old, new]}) and its
reason, so every kind of event is unit-tested (tests/test_history_words.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from tracker.domain.conversation import MENTIONED

FORMER = "a former member"
# Fields an edit says in words ("renamed it...", "set the severity..."), in this order.
EDITED_FIELDS = ("title", "description", "estimate", "severity", "component", "requester")
COMMENTS = {
    "internal note": "wrote an internal note",
    "reply to requester": "replied to the requester",
    "reply from requester": "filed the requester's reply",
}
NOUNS = {
    "estimate": "the estimate",
    "severity": "the severity",
    "component": "the component",
    "requester": "the requester",
}


def _shown(value: Any) -> str:
    return "" if value is None else str(value)


class Words:
    """Names for a board's ids (lanes, columns, people), and the sentences of its cards'
    events made with them."""

    def __init__(
        self,
        lanes: Mapping[int, str],
        columns: Mapping[int, str],
        people: Mapping[int, str],
    ) -> None:
        self.lanes, self.columns, self.people = lanes, columns, people

    def person(self, user_id: Any) -> str:
        return self.people.get(user_id, FORMER)

    def place(self, changes: Mapping[str, list], end: int) -> str:
        """The card's cell before (end 0) or after (end 1) an event: "Review", or "Support ·
        Review" when the lane changed too."""
        column = self.columns.get(changes["column_id"][end], "a former column")
        if "lane_id" not in changes:
            return column
        return f"{self.lanes.get(changes['lane_id'][end], 'a former lane')} · {column}"

    def sentence(self, kind: str, changes: Mapping[str, list], reason: str, actor_id: Any) -> str:
        """What the event did, as the rest of a sentence whose subject is its actor."""
        said = getattr(self, f"_{kind}", None)
        return said(changes or {}, reason, actor_id) if said else kind.replace("_", " ")

    # One method per EventKind: _<kind>(changes, reason, actor_id).

    def _created(self, changes, reason, actor_id) -> str:
        lane = self.lanes.get((changes.get("lane_id") or [None, None])[1])
        column = self.columns.get((changes.get("column_id") or [None, None])[1])
        where = " · ".join(name for name in (lane, column) if name)
        return f"created it in {where}" if where else "created it"

    def _moved(self, changes, reason, actor_id) -> str:
        if "column_id" in changes:
            text = f"moved it from {self.place(changes, 0)} to {self.place(changes, 1)}"
        elif "lane_id" in changes:
            old, new = (self.lanes.get(x, "a former lane") for x in changes["lane_id"])
            text = f"moved it from {old} to {new}"
        else:
            text = "moved it"
        return text + self._and_assigned(changes, actor_id) + (f": {reason}" if reason else "")

    def _escalated(self, changes, reason, actor_id) -> str:
        return "escalated it: " + self._moved(changes, reason, actor_id).removeprefix("moved it ")

    def _deescalated(self, changes, reason, actor_id) -> str:
        return "moved it out of Expedite: " + self._moved(changes, reason, actor_id).removeprefix(
            "moved it "
        )

    def _pulled(self, changes, reason, actor_id) -> str:
        into = self.columns.get((changes.get("column_id") or [None, None])[1])
        text = f"pulled it into {into}" if into else "pulled it"
        new = (changes.get("assignee_id") or [None, actor_id])[1]
        return text if new == actor_id else f"{text} for {self.person(new)}"

    def _assigned(self, changes, reason, actor_id) -> str:
        old, new = changes.get("assignee_id") or [None, None]
        if new is None:
            text = f"unassigned {self.person(old)}" if old is not None else "unassigned it"
        elif new == actor_id:
            text = "took it"
        else:
            text = f"assigned it to {self.person(new)}"
        return text + (f": {reason}" if reason else "")

    def _and_assigned(self, changes, actor_id) -> str:
        if "assignee_id" not in changes:
            return ""
        new = changes["assignee_id"][1]
        if new is None:
            return " and unassigned it"
        return " and took it" if new == actor_id else f" and assigned it to {self.person(new)}"

    def _edited(self, changes, reason, actor_id) -> str:
        parts = []
        for name in EDITED_FIELDS:
            if name not in changes:
                continue
            old, new = (_shown(x) for x in changes[name])
            if name == "title":
                parts.append(f"renamed it from “{old}” to “{new}”")
            elif name == "description":
                parts.append("changed the description")
            elif not new:
                parts.append(f"cleared {NOUNS[name]} (was {old})")
            elif not old:
                parts.append(f"set {NOUNS[name]} to {new}")
            else:
                parts.append(f"changed {NOUNS[name]} from {old} to {new}")
        if "labels" in changes:
            parts += _label_parts(*changes["labels"])
        return _joined(parts) or "edited it"

    def _blocked(self, changes, reason, actor_id) -> str:
        why = reason or _shown((changes.get("blocked_reason") or ["", ""])[1])
        return f"blocked it: {why}" if why else "blocked it"

    def _unblocked(self, changes, reason, actor_id) -> str:
        return f"unblocked it: {reason}" if reason else "unblocked it"

    def _closed(self, changes, reason, actor_id) -> str:
        why = reason or _shown((changes.get("close_reason") or ["", ""])[1])
        return f"closed it: {why}" if why else "closed it"

    def _reopened(self, changes, reason, actor_id) -> str:
        into = self.columns.get((changes.get("column_id") or [None, None])[1])
        text = f"reopened it into {into}" if into else "reopened it"
        return f"{text}: {reason}" if reason else text

    def _reordered(self, changes, reason, actor_id) -> str:
        text = "changed its place in the column"
        return f"{text}: {reason}" if reason else text

    def _commented(self, changes, reason, actor_id) -> str:
        # services.intake records which kind of comment it was as the reason.
        said = COMMENTS.get(reason, f"wrote a comment: {reason}" if reason else "wrote a comment")
        return said + self._and_mentioned(changes)

    def _comment_edited(self, changes, reason, actor_id) -> str:
        # services.conversation records that it happened, never what the comment said.
        return "edited a comment" + self._and_mentioned(changes)

    def _comment_deleted(self, changes, reason, actor_id) -> str:
        return "deleted a comment"

    def _and_mentioned(self, changes) -> str:
        ids = (changes.get(MENTIONED) or [[], []])[1]
        return f", mentioning {_joined([self.person(i) for i in ids])}" if ids else ""

    def _interrupted(self, changes, reason, actor_id) -> str:
        # services.cards records who took it, and who was on duty, as the reason.
        return f"noted an interruption: {reason}" if reason else "noted an interruption"

    # Incidents (services.incidents): the reason holds the note, the log line, or what a
    # grant is on; the changes name the grant's holder.

    def _mitigated(self, changes, reason, actor_id) -> str:
        return f"mitigated it: {reason}" if reason else "mitigated it"

    def _incident_log(self, changes, reason, actor_id) -> str:
        return f"logged: {reason}" if reason else "wrote in the incident log"

    def _drill_marked(self, changes, reason, actor_id) -> str:
        marked = (changes.get("drill") or [False, True])[1]
        return "marked it a drill" if marked else "marked it a real incident, not a drill"

    def _grant_opened(self, changes, reason, actor_id) -> str:
        holder = (changes.get("holder") or [None, None])[1]
        who = f" for {self.person(holder)}" if holder is not None else ""
        return f"recorded break-glass access{who}" + (f" on {reason}" if reason else "")

    def _grant_ended(self, changes, reason, actor_id) -> str:
        holder = (changes.get("holder") or [None, None])[0]
        who = f" of {self.person(holder)}" if holder is not None else ""
        return f"confirmed break-glass access{who} revoked" + (f" on {reason}" if reason else "")

    def _grant_left_open(self, changes, reason, actor_id) -> str:
        text = "left break-glass access open on resolving"
        return f"{text}: {reason}" if reason else text

    def _awaiting(self, changes, reason, actor_id) -> str:
        return "set it to wait for the requester"

    def _resumed(self, changes, reason, actor_id) -> str:
        # services.desk records why the waiting ended as the reason.
        return (
            f"stopped waiting for the requester: {reason}"
            if reason
            else ("stopped waiting for the requester")
        )

    def _wip_override(self, changes, reason, actor_id) -> str:
        return f"went over a WIP limit: {reason}" if reason else "went over a WIP limit"


def _label_parts(old: list[str], new: list[str]) -> list[str]:
    """A label change in words: "added the label Bug", "removed the labels A and B"."""
    parts = []
    for verb, names in (
        ("added", [n for n in new if n not in old]),
        ("removed", [n for n in old if n not in new]),
    ):
        if names:
            noun = "label" if len(names) == 1 else "labels"
            parts.append(f"{verb} the {noun} {_joined(names)}")
    return parts


def _joined(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def words_for(board, members) -> Words:
    """The Words of a board: its lanes and columns, and its members by name."""
    return Words(
        {lane.id: lane.name for lane in board.lanes},
        {column.id: column.name for column in board.columns},
        {user.id: user.name for user, _ in members},
    )


def describer(board, members) -> Callable[[Any], str]:
    """A function that says one history event (a CardEvent) in words: its actor's part of
    the sentence (see Words.sentence)."""
    words = words_for(board, members)

    def describe(event) -> str:
        return words.sentence(event.kind, event.changes, event.reason or "", event.actor_id)

    return describe
