"""The board's store (tracker.store) against a real database: SQLite, and PostgreSQL when
configured. Its reads must equal plain reads, its one-statement writes must write exactly
what separate ones would, and a stale write must leave nothing behind."""

import re
from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import event, func, select, update
from sqlalchemy.orm.exc import StaleDataError

from tests.helpers import REQUEST, actor, column, lane, make_board, make_card, make_user
from tracker import database, store
from tracker.domain import wip
from tracker.domain.errors import NotFound
from tracker.extensions import db
from tracker.models import Board, BoardColumn, Card, CardEvent, Rotation, Sprint
from tracker.services import boards, cards, common, erasure, intake, notifications, reports


@pytest.fixture
def team(ctx):
    board = make_board()
    ann = make_user("ann", board=board, role="member")
    bob = make_user("bob", board=board, role="member")
    return board, actor(ann), actor(bob)


@pytest.fixture
def store_alone(monkeypatch):
    """The store's own statements only: the notifications listener's read of a card's
    people (one SELECT for an event that may notify anyone) is counted in
    tests/test_notifications.py."""
    kept = [h for h in store._EVENT_LISTENERS if h is not notifications.note_event]
    monkeypatch.setattr(store, "_EVENT_LISTENERS", kept)


def _count_writes_and_reads():
    """A list that fills with the SELECT/INSERT/UPDATE/WITH statements sent from now on."""
    sent: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        if statement.lstrip().split(None, 1)[0].upper() in {"SELECT", "INSERT", "UPDATE", "WITH"}:
            sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    return sent, lambda: event.remove(db.engine, "before_cursor_execute", count)


def _counts(counts: wip.BoardWip) -> tuple[dict, dict, dict]:
    lanes, columns, people = counts.lane_count, counts.column_count, counts.person_count
    return (
        {k: v for k, v in lanes.items() if v},
        {k: v for k, v in columns.items() if v},
        {k: v for k, v in people.items() if v},
    )


def _fill(board, ann, bob) -> None:
    """Open cards in several cells and with several people, one done, one closed."""
    make_card(board, ann, "feature")
    make_card(board, ann, "feature", at="In progress")
    make_card(board, ann, "support", at="In progress")
    make_card(board, ann, "support", at="Review")
    done = make_card(board, ann, "feature", at="Done")
    assert done.status == "done"
    closed = make_card(board, ann, "feature")
    cards.close_card(board.id, ann, closed.id, "duplicate", "filed twice")
    card = make_card(board, ann, "feature", at="In progress")
    cards.assign_card(board.id, ann, card.id, bob.id)
    card = make_card(board, ann, "expedite", at="In progress")
    cards.assign_card(board.id, ann, card.id, ann.id)


def test_the_locked_read_equals_the_separate_reads(team):
    board, ann, bob = team
    _fill(board, ann, bob)
    db.session.remove()

    sent, stop = _count_writes_and_reads()
    try:
        state = store.load_locked(board.id)
    finally:
        stop()
    # SQLite's lock came with the transaction; PostgreSQL locks the board row first.
    assert len(sent) == (2 if db.engine.dialect.name == "postgresql" else 1)
    one = (state.board.id, state.lanes, state.columns, _counts(state.wip), state.rotating)
    db.session.rollback()

    separate = store.board_state(store.lock_board(board.id))
    assert one == (
        separate.board.id,
        separate.lanes,
        separate.columns,
        _counts(separate.wip),
        separate.rotating,
    )
    assert [lane.kind for lane in one[1]] == ["expedite", "support", "feature"]
    assert [c.name for c in one[2]] == ["Ready", "In progress", "Review", "Done"]
    # Only open cards count (not the done one, nor the closed one), per column and person;
    # the Ready card counts toward nothing (an unlimited queue: wip.counts_in).
    _, columns, people = one[3]
    assert sum(columns.values()) == 4  # the Expedite card counts toward its lane only
    assert people[bob.id] == 1
    assert columns[column(board, "In progress").id] == 3  # two Feature cards, one Support
    db.session.rollback()


def test_the_state_says_whether_the_board_runs_a_rotation(team):
    """A pull reads who is on duty only on a board whose rotation is on: the locked read
    says so, as the separate reads do."""
    board, _ann, _bob = team
    assert store.load_locked(board.id).rotating is False
    db.session.rollback()
    db.session.add(Rotation(board_id=board.id, enabled=False))
    db.session.commit()
    assert store.load_locked(board.id).rotating is False
    db.session.rollback()
    db.session.get(Rotation, board.id).enabled = True
    db.session.commit()
    assert store.load_locked(board.id).rotating is True
    db.session.rollback()
    assert store.board_state(store.lock_board(board.id)).rotating is True
    db.session.rollback()


