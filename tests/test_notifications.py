"""Notifications from card history events (services.notifications.note_event, on both
databases): who gets one for each kind of event, written in the event's transaction with the
unread count, nobody for their own act, marking read keeps the count exact, and an event
that cannot notify anyone costs no statement."""

from __future__ import annotations

import pytest
from sqlalchemy import func, insert, select

from tests.helpers import REQUEST, BoardSpec, CardSpec, Person, actor, statements_sent
from tracker import store
from tracker.domain.errors import NotFound
from tracker.domain.vocabulary import EventKind, NoticeKind, Role
from tracker.extensions import db
from tracker.models import Card, CardEvent, Membership, Notification, User
from tracker.services import cards, intake, notifications, watching


@pytest.fixture
def board_spec() -> BoardSpec:
    return BoardSpec(
        limits={"feature": 1},
        people={
            "ann": "member",
            "lee": "lead",
            "mia": "member",
            "sue": Person(Role.SUPPORT),
            "vic": Person(Role.VIEWER),
        },
        cards=(
            CardSpec("c", "feature", "Login fails", by="ann"),
            CardSpec("busy", "feature", "Busy", at="In progress", by="ann"),
        ),
    )


def who(ids, name, role=Role.MEMBER):
    user = db.session.get(User, ids[name])
    return actor(user, role)


def take(ids, card, name) -> None:
    """The person takes the card themself (which tells nobody)."""
    cards.assign_card(ids["board"], who(ids, name), ids[card], ids[name])


def heard(user_id) -> list[tuple[int, str]]:
    """(card, kind) of each notification of a person, oldest first."""
    rows = db.session.execute(
        select(Notification.card_id, Notification.kind)
        .where(Notification.recipient_id == user_id)
        .order_by(Notification.id)
    ).all()
    return [tuple(row) for row in rows]


def unread(user_id) -> int:
    db.session.expire_all()
    return notifications.unread_count(user_id)


def all_notifications() -> int:
    return db.session.execute(select(func.count()).select_from(Notification)).scalar_one()


def comment_event(card_id, actor_id, mentioned) -> None:
    """A COMMENTED event whose changes carry the mentions, as the comment service writes it
    (the contract: {"mentioned": [[], [user ids]]}), through the store's listeners."""
    card = db.session.get(Card, card_id)
    pending = store.new_event(card, EventKind.COMMENTED, actor_id, store.snapshot(card))
    values = {**pending.values, "changes": {"mentioned": [[], list(mentioned)]}}
    written = db.session.connection().execute(insert(CardEvent.__table__), values)
    store._noted(written.inserted_primary_key[0], store.NewEvent(values))
    db.session.commit()


def test_an_assignment_tells_the_assignee_and_counts_unread(app, board, ctx):
    cards.assign_card(board["board"], who(board, "lee", Role.LEAD), board["c"], board["mia"])
    assert heard(board["mia"]) == [(board["c"], NoticeKind.ASSIGNED)]
    assert unread(board["mia"]) == 1
    assert heard(board["lee"]) == []


def test_nobody_hears_of_their_own_assignment_or_pull(app, board, ctx):
    before = all_notifications()
    mia = who(board, "mia")
    cards.assign_card(board["board"], mia, board["c"], board["mia"])
    cards.assign_card(board["board"], mia, board["c"], None)
    assert all_notifications() == before


def test_an_s1_filed_tells_members_and_leads_only(app, board, ctx):
    sue = who(board, "sue", Role.SUPPORT)
    values = REQUEST | {"severity": "S1"}
    card = intake.file_request(board["board"], sue, values, intake.new_intake_key()).card
    for name in ("ann", "lee", "mia"):
        assert heard(board[name])[-1:] == [(card.id, NoticeKind.S1_FILED)], name
    assert heard(board["sue"]) == [] and heard(board["vic"]) == []


def test_an_s3_filed_tells_nobody(app, board, ctx):
    before = all_notifications()
    sue = who(board, "sue", Role.SUPPORT)
    intake.file_request(board["board"], sue, REQUEST, intake.new_intake_key())
    assert all_notifications() == before


def test_a_comment_tells_those_it_mentions_and_the_watchers(app, board, ctx):
    watching.add_watchers(board["c"], {board["ann"], board["lee"], board["mia"]})
    db.session.commit()
    comment_event(board["c"], board["ann"], [board["mia"], board["vic"]])
    assert heard(board["mia"]) == [(board["c"], NoticeKind.MENTIONED)]
    assert heard(board["vic"]) == [(board["c"], NoticeKind.MENTIONED)]  # anyone on the board
    assert heard(board["lee"]) == [(board["c"], NoticeKind.WATCHING)]
    assert heard(board["ann"]) == []  # the author


