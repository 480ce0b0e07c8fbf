"""Undo (tracker.domain.undo): who may undo which change, until when, and what a move back
restores."""

from datetime import UTC, datetime, timedelta

import pytest

from tracker.domain.errors import InvalidRequest
from tracker.domain.undo import (
    UNCHANGING,
    UNDOABLE,
    Done,
    Undoing,
    UndoRefused,
    check,
    moved_back,
    refusal,
    seconds_said,
    undoing,
)
from tracker.domain.vocabulary import EventKind

MIA, BOB = 7, 8
AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WINDOW = timedelta(seconds=10)


def why(kind=EventKind.MOVED, *, by=MIA, after=timedelta(seconds=3), later=(), window=WINDOW):
    done = Done("SUP-12", kind, MIA, AT)
    return refusal(done, by=by, now=AT + after, window=window, later=later)


@pytest.mark.parametrize("kind", sorted(UNDOABLE))
def test_a_move_a_close_and_a_block_can_be_undone_by_their_author_at_once(kind):
    assert why(kind) is None
    assert why(kind, after=timedelta(0)) is None


@pytest.mark.parametrize("kind", sorted(set(EventKind) - set(UNDOABLE)))
def test_no_other_change_can_be_undone(kind):
    assert why(kind) == "That change to SUP-12 cannot be undone."


def test_what_undoing_each_change_does():
    assert {kind: undoing(kind) for kind in UNDOABLE} == {
        EventKind.MOVED: Undoing.MOVE,
        EventKind.ESCALATED: Undoing.MOVE,
        EventKind.DEESCALATED: Undoing.MOVE,
        EventKind.REORDERED: Undoing.MOVE,
        EventKind.CLOSED: Undoing.REOPEN,
        EventKind.BLOCKED: Undoing.UNBLOCK,
    }


@pytest.mark.parametrize("kind", sorted(UNDOABLE))
def test_only_the_person_who_made_the_change_may_undo_it(kind):
    assert why(kind, by=BOB) == "Only the person who made that change to SUP-12 can undo it."


@pytest.mark.parametrize("seconds", [1, 2.5, 10, 30])
def test_an_undo_is_taken_up_to_the_end_of_the_window_and_not_after(seconds):
    window = timedelta(seconds=seconds)
    assert why(after=window, window=window) is None
    late = why(after=window + timedelta(microseconds=1), window=window)
    assert late == (
        "It is too late to undo that change to SUP-12: a change can be undone for "
        f"{seconds_said(window)} after it was made."
    )


def test_a_clock_a_little_behind_the_change_still_takes_the_undo():
    assert why(after=timedelta(seconds=-1)) is None


@pytest.mark.parametrize("later", [[EventKind.MOVED], [EventKind.EDITED], [EventKind.ASSIGNED]])
def test_a_card_changed_since_cannot_be_undone(later):
    assert why(later=later) == "SUP-12 changed since; undo is no longer possible."
    assert why(later=[EventKind.WIP_OVERRIDE, *later]) == why(later=later)


@pytest.mark.parametrize("kind", sorted(set(EventKind) - UNCHANGING))
def test_every_kind_of_later_event_but_an_override_and_a_comment_is_a_change(kind):
    assert why(later=[kind]) is not None


def test_the_moves_own_override_and_a_comment_leave_the_card_as_it_was():
    assert why(later=[EventKind.WIP_OVERRIDE]) is None
    assert why(later=[EventKind.COMMENTED, EventKind.WIP_OVERRIDE]) is None


def test_the_first_reason_against_is_given():
    assert why(EventKind.EDITED, by=BOB).endswith("cannot be undone.")
    assert why(by=BOB, after=timedelta(minutes=1)).startswith("Only the person")
    assert why(after=timedelta(minutes=1), later=[EventKind.MOVED]).startswith("It is too late")


def test_check_refuses_with_the_reason_as_a_domain_refusal():
    done = Done("SUP-12", EventKind.BLOCKED, MIA, AT)
    check(done, by=MIA, now=AT, window=WINDOW, later=[])
    with pytest.raises(UndoRefused, match="^Only the person") as refused:
        check(done, by=BOB, now=AT, window=WINDOW, later=[])
    assert isinstance(refused.value, InvalidRequest)


def test_a_move_back_restores_lane_column_and_holder_the_move_changed():
    now = {"lane_id": 2, "column_id": 12, "assignee_id": MIA, "title": "x"}
    changes = {"lane_id": [1, 2], "column_id": [10, 12], "assignee_id": [None, MIA]}
    assert moved_back(changes, now) == {"lane_id": 1, "column_id": 10, "assignee_id": None}
    # What the move left alone stays as it is.
    assert moved_back({"column_id": [11, 12]}, now) == {
        "lane_id": 2,
        "column_id": 11,
        "assignee_id": MIA,
    }
    assert moved_back({}, now) == {"lane_id": 2, "column_id": 12, "assignee_id": MIA}


def test_windows_in_words():
    assert [seconds_said(timedelta(seconds=s)) for s in (1, 2.5, 10)] == [
        "1 second",
        "2.5 seconds",
        "10 seconds",
    ]
