"""Incidents (services.incidents): Mitigated, the log, drills and break-glass grants on an
Expedite card, each a history event; grants audited; resolving refused while a grant is
open unexplained; the banner stays until mitigation and names overdue access."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from tests.helpers import actor, column, lane, make_board, make_card, make_user
from tracker import clock
from tracker.domain.errors import InvalidRequest, NotAllowed, NotFound
from tracker.domain.vocabulary import EventKind
from tracker.extensions import db
from tracker.models import AuditEvent, CardEvent
from tracker.services import cards, emergency, incidents


@pytest.fixture
def team(ctx):
    """A board with ann (member), lee (lead), vic (viewer) and an S1 filed in Expedite."""
    board = make_board("Platform")
    ann = make_user("ann", board=board, role="member", name="Ann Lee")
    lee = make_user("lee", board=board, role="lead", name="Lee Park")
    vic = make_user("vic", board=board, role="viewer")
    s1 = make_card(board, actor(ann), "expedite", "Checkout down", severity="S1")
    return board, actor(ann), actor(lee, "lead"), actor(vic, "viewer"), s1


def grant_input(holder_id, buddy_id=None, buddy_name="Ops Olga", hours=2):
    now = clock.now()
    return incidents.GrantInput(
        holder_id=holder_id,
        target="orders-db primary, write",
        why="fix the stuck orders",
        buddy_id=buddy_id,
        buddy_name=buddy_name,
        granted_at=now,
        expected_end=now + timedelta(hours=hours),
    )


def kinds(card_id):
    query = select(CardEvent.kind).where(CardEvent.card_id == card_id).order_by(CardEvent.id)
    return list(db.session.execute(query).scalars())


def test_the_whole_path_is_recorded_as_history_events(team):
    board, ann, lee, _, s1 = team
    cards.pull_next(board.id, ann)
    incidents.add_log_entry(board.id, ann, s1.id, "  restarted the workers ")
    grant = incidents.record_grant(board.id, ann, s1.id, grant_input(ann.id, lee.id, ""))
    incidents.end_grant(board.id, lee, grant.id)
    incidents.mitigate(board.id, ann, s1.id, "rolled back to 4.2.1")
    done = column(board, "Done")
    cards.move_card(board.id, ann, s1.id, lane_id=s1.lane_id, column_id=done.id)
    assert kinds(s1.id) == [
        EventKind.CREATED,
        EventKind.PULLED,
        EventKind.INCIDENT_LOG,
        EventKind.GRANT_OPENED,
        EventKind.GRANT_ENDED,
        EventKind.MITIGATED,
        EventKind.MOVED,
    ]
    found = incidents.incident_of(s1)
    assert found.stage == "resolved"
    assert found.acknowledged.by == ann.id
    assert found.mitigated.note == "rolled back to 4.2.1"
    ended = db.session.get(type(grant), grant.id)
    assert ended.ended_by_id == lee.id and ended.ended_at is not None
    actions = db.session.execute(select(AuditEvent.action).order_by(AuditEvent.id)).scalars()
    assert [a for a in actions if a.startswith("grant.")] == ["grant.opened", "grant.ended"]


def test_resolving_with_a_grant_open_is_refused_until_ended_or_explained(team):
    board, ann, lee, _, s1 = team
    grant = incidents.record_grant(board.id, ann, s1.id, grant_input(ann.id))
    done = column(board, "Done")
    with pytest.raises(InvalidRequest, match="break-glass access open .Ann Lee on orders-db"):
        cards.move_card(board.id, ann, s1.id, lane_id=s1.lane_id, column_id=done.id)
    assert kinds(s1.id)[-1] == EventKind.GRANT_OPENED  # nothing moved
    with pytest.raises(InvalidRequest, match="Say why"):
        incidents.leave_open(board.id, ann, grant.id, " ")
    incidents.leave_open(board.id, ann, grant.id, "the vendor revokes it at 18:00")
    moved = cards.move_card(board.id, ann, s1.id, lane_id=s1.lane_id, column_id=done.id)
    assert moved.card.status == "done"
    # Still open: it can be ended after the incident is resolved.
    assert incidents.end_grant(board.id, lee, grant.id).ended_at is not None
    with pytest.raises(InvalidRequest, match="ended already"):
        incidents.end_grant(board.id, lee, grant.id)


def test_the_banner_stays_until_mitigation_and_names_who_is_on_it(team):
    board, ann, _, _, s1 = team
    (alarm,) = emergency.banner(board.id).alarms
    assert "unassigned for" in alarm.text
    cards.pull_next(board.id, ann)
    (alarm,) = emergency.banner(board.id).alarms
    assert alarm.text.startswith(f"Production emergency: {s1.ref} · acknowledged by Ann Lee")
    assert alarm.text.endswith("not mitigated")
    incidents.set_drill(board.id, ann, s1.id, True)
    (alarm,) = emergency.banner(board.id).alarms
    assert alarm.text.startswith(f"Drill: Drill {s1.ref}") and alarm.drill
    incidents.mitigate(board.id, ann, s1.id, "feature flag off")
    assert not emergency.banner(board.id)


def test_an_overdue_grant_shows_on_the_banner_until_ended(team):
    board, ann, lee, _, s1 = team
    cards.pull_next(board.id, ann)
    incidents.mitigate(board.id, ann, s1.id, "feature flag off")
    grant = incidents.record_grant(board.id, ann, s1.id, grant_input(ann.id, hours=1))
    assert not emergency.banner(board.id)
    with time_machine.travel(clock.now() + timedelta(hours=2)):
        (alarm,) = emergency.banner(board.id).alarms
        assert alarm.text.startswith("Break-glass access still open: Ann Lee on orders-db")
        incidents.end_grant(board.id, lee, grant.id)
        assert not emergency.banner(board.id)


def test_refusals(team):
    board, ann, lee, vic, s1 = team
    feature = make_card(board, ann, "feature", "Not an incident")
    with pytest.raises(NotAllowed):
        incidents.mitigate(board.id, vic, s1.id, "x")
    with pytest.raises(NotAllowed):
        incidents.record_grant(board.id, vic, s1.id, grant_input(ann.id))
    with pytest.raises(InvalidRequest, match="not an incident"):
        incidents.mitigate(board.id, ann, feature.id, "x")
    with pytest.raises(InvalidRequest, match="not an incident"):
        incidents.add_log_entry(board.id, ann, feature.id, "x")
    with pytest.raises(InvalidRequest, match="not an incident"):
        incidents.record_grant(board.id, ann, feature.id, grant_input(ann.id))
    with pytest.raises(InvalidRequest, match="Name the operations buddy"):
        incidents.record_grant(board.id, ann, s1.id, grant_input(ann.id, None, ""))
    with pytest.raises(InvalidRequest, match="someone other than"):
        incidents.record_grant(board.id, ann, s1.id, grant_input(ann.id, ann.id, ""))
    with pytest.raises(InvalidRequest, match="board's members"):
        incidents.record_grant(board.id, ann, s1.id, grant_input(vic.id))  # a viewer holds none
    with pytest.raises(InvalidRequest, match="Write what happened"):
        incidents.add_log_entry(board.id, ann, s1.id, "   ")
    with pytest.raises(NotFound):
        incidents.end_grant(board.id, lee, 999)
    incidents.mitigate(board.id, ann, s1.id, "rolled back")
    with pytest.raises(InvalidRequest, match="mitigated already"):
        incidents.mitigate(board.id, ann, s1.id, "again")


def test_a_grant_of_another_board_is_not_found(team):
    board, ann, _, _, s1 = team
    other = make_board("Other")
    bob = make_user("bob", board=other, role="lead")
    grant = incidents.record_grant(board.id, ann, s1.id, grant_input(ann.id))
    with pytest.raises(NotFound):
        incidents.end_grant(other.id, actor(bob, "lead"), grant.id)


def test_a_drill_is_marked_and_unmarked_in_the_history(team):
    board, ann, _, _, s1 = team
    incidents.set_drill(board.id, ann, s1.id, True)
    incidents.set_drill(board.id, ann, s1.id, True)  # the same choice again changes nothing
    incidents.set_drill(board.id, ann, s1.id, False)
    events = db.session.execute(
        select(CardEvent.changes).where(
            CardEvent.card_id == s1.id, CardEvent.kind == "drill_marked"
        )
    ).scalars()
    assert [e["drill"] for e in events] == [[False, True], [True, False]]
    support = make_card(board, ann, "support", "Slow page")
    with pytest.raises(InvalidRequest, match="only an emergency"):
        incidents.set_drill(board.id, ann, support.id, True)
    assert lane(board, "expedite").id == s1.lane_id
