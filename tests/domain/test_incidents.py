"""Incidents (domain.incidents): stages from the history, grants that must be ended, the
figures per period with drills apart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.domain.errors import InvalidRequest
from tracker.domain.incidents import (
    ACKNOWLEDGED,
    MITIGATED,
    OPENED,
    RESOLVED,
    Grant,
    Incident,
    Mark,
    Recorded,
    Step,
    blocking_grants,
    check_buddy,
    check_grant,
    check_granted_at,
    check_left_open,
    check_log_entry,
    check_mitigation,
    check_open_incident,
    figures,
    figures_by_period,
    from_history,
    incident,
    resolving_refusal,
    stage_line,
    stage_marks,
)

T0 = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)
MIA, MAX = 7, 8


def step(
    minutes, kind="moved", *, actor=MIA, holder=None, lane="expedite", status="open", reason=""
):
    return Step(kind, T0 + timedelta(minutes=minutes), actor, holder, lane, status, reason)


def of(steps, *, filed=True, drill=False):
    return incident(
        1, T0, MAX, steps, expedite_at_creation=filed, mitigated_kind="mitigated", drill=drill
    )


def test_an_s1_filed_acknowledged_mitigated_and_resolved():
    found = of(
        [
            step(2, "pulled", holder=MIA),
            step(30, "mitigated", holder=MIA, reason="rolled back to 4.2.1"),
            step(90, "moved", holder=MIA, status="done"),
        ]
    )
    assert found.opened == Mark(T0, MAX)
    assert found.acknowledged == Mark(T0 + timedelta(minutes=2), MIA)
    assert found.mitigated.note == "rolled back to 4.2.1"
    assert found.stage == RESOLVED
    assert found.took(ACKNOWLEDGED) == timedelta(minutes=2)
    assert found.took(RESOLVED) == timedelta(minutes=90)
    assert not found.needs_banner


def test_the_banner_stays_until_mitigation_not_only_until_someone_pulls_it():
    found = of([step(2, "pulled", holder=MIA)])
    assert found.stage == ACKNOWLEDGED and found.needs_banner


def test_an_escalated_card_opens_at_its_escalation_and_is_acknowledged_at_once_when_held():
    found = of([step(5, "edited", lane="support"), step(20, "escalated", holder=MAX)], filed=False)
    assert found.opened.at == T0 + timedelta(minutes=20)
    assert found.acknowledged == Mark(T0 + timedelta(minutes=20), MAX)
    assert of([step(5, "edited", lane="support")], filed=False) is None


def test_a_reopened_incident_is_not_resolved_until_done_again():
    steps = [
        step(10, "moved", holder=MIA, status="done"),
        step(20, "reopened", holder=MIA),
    ]
    assert of(steps).resolved is None
    again = of([*steps, step(40, "moved", holder=MIA, status="done")])
    assert again.resolved.at == T0 + timedelta(minutes=40)


@given(
    st.lists(st.sampled_from(["pulled", "mitigated", "done", "reopened", "edited"]), max_size=10)
)
def test_stages_never_go_backwards_in_time(kinds):
    steps, holder, status = [], None, "open"
    for i, kind in enumerate(kinds):
        holder = MIA if kind == "pulled" else holder
        status = "done" if kind == "done" else "open" if kind == "reopened" else status
        steps.append(step(i + 1, kind, holder=holder, status=status))
    found = of(steps)
    marks = [m for m in (found.opened, found.acknowledged, found.mitigated) if m is not None]
    assert marks == sorted(marks, key=lambda m: m.at)
    assert found.stage in (OPENED, ACKNOWLEDGED, MITIGATED, RESOLVED)
    assert (found.resolved is not None) == (status == "done")


def test_mitigation_needs_a_note_and_happens_once():
    found = of([step(2, "pulled", holder=MIA)])
    assert check_mitigation(found, "  rolled back ") == "rolled back"
    with pytest.raises(InvalidRequest, match="Say what mitigated it"):
        check_mitigation(found, " ")
    done = of([step(2, "mitigated", reason="x")])
    with pytest.raises(InvalidRequest, match="mitigated already"):
        check_mitigation(done, "again")


def grant(id_, hours=2, ended=None, reason=""):
    return Grant(
        id_,
        "Mia",
        "orders-db primary, write",
        T0,
        T0 + timedelta(hours=hours),
        ended_at=ended,
        left_open_reason=reason,
    )


def test_open_grants_block_resolving_unless_ended_or_explained():
    grants = [grant(1), grant(2, ended=T0 + timedelta(hours=1)), grant(3, reason="vendor holds it")]
    assert [g.id for g in blocking_grants(grants, {})] == [1]
    assert blocking_grants(grants, {1: "ops will revoke at 18:00"}) == []


def test_a_grant_is_overdue_past_its_expected_end_or_a_day():
    assert not grant(1).overdue(T0 + timedelta(hours=1))
    assert grant(1).overdue(T0 + timedelta(hours=3))
    assert grant(2, hours=48).overdue(T0 + timedelta(hours=25))
    assert not grant(3, ended=T0 + timedelta(hours=1)).overdue(T0 + timedelta(hours=30))


@pytest.mark.parametrize(
    ("target", "why", "hours", "message"),
    [
        ("", "fix", 2, "Say what the access is on"),
        ("db", " ", 2, "Say why"),
        ("db", "fix", 0, "expected end comes after"),
        ("db", "fix", 24 * 8, "a week at most"),
    ],
)
def test_grants_that_cannot_be_recorded(target, why, hours, message):
    with pytest.raises(InvalidRequest, match=message):
        check_grant(target, why, T0, T0 + timedelta(hours=hours))


def test_figures_count_drills_apart_and_take_percentiles_of_real_incidents():
    def made(card_id, ack, res, drill=False):
        return Incident(
            card_id,
            Mark(T0),
            Mark(T0 + timedelta(hours=ack)),
            None,
            Mark(T0 + timedelta(hours=res)),
            drill,
        )

    incidents = [made(1, 1, 4), made(2, 2, 6), made(3, 3, 8), made(4, 0.1, 0.5, drill=True)]
    got = figures(incidents, {1: [grant(1, ended=T0 + timedelta(hours=3))]}, {2}, T0)
    assert (got.count, got.drills) == (3, 1)
    assert got.acknowledge == (2.0, pytest.approx(2.7))
    assert got.resolve[0] == 6.0
    assert got.mitigate == (None, None)
    assert got.glass_hours == 3.0
    assert got.late_reviews == 1


# The history as stored, replayed (from_history), and the words the card and banner show.

EXPEDITE_LANE, SUPPORT_LANE = 1, 2
KINDS = {EXPEDITE_LANE: "expedite", SUPPORT_LANE: "support"}


def recorded(minutes, kind, changes=None, *, actor=MIA, reason=""):
    return Recorded(kind, T0 + timedelta(minutes=minutes), actor, changes or {}, reason)


def created(lane=EXPEDITE_LANE):
    fields = {"lane_id": [None, lane], "assignee_id": [None, None], "status": [None, "open"]}
    return recorded(0, "created", fields, actor=MAX)


def replayed(events, drill=False):
    return from_history(1, events, KINDS, mitigated_kind="mitigated", drill=drill)


def test_the_stored_history_is_replayed_into_the_stages():
    found = replayed(
        [
            created(),
            recorded(2, "pulled", {"assignee_id": [None, MIA]}),
            recorded(5, "incident_log", reason="restarted the workers"),
            recorded(30, "mitigated", reason="rolled back"),
            recorded(90, "moved", {"status": ["open", "done"]}),
        ]
    )
    assert found.opened == Mark(T0, MAX)
    assert found.acknowledged == Mark(T0 + timedelta(minutes=2), MIA)
    assert found.mitigated.note == "rolled back"
    assert found.resolved.at == T0 + timedelta(minutes=90)


def test_a_card_escalated_later_opens_then_and_one_never_escalated_is_none():
    escalated = [created(SUPPORT_LANE), recorded(20, "escalated", {"lane_id": [2, 1]})]
    assert replayed(escalated).opened.at == T0 + timedelta(minutes=20)
    assert replayed([created(SUPPORT_LANE)]) is None
    assert replayed([]) is None


def name(person):
    return {MIA: "Mia", MAX: "Max"}.get(person, "")


def test_the_stage_line_says_the_stage_who_and_how_long_ago():
    now = T0 + timedelta(minutes=4)
    assert stage_line("EXP-7", Incident(1, Mark(T0)), name, now) == (
        "EXP-7 · opened 4 min ago · not acknowledged"
    )
    acked = Incident(1, Mark(T0), Mark(T0 + timedelta(minutes=2), MIA))
    assert stage_line("EXP-7", acked, name, now) == (
        "EXP-7 · acknowledged by Mia 2 min ago · not mitigated"
    )
    mitigated = Incident(1, Mark(T0), acked.acknowledged, Mark(T0 + timedelta(minutes=3), MAX))
    assert stage_line("EXP-7", mitigated, name, now) == (
        "EXP-7 · mitigated by Max 1 min ago · not resolved"
    )
    resolved = Incident(1, Mark(T0), None, None, Mark(T0 + timedelta(minutes=3)), drill=True)
    assert stage_line("EXP-7", resolved, name, now) == (
        "Drill EXP-7 · resolved 1 min ago · took 3 min"
    )


def test_stage_marks_list_the_stages_reached_with_how_long_each_took():
    found = Incident(1, Mark(T0), Mark(T0 + timedelta(minutes=2), MIA))
    assert [(stage, after) for stage, _, after in stage_marks(found)] == [
        (OPENED, None),
        (ACKNOWLEDGED, timedelta(minutes=2)),
    ]


def test_log_entries_and_reasons_to_leave_access_open():
    assert check_log_entry("  restarted  ") == "restarted"
    with pytest.raises(InvalidRequest, match="Write what happened"):
        check_log_entry(" ")
    with pytest.raises(InvalidRequest, match="500 characters"):
        check_log_entry("x" * 501)
    assert check_left_open(grant(1), " vendor revokes it ") == "vendor revokes it"
    with pytest.raises(InvalidRequest, match="Say why"):
        check_left_open(grant(1), "")
    with pytest.raises(InvalidRequest, match="ended already"):
        check_left_open(grant(2, ended=T0), "x")


def test_grants_need_a_buddy_other_than_the_holder_and_no_future_start():
    assert check_buddy(MAX, "typed too", MIA) == ""
    assert check_buddy(None, " Ops Olga ", MIA) == "Ops Olga"
    with pytest.raises(InvalidRequest, match="Name the operations buddy"):
        check_buddy(None, " ", MIA)
    with pytest.raises(InvalidRequest, match="someone other than"):
        check_buddy(MIA, "", MIA)
    check_granted_at(T0 + timedelta(minutes=4), T0)  # a clock a little behind is fine
    with pytest.raises(InvalidRequest, match="in the future"):
        check_granted_at(T0 + timedelta(hours=1), T0)


def test_grants_are_recorded_on_open_incidents_only():
    found = Incident(1, Mark(T0))
    assert check_open_incident(found, "EXP-1") is found
    with pytest.raises(InvalidRequest, match="not an incident"):
        check_open_incident(None, "SUP-1")
    with pytest.raises(InvalidRequest, match="is resolved"):
        check_open_incident(Incident(1, Mark(T0), resolved=Mark(T0)), "EXP-1")


def test_the_refusal_to_resolve_names_each_open_grant():
    said = resolving_refusal("EXP-1", [grant(1), grant(2)])
    assert "EXP-1 still has break-glass access open" in said
    assert said.count("Mia on orders-db primary, write") == 2


@given(
    st.lists(
        st.tuples(st.booleans(), st.booleans(), st.text(max_size=5)),
        max_size=8,
    )
)
def test_blocking_grants_are_exactly_the_open_ones_without_a_reason(specs):
    grants = [
        grant(i, ended=T0 if ended else None, reason=reason if has_reason else "")
        for i, (ended, has_reason, reason) in enumerate(specs)
    ]
    blocking = {g.id for g in blocking_grants(grants, {})}
    assert blocking == {g.id for g in grants if g.open and not g.left_open_reason.strip()}
    # Ending every grant, or explaining each, leaves nothing blocking.
    assert blocking_grants(grants, {g.id: "ops revoke it" for g in grants}) == []


@given(st.integers(min_value=0, max_value=60 * 24 * 3), st.integers(min_value=1, max_value=72))
def test_a_grant_is_overdue_exactly_past_its_end_or_a_day(minutes, hours):
    g = grant(1, hours=hours)
    now = T0 + timedelta(minutes=minutes)
    expected = now > g.expected_end or now - T0 > timedelta(hours=24)
    assert g.overdue(now) == expected


def test_figures_by_period_count_each_incident_in_the_period_it_opened_in():
    day = timedelta(days=1)
    bounds = [(T0, T0 + day), (T0 + day, T0 + 2 * day)]

    def opened(card_id, at, drill=False):
        return Incident(card_id, Mark(at), resolved=Mark(at + timedelta(hours=2)), drill=drill)

    found = [
        opened(1, T0 + timedelta(hours=1)),
        opened(2, T0 + day + timedelta(hours=1)),
        opened(3, T0 + day + timedelta(hours=3), drill=True),
        opened(4, T0 - timedelta(hours=1)),  # before the first period: left out
    ]
    first, second = figures_by_period(bounds, found, {}, {2}, T0 + 2 * day)
    assert (first.count, first.drills, first.late_reviews) == (1, 0, 0)
    assert (second.count, second.drills, second.late_reviews) == (1, 1, 1)
    assert second.resolve == (2.0, 2.0)