def test_a_move_tells_the_watchers_who_are_still_on_the_board(app, board, ctx):
    watching.add_watchers(board["c"], {board["lee"], board["mia"]})
    db.session.execute(
        Membership.__table__.delete().where(
            Membership.user_id == board["mia"], Membership.board_id == board["board"]
        )
    )
    db.session.commit()
    card = db.session.get(Card, board["c"])
    cards.move_card(
        board["board"], who(board, "ann"), card.id, lane_id=card.lane_id,
        column_id=board["Done"],
    )  # fmt: skip
    assert heard(board["lee"]) == [(board["c"], NoticeKind.WATCHING)]
    assert heard(board["mia"]) == []


@pytest.mark.parametrize("blocked", [True, False])
def test_blocking_and_unblocking_tell_the_assignee(app, board, ctx, blocked):
    lee = who(board, "lee", Role.LEAD)
    take(board, "busy", "ann")
    if not blocked:
        cards.set_blocked(board["board"], who(board, "ann"), board["busy"], True, "keys")
    cards.set_blocked(board["board"], lee, board["busy"], blocked, "waiting for keys")
    assert heard(board["ann"])[-1] == (board["busy"], NoticeKind.BLOCKED)


def test_a_wip_override_tells_the_cards_assignee(app, board, ctx):
    lee = who(board, "lee", Role.LEAD)
    cards.assign_card(board["board"], lee, board["c"], board["mia"])
    card = db.session.get(Card, board["c"])
    cards.move_card(
        board["board"], lee, card.id, lane_id=card.lane_id,
        column_id=board["In progress"], reason="the release needs it",
    )  # fmt: skip
    # Assigned, mia watches her card: she hears of the move, and of its override.
    assert heard(board["mia"]) == [
        (board["c"], NoticeKind.ASSIGNED),
        (board["c"], NoticeKind.WATCHING),
        (board["c"], NoticeKind.WIP_OVERRIDE),
    ]
    assert unread(board["mia"]) == 3


def test_a_rolled_back_event_leaves_no_notification_nor_count(app, board, ctx):
    card = db.session.get(Card, board["c"])
    store.append_event(card, EventKind.ASSIGNED, board["lee"], {"assignee_id": board["ann"]})
    db.session.rollback()
    assert heard(board["ann"]) == [] and unread(board["ann"]) == 0


def test_an_event_that_cannot_notify_reads_nothing_more(app, board, ctx):
    card = db.session.get(Card, board["c"])
    ann = who(board, "ann")

    def edit():
        return cards.edit_card(board["board"], ann, card.id, card.version, {"title": "New"})

    sent, _ = statements_sent(app, edit)
    assert not [s for s in sent if "membership" in s or "notification" in s]
    assert not [s for s in sent if "card_watcher" in s]


def test_mark_read_keeps_the_count_and_refuses_another_persons(app, board, ctx):
    lee = who(board, "lee", Role.LEAD)
    cards.assign_card(board["board"], lee, board["c"], board["mia"])
    cards.set_blocked(board["board"], lee, board["c"], True, "keys")
    first, second = [n.id for n in notifications.page(board["mia"]).items]
    with pytest.raises(NotFound):
        notifications.mark_read(board["ann"], first)
    assert unread(board["mia"]) == 2
    notifications.mark_read(board["mia"], first)
    notifications.mark_read(board["mia"], first)  # twice: counted once
    assert unread(board["mia"]) == 1
    assert notifications.mark_all_read(board["mia"]) == 1
    assert unread(board["mia"]) == 0
    assert all(item.read for item in notifications.page(board["mia"]).items)
    assert second


def test_the_list_is_newest_first_in_pages_and_reads_as_sentences(app, board, ctx):
    lee = who(board, "lee", Role.LEAD)
    take(board, "busy", "ann")
    for _ in range(3):
        cards.set_blocked(board["board"], lee, board["busy"], True, "keys")
        cards.set_blocked(board["board"], lee, board["busy"], False)
    first = notifications.page(board["ann"], size=4)
    rest = notifications.page(board["ann"], before=first.older, size=4)
    ids = [i.id for i in first.items + rest.items]
    assert ids == sorted(ids, reverse=True) and len(ids) == 6 and rest.older is None
    assert first.items[0].sentence.startswith("Lee Person unblocked your card FEAT-2: Busy")


def test_only_boards_one_is_still_on_are_listed(app, board, ctx):
    cards.assign_card(board["board"], who(board, "lee", Role.LEAD), board["c"], board["mia"])
    db.session.execute(Membership.__table__.delete().where(Membership.user_id == board["mia"]))
    db.session.commit()
    assert notifications.page(board["mia"]).items == []
