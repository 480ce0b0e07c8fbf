"""The support desk's use cases: targets, canned replies, waiting for the requester, the
requester's replies, the queue, the tiles' clocks and the report's shares."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.helpers import REQUEST, actor, make_board, make_user
from tracker import clock
from tracker.domain.errors import InvalidRequest, NotAllowed, NotFound
from tracker.domain.vocabulary import EventKind, RequestStatus, Severity, Visibility
from tracker.extensions import db
from tracker.models import Card, CardEvent, Notification
from tracker.services import cards, conversation, desk, intake

MONDAY = datetime(2026, 3, 2, 9, tzinfo=UTC)  # 10:00 in Berlin


@pytest.fixture
def desk_board(ctx):
    board = make_board()
    board.timezone = "Europe/Berlin"
    db.session.commit()
    lee = actor(make_user("lee", board=board, role="lead"), "lead")
    ann = actor(make_user("ann", board=board, role="member"))
    sam = actor(make_user("sam", board=board, role="support"), "support")
    vic = actor(make_user("vic", board=board, role="viewer"), "viewer")
    return board, lee, ann, sam, vic


def file(board, who, at: datetime, **values) -> Card:
    with clock.fixed(at):
        key = intake.new_intake_key()
        return intake.file_request(board.id, who, REQUEST | values, key).card


def test_a_lead_sets_targets_and_others_may_not(desk_board):
    board, lee, ann, sam, _ = desk_board
    assert desk.board_targets(board.id)[Severity.S2].first_response_minutes == 240
    desk.set_target(board.id, lee, "S2", "1h", "3d", True)
    got = desk.board_targets(board.id)[Severity.S2]
    assert (got.first_response_minutes, got.resolution_minutes, got.working_hours) == (
        60,
        3 * 480,
        True,
    )
    with pytest.raises(NotAllowed):
        desk.set_target(board.id, ann, "S2", "1h", "3d", True)
    with pytest.raises(InvalidRequest):
        desk.set_target(board.id, lee, "S9", "1h", "3d", True)
    with pytest.raises(InvalidRequest):
        desk.set_target(board.id, lee, "S2", "5h", "1h", True)


def test_canned_replies_are_a_leads_short_list(desk_board):
    board, lee, ann, _, _ = desk_board
    made = desk.add_canned_reply(board.id, lee, " Need  logs ", "Could you send the logs?")
    assert made.title == "Need logs"
    with pytest.raises(InvalidRequest, match="already"):
        desk.add_canned_reply(board.id, lee, "need logs", "again")
    with pytest.raises(NotAllowed):
        desk.add_canned_reply(board.id, ann, "Other", "text")
    assert [r.title for r in desk.canned_replies(board.id)] == ["Need logs"]
    other = make_board("Other")
    with pytest.raises(NotFound):
        desk.remove_canned_reply(other.id, lee, made.id)
    assert desk.remove_canned_reply(board.id, lee, made.id) == "Need logs"
    assert desk.canned_replies(board.id) == []


def test_waiting_pauses_the_clock_and_the_requesters_reply_restores_the_status(desk_board):
    board, lee, ann, sam, vic = desk_board
    card = file(board, sam, MONDAY, severity="S2")
    with clock.fixed(MONDAY):
        cards.assign_card(board.id, ann, card.id, ann.id)
    with clock.fixed(MONDAY + timedelta(hours=1)):
        assert desk.set_waiting(board.id, sam, card.id, True)
        assert not desk.set_waiting(board.id, sam, card.id, True)  # already waiting
    with pytest.raises(NotAllowed):
        desk.set_waiting(board.id, vic, card.id, True)
    row = desk.queue(board, desk.QueueFilter()).rows[0]
    assert row.status.key == RequestStatus.WAITING
    # Three hours later the requester answers: only the first hour counted.
    with clock.fixed(MONDAY + timedelta(hours=4)):
        made = intake.create_status_link(board.id, sam, card.id)
        intake.reply_through_link(made.token, "  Here are the logs.  ")
        page = desk.queue(board, desk.QueueFilter())
    row = page.rows[0]
    assert row.status.key == RequestStatus.RECEIVED
    assert row.standing.response.used_seconds == 3600
    assert row.standing.response.paused is False
    thread = intake.comments(card.id, replies_only=True)
    assert thread[-1].from_requester and thread[-1].body == "Here are the logs."
    kinds = [e.kind for e in db.session.execute(select(CardEvent).order_by(CardEvent.id)).scalars()]
    assert kinds[-3:] == [EventKind.AWAITING, EventKind.RESUMED, EventKind.COMMENTED]
    told = db.session.execute(select(Notification.recipient_id)).scalars().all()
    assert ann.id in told


def test_a_revoked_or_unknown_link_cannot_post_and_text_is_checked(desk_board):
    board, _, _, sam, _ = desk_board
    card = file(board, sam, MONDAY)
    made = intake.create_status_link(board.id, sam, card.id)
    with pytest.raises(InvalidRequest):
        intake.reply_through_link(made.token, "   ")
    with pytest.raises(InvalidRequest, match="5,000"):
        intake.reply_through_link(made.token, "x" * 5001)
    intake.revoke_status_link(board.id, sam, card.id)
    with pytest.raises(NotFound):
        intake.reply_through_link(made.token, "hello")
    with pytest.raises(NotFound):
        intake.reply_through_link("not a token", "hello")


def test_only_a_reply_to_the_requester_is_a_first_response(desk_board):
    board, _, ann, sam, _ = desk_board
    card = file(board, sam, MONDAY, severity="S1")
    with clock.fixed(MONDAY + timedelta(minutes=10)):
        conversation.add_comment(board.id, ann, card.id, "looking", Visibility.INTERNAL)
    assert db.session.get(Card, card.id).first_reply_at is None
    with clock.fixed(MONDAY + timedelta(minutes=20)):
        conversation.add_comment(board.id, ann, card.id, "on it", Visibility.REPLY)
    with clock.fixed(MONDAY + timedelta(minutes=40)):
        conversation.add_comment(board.id, ann, card.id, "still", Visibility.REPLY)
    db.session.expire_all()
    assert db.session.get(Card, card.id).first_reply_at == MONDAY + timedelta(minutes=20)
    with clock.fixed(MONDAY + timedelta(hours=1)):
        s = desk.standings(board, [card.id], clock.now())[card.id]
    assert s.response.met and s.current.kind == "resolution"


def test_the_queue_filters_sorts_and_pages(desk_board, monkeypatch):
    board, _, ann, sam, _ = desk_board
    monkeypatch.setattr(desk, "PAGE_SIZE", 3)
    old_s1 = file(board, sam, MONDAY - timedelta(days=1), severity="S1", title="Database down")
    fresh = [
        file(board, sam, MONDAY + timedelta(minutes=i), severity="S4", title=f"Question {i}")
        for i in range(4)
    ]
    with clock.fixed(MONDAY + timedelta(hours=1)):
        newest = desk.queue(board, desk.QueueFilter())
        assert newest.total == 5 and newest.pages == 2
        assert [r.id for r in newest.rows] == [c.id for c in reversed(fresh)][:3]
        urgent = desk.queue(board, desk.QueueFilter(sort="urgent"))
        assert urgent.rows[0].id == old_s1.id and urgent.rows[0].standing.late
        late = desk.queue(board, desk.QueueFilter(late=True))
        assert [r.id for r in late.rows] == [old_s1.id]
        s1 = desk.queue(board, desk.QueueFilter(severity="S1"))
        assert [r.id for r in s1.rows] == [old_s1.id]
        found = desk.queue(board, desk.QueueFilter(q="database"))
        assert [r.id for r in found.rows] == [old_s1.id]
        second = desk.queue(board, desk.QueueFilter(page=2))
        assert [r.id for r in second.rows] == [fresh[0].id, old_s1.id]
        beyond = desk.queue(board, desk.QueueFilter(page=99))
        assert beyond.page == 2
        mine = desk.queue(board, desk.QueueFilter(filed_by=ann.id))
        assert mine.total == 0
        by_requester = desk.queue(board, desk.QueueFilter(requester="dan"))
        assert by_requester.total == 5
        received = desk.queue(board, desk.QueueFilter(status=RequestStatus.RECEIVED))
        assert received.total == 5
        assert desk.queue(board, desk.QueueFilter(status=RequestStatus.DONE)).total == 0


def test_queue_filter_reads_only_known_values():
    shown = desk.QueueFilter.from_args(
        {"status": "nope", "severity": "S2", "assignee": "x1", "late": "1", "page": "-4"}
    )
    assert (shown.status, shown.severity, shown.assignee, shown.late, shown.page) == (
        "",
        "S2",
        None,
        True,
        1,
    )
    assert shown.args(page=2) == {"severity": "S2", "late": "1", "page": 2}


def test_tile_clocks_and_when_they_change(desk_board):
    board, _, _, sam, _ = desk_board
    card = file(board, sam, MONDAY, severity="S1")  # 30 minutes around the clock
    other = file(board, sam, MONDAY, severity="S4")
    at = MONDAY + timedelta(minutes=10)
    shown = desk.tile_clocks(board, [card.id, other.id], at)
    assert shown.looks == {} and shown.changes_at == MONDAY + timedelta(minutes=24)
    shown = desk.tile_clocks(board, [card.id, other.id], MONDAY + timedelta(minutes=25))
    assert shown.looks == {card.id: desk.TILE_NEAR}
    shown = desk.tile_clocks(board, [card.id], MONDAY + timedelta(minutes=31))
    assert shown.looks == {card.id: desk.TILE_LATE}


def test_the_report_counts_requests_within_target_per_period(desk_board):
    board, _, ann, sam, _ = desk_board
    quick = file(board, sam, MONDAY, severity="S1")
    slow = file(board, sam, MONDAY, severity="S1")
    with clock.fixed(MONDAY + timedelta(minutes=5)):
        conversation.add_comment(board.id, ann, quick.id, "on it", Visibility.REPLY)
    with clock.fixed(MONDAY + timedelta(hours=2)):
        conversation.add_comment(board.id, ann, slow.id, "sorry", Visibility.REPLY)
    bounds = [(MONDAY - timedelta(days=7), MONDAY), (MONDAY, MONDAY + timedelta(days=7))]
    before, this = desk.within_targets(board, bounds, MONDAY + timedelta(hours=3))
    assert before.response[Severity.S1].counted == 0
    assert (this.response[Severity.S1].met, this.response[Severity.S1].counted) == (1, 2)
    assert this.response[Severity.S1].share == 0.5


def test_the_assignee_reads_that_the_requester_answered(desk_board):
    from tracker.services import notifications

    board, _, ann, sam, _ = desk_board
    card = file(board, sam, MONDAY)
    with clock.fixed(MONDAY):
        cards.assign_card(board.id, ann, card.id, ann.id)
        made = intake.create_status_link(board.id, sam, card.id)
    with clock.fixed(MONDAY + timedelta(hours=1)):
        intake.reply_through_link(made.token, "Thanks")
    page = notifications.page(ann.id)
    assert any("The requester answered on" in item.sentence for item in page.items)