def test_a_queue_column_with_a_limit_of_its_own_is_counted(team):
    """The state counts open cards only where they count toward a limit: in an active
    column, or in any column with a limit, such as a Ready queue capped at 2."""
    board, ann, bob = team
    _fill(board, ann, bob)
    make_card(board, ann, "support")
    ready = column(board, "Ready")
    assert store.load_locked(board.id).wip.column_load(ready.id).count == 0
    db.session.rollback()
    db.session.get(BoardColumn, ready.id).wip_limit = 2
    db.session.commit()
    load = store.load_locked(board.id).wip.column_load(ready.id)
    assert (load.count, load.limit, load.state) == (2, 2, "full")
    db.session.rollback()


def test_a_missing_board_is_not_found(team):
    with pytest.raises(NotFound):
        store.load_locked(987654)
    db.session.rollback()


def test_a_change_writes_its_placement_events_and_version_at_once(store_alone, team):
    board, ann, bob = team
    card = make_card(board, ann, "feature", at="In progress")
    version, card_version = board.version, card.version
    db.session.remove()

    state = store.load_locked(board.id)
    card = db.session.get(Card, card.id)
    before, was = store.snapshot(card), store.placement(card)
    review = state.column(column(board, "Review").id)
    placed = store.place(card, {"column_id": review.id, "rank": 5.0, "assignee_id": bob.id})
    assert not db.session.dirty  # the card shows its new place as committed: nothing to flush
    events = [
        store.new_event(card, "moved", ann.id, before),
        store.new_event(card, "wip_override", ann.id, store.snapshot(card), reason="why"),
    ]
    sent, stop = _count_writes_and_reads()
    try:
        change = store.commit(state, card, before=was, placed=placed, events=events)
    finally:
        stop()
    # Two events, written one by one in their order; the first makes bob its assignee, and
    # the watcher listener (tracker.subscribers) adds him to the card's watchers.
    assert len(sent) == 5
    assert len([w for w in sent if "card_watcher" in w]) == 1
    assert [e.kind for e in change.events] == ["moved", "wip_override"]
    assert change.left == (card.lane_id, column(board, "In progress").id)
    assert change.entered == (card.lane_id, review.id)
    assert change.state.wip.person_count[bob.id] == 1
    db.session.remove()

    row = db.session.get(Card, card.id)
    assert (row.column_id, row.rank, row.assignee_id) == (review.id, 5.0, bob.id)
    assert row.version == card_version + 1
    assert db.session.get(Board, board.id).version == version + 1
    written = db.session.execute(
        select(CardEvent).where(CardEvent.card_id == card.id).order_by(CardEvent.id)
    ).scalars()
    last = list(written)[-2:]
    assert [(e.id, e.kind) for e in last] == [(e.id, e.kind) for e in change.events]
    assert last[0].changes == {
        "column_id": [column(board, "In progress").id, review.id],
        "assignee_id": [None, bob.id],
    }
    assert (last[0].from_column_id, last[0].to_column_id) == (
        column(board, "In progress").id,
        review.id,
    )
    assert (last[1].changes, last[1].reason) == ({}, "why")


def test_a_change_with_one_event_is_one_statement_on_postgresql(store_alone, team):
    board, ann, _ = team
    card = make_card(board, ann, "feature")
    db.session.remove()
    state = store.load_locked(board.id)
    card = db.session.get(Card, card.id)
    before, was = store.snapshot(card), store.placement(card)
    placed = store.place(card, {"rank": 9.0, "assignee_id": ann.id})
    event_ = store.new_event(card, "assigned", ann.id, before)
    sent, stop = _count_writes_and_reads()
    try:
        change = store.commit(state, card, before=was, placed=placed, events=[event_])
    finally:
        stop()
    # The change is one statement on PostgreSQL, three on SQLite; the new assignee's watch
    # (the watcher listener, tracker.subscribers) is one more, and only for such an event.
    assert len(sent) == (1 if db.engine.dialect.name == "postgresql" else 3) + 1
    assert len([w for w in sent if "card_watcher" in w]) == 1
    db.session.remove()
    found = db.session.get(CardEvent, change.events[0].id)
    assert (found.kind, found.changes) == ("assigned", {"assignee_id": [None, ann.id]})
    assert (db.session.get(Card, card.id).rank, db.session.get(Card, card.id).assignee_id) == (
        9.0,
        ann.id,
    )


def test_a_stale_placement_writes_nothing(team):
    board, ann, _ = team
    card = make_card(board, ann, "feature")
    version = board.version
    events_before = db.session.execute(select(func.count()).select_from(CardEvent)).scalar()
    db.session.remove()

    state = store.load_locked(board.id)
    card = db.session.get(Card, card.id)
    before = store.snapshot(card)
    placed = store.place(card, {"rank": 7.0})
    # Another writer (impossible under the lock, which is why it is checked) moved it on.
    db.session.execute(update(Card).where(Card.id == card.id).values(version=Card.version + 1))
    event_ = store.new_event(card, "reordered", ann.id, before)
    with pytest.raises(StaleDataError):
        store.commit(state, card, placed=placed, events=[event_])
    db.session.rollback()
    assert db.session.get(Board, board.id).version == version
    count = db.session.execute(select(func.count()).select_from(CardEvent)).scalar()
    assert count == events_before


