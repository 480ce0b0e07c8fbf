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
    Step,
    blocking_grants,
    check_grant,
    check_mitigation,
    figures,
    incident,
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
