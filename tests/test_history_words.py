"""A card's history in words (tracker.web.presenters.history): every kind of event reads as
a sentence about the card, with names for ids, and never shows a raw field, a flag as
True/False, or a value twice."""

from __future__ import annotations

import re

import pytest

from tracker.domain.vocabulary import EventKind
from tracker.web.presenters.history import Words

SUP, FEAT, EXP = 1, 2, 3
READY, DOING, REVIEW, DONE = 10, 11, 12, 13
MIA, BOB = 7, 8
WORDS = Words(
    {SUP: "Support", FEAT: "Feature", EXP: "Expedite"},
    {READY: "Ready", DOING: "In progress", REVIEW: "Review", DONE: "Done"},
    {MIA: "Mia", BOB: "Bob"},
)


def said(kind, changes=None, reason="", actor=MIA) -> str:
    return WORDS.sentence(kind, changes or {}, reason, actor)


CASES = [
    (
        EventKind.CREATED,
        {"lane_id": [None, FEAT], "column_id": [None, READY], "title": [None, "X"]},
        "",
        "created it in Feature · Ready",
    ),
    (EventKind.MOVED, {"column_id": [DOING, REVIEW]}, "", "moved it from In progress to Review"),
    (
        EventKind.MOVED,
        {"lane_id": [FEAT, SUP], "column_id": [READY, DOING]},
        "",
        "moved it from Feature · Ready to Support · In progress",
    ),
    (
        EventKind.MOVED,
        {"column_id": [REVIEW, DONE], "status": ["open", "done"]},
        "",
        "moved it from Review to Done",
    ),
    (
        EventKind.MOVED,
        {"column_id": [READY, DOING], "assignee_id": [None, MIA]},
        "",
        "moved it from Ready to In progress and took it",
    ),
    (
        EventKind.MOVED,
        {"column_id": [READY, DOING], "assignee_id": [None, BOB]},
        "",
        "moved it from Ready to In progress and assigned it to Bob",
    ),
    (
        EventKind.ESCALATED,
        {"lane_id": [SUP, EXP], "column_id": [READY, DOING]},
        "",
        "escalated it: from Support · Ready to Expedite · In progress",
    ),
    (
        EventKind.DEESCALATED,
        {"lane_id": [EXP, SUP]},
        "",
        "moved it out of Expedite: from Expedite to Support",
    ),
    (
        EventKind.PULLED,
        {"column_id": [READY, DOING], "assignee_id": [None, MIA]},
        "",
        "pulled it into In progress",
    ),
    (EventKind.ASSIGNED, {"assignee_id": [None, BOB]}, "", "assigned it to Bob"),
    (EventKind.ASSIGNED, {"assignee_id": [BOB, MIA]}, "", "took it"),
    (EventKind.ASSIGNED, {"assignee_id": [BOB, None]}, "", "unassigned Bob"),
    (EventKind.ASSIGNED, {"assignee_id": [None, 99]}, "", "assigned it to a former member"),
    (
        EventKind.ASSIGNED,
        {"assignee_id": [None, BOB]},
        "covering for Mia",
        "assigned it to Bob: covering for Mia",
    ),
    (EventKind.EDITED, {"title": ["Old", "New"]}, "", "renamed it from “Old” to “New”"),
    (
        EventKind.EDITED,
        {"description": ["a", "b"], "severity": ["S3", "S1"]},
        "",
        "changed the description and changed the severity from S3 to S1",
    ),
    (
        EventKind.EDITED,
        {"estimate": [None, 3], "component": ["API", ""], "requester": ["a@x", "b@x"]},
        "",
        "set the estimate to 3, cleared the component (was API)"
        " and changed the requester from a@x to b@x",
    ),
    (
        EventKind.BLOCKED,
        {"blocked": [False, True], "blocked_reason": ["", "waiting for the keys"]},
        "waiting for the keys",
        "blocked it: waiting for the keys",
    ),
    (
        EventKind.UNBLOCKED,
        {"blocked": [True, False], "blocked_reason": ["waiting", ""]},
        "",
        "unblocked it",
    ),
    (
        EventKind.UNBLOCKED,
        {"blocked": [True, False], "blocked_reason": ["waiting", ""]},
        "undoing the block",
        "unblocked it: undoing the block",
    ),
    (
        EventKind.CLOSED,
        {"status": ["open", "closed"], "close_reason": ["", "Won't do: not needed"]},
        "Won't do: not needed",
        "closed it: Won't do: not needed",
    ),
    (EventKind.REORDERED, {}, "", "changed its place in the column"),
    (EventKind.EDITED, {"labels": [[], ["Bug"]]}, "", "added the label Bug"),
    (
        EventKind.EDITED,
        {"labels": [["Bug", "Docs", "UX"], ["Docs"]]},
        "",
        "removed the labels Bug and UX",
    ),
    (
        EventKind.EDITED,
        {"title": ["A", "B"], "labels": [["Bug"], ["Customer", "Urgent"]]},
        "",
        "renamed it from “A” to “B”, added the labels Customer and Urgent"
        " and removed the label Bug",
    ),
    (
        EventKind.REORDERED,
        {},
        "undoing the last move",
        "changed its place in the column: undoing the last move",
    ),
    (
        EventKind.MOVED,
        {"column_id": [DOING, READY], "assignee_id": [MIA, None]},
        "undoing the last move",
        "moved it from In progress to Ready and unassigned it: undoing the last move",
    ),
    (
        EventKind.REOPENED,
        {"status": ["closed", "open"], "close_reason": ["Duplicate: SUP-1", ""]},
        "undoing the close",
        "reopened it: undoing the close",
    ),
    (
        EventKind.REOPENED,
        {"column_id": [DONE, READY], "status": ["done", "open"], "assignee_id": [BOB, None]},
        "the fix did not hold",
        "reopened it into Ready: the fix did not hold",
    ),
    (
        EventKind.COMMENTED,
        {},
        "internal note",
        "wrote an internal note",
    ),
    (EventKind.COMMENTED, {}, "reply to requester", "replied to the requester"),
    (
        EventKind.INTERRUPTED,
        {},
        "Max took it while off support duty (on duty: Mia)",
        "noted an interruption: Max took it while off support duty (on duty: Mia)",
    ),
    (
        EventKind.COMMENTED,
        {"mentioned": [[], [BOB, MIA]]},
        "internal note",
        "wrote an internal note, mentioning Bob and Mia",
    ),
    (EventKind.COMMENT_EDITED, {}, "", "edited a comment"),
    (EventKind.AWAITING, {}, "", "set it to wait for the requester"),
    (
        EventKind.RESUMED,
        {},
        "the requester answered",
        "stopped waiting for the requester: the requester answered",
    ),
    (EventKind.COMMENTED, {}, "reply from requester", "filed the requester's reply"),
    (
        EventKind.COMMENT_EDITED,
        {"mentioned": [[], [99]]},
        "",
        "edited a comment, mentioning a former member",
    ),
    (EventKind.COMMENT_DELETED, {}, "", "deleted a comment"),
    (EventKind.MITIGATED, {}, "rolled back to 4.2.1", "mitigated it: rolled back to 4.2.1"),
    (EventKind.INCIDENT_LOG, {}, "restarted the workers", "logged: restarted the workers"),
    (EventKind.DRILL, {"drill": [False, True]}, "", "marked it a drill"),
    (EventKind.DRILL, {"drill": [True, False]}, "", "marked it a real incident, not a drill"),
    (
        EventKind.GRANT_OPENED,
        {"grant": [None, 4], "holder": [None, MIA]},
        "orders-db primary, write",
        "recorded break-glass access for Mia on orders-db primary, write",
    ),
    (
        EventKind.GRANT_ENDED,
        {"grant": [4, None], "holder": [MIA, None]},
        "orders-db",
        "confirmed break-glass access of Mia revoked on orders-db",
    ),
    (
        EventKind.GRANT_LEFT_OPEN,
        {"grant": [4, 4]},
        "orders-db: the vendor revokes it at 18:00",
        "left break-glass access open on resolving: orders-db: the vendor revokes it at 18:00",
    ),
    (
        EventKind.WIP_OVERRIDE,
        {},
        "customer outage [Support is at its WIP limit, 3 of 3]",
        "went over a WIP limit: customer outage [Support is at its WIP limit, 3 of 3]",
    ),
]


@pytest.mark.parametrize("kind, changes, reason, sentence", CASES)
def test_each_kind_of_event_reads_as_a_sentence(kind, changes, reason, sentence):
    assert said(kind, changes, reason) == sentence


def test_every_kind_of_event_has_its_own_words():
    assert {case[0] for case in CASES} == set(EventKind)
    for kind in EventKind:
        assert hasattr(WORDS, f"_{kind}"), kind


@pytest.mark.parametrize("kind, changes, reason, sentence", CASES)
def test_no_sentence_shows_a_raw_field_a_flag_or_a_value_twice(kind, changes, reason, sentence):
    text = said(kind, changes, reason)
    assert not re.search(r"\b(True|False|None)\b|_id\b|→", text)
    if reason:
        assert text.count(reason) <= 1