def test_the_version_bump_is_one_statement_and_leaves_nothing_to_flush(team):
    board, _, _ = team
    board_id, version = board.id, board.version
    locked = store.lock_board(board_id)
    store.bump_version(locked)
    assert locked.version == version + 1
    assert not db.session.dirty
    db.session.commit()
    db.session.remove()
    assert db.session.get(Board, board_id).version == version + 1


def test_append_event_writes_at_once_and_is_not_the_audit_record(team):
    board, ann, _ = team
    card = make_card(board, ann, "feature")
    written = store.append_event(card, "commented", ann.id, store.snapshot(card), reason="note")
    found = db.session.get(CardEvent, written.id)
    assert (found.kind, found.reason, found.actor_id) == ("commented", "note", ann.id)
    db.session.rollback()
    # The history event and the audit record no longer share the name `record`.
    assert not hasattr(common, "record")


def test_after_a_change_a_card_reads_its_new_lane(team):
    board, ann, _ = team
    card = make_card(board, ann, "feature")
    assert card.lane.kind == "feature"  # the relationship is loaded before the change
    expedite = lane(board, "expedite")
    change = cards.move_card(board.id, ann, card.id, lane_id=expedite.id, column_id=card.column_id)
    assert change.card.lane.kind == "expedite"
    assert [e.kind for e in change.events] == ["escalated"]


def test_the_lock_reads_again_what_was_read_before_it(team):
    board, ann, _ = team
    card = make_card(board, ann, "feature")
    db.session.remove()
    with database.reading():  # a transaction begun to read (SQLite: deferred, no lock)
        seen = db.session.get(Card, card.id)  # read before the lock, as a view may
    # Another session changes it before our lock is taken.
    with db.engine.begin() as other:
        other.execute(update(Card).where(Card.id == card.id).values(title="Changed"))
    store.load_locked(board.id)
    assert seen.title == "Changed"
    db.session.rollback()


def _version(board_id: int) -> int:
    db.session.remove()
    return db.session.get(Board, board_id).version


SPRINT = reports.SprintInput("Sprint 1", date(2026, 3, 2), date(2026, 3, 13), 20.0, None)


def _sprint_id(board_id: int) -> int:
    return db.session.execute(select(Sprint.id).where(Sprint.board_id == board_id)).scalar_one()


def test_every_use_case_that_changes_the_board_bumps_its_version_once(team):
    """Open boards poll the version, and a board page is kept per version
    (presenters.grid): each kind of change (a card, a filed request, settings, columns, a
    sprint added, changed or removed, an erasure) moves it by exactly one, with the store's
    one UPDATE that adds one in the database (not an ORM write of a value read earlier)."""
    board, ann, _ = team
    board_id = board.id
    lee = make_user("lee", board=board, role="lead")
    lead = actor(lee, "lead")
    sam = actor(make_user("sam", board=board, role="support"), "support")
    admin = actor(make_user("ada", admin=True), "")
    changes = {
        "card": lambda: make_card(db.session.get(Board, board_id), ann, "feature"),
        "request": lambda: intake.file_request(board_id, sam, REQUEST, intake.new_intake_key()),
        "settings": lambda: boards.update_settings(
            board_id,
            lead,
            timezone="Europe/Berlin",
            per_person_limit="2",
            pull_order="support,feature",
            lanes=[
                boards.LaneSetting(x.id, x.name, x.wip_limit, x.limit_mode)
                for x in db.session.get(Board, board_id).lanes
            ],
            column_limits={},
        ),
        "columns": lambda: boards.update_columns(
            board_id,
            lead,
            [(c.id, c.kind, c.name) for c in db.session.get(Board, board_id).columns],
        ),
        "sprint added": lambda: reports.add_sprint(board_id, lead, SPRINT),
        "sprint changed": lambda: reports.update_sprint(
            board_id, lead, _sprint_id(board_id), replace(SPRINT, name="Sprint 1b")
        ),
        "sprint removed": lambda: reports.delete_sprint(board_id, lead, _sprint_id(board_id)),
        "erasure": lambda: erasure.erase(
            admin, [db.session.execute(select(func.max(Card.id))).scalar()]
        ),
    }
    for what, change in changes.items():
        before = _version(board_id)
        sent, stop = _count_writes_and_reads()
        try:
            change()
        finally:
            stop()
        bumps = [s for s in sent if re.search(r"SET version\s*=\s*\(?\w*\.?version \+", s)]
        assert _version(board_id) == before + 1, what
        assert len(bumps) == 1, (what, [s for s in sent if s.startswith("UPDATE")])
