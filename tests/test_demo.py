"""The demo seed: one person per role, a realistically full board, weeks of real history."""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import func, select

from tracker import clock, demo
from tracker.domain import history
from tracker.domain.periods import week_of
from tracker.domain.vocabulary import MailStatus, RequestStatus
from tracker.extensions import db
from tracker.models import (
    Board,
    Card,
    CardEvent,
    IncidentFollowUp,
    IncidentReview,
    Membership,
    Notification,
    User,
)
from tracker.services import desk, intake, reports, users
from tracker.store import snapshot

BERLIN = ZoneInfo("Europe/Berlin")


def assert_demo_board(now: datetime, weeks: int) -> None:
    """Everything the issue asks of the demo, read back from the database."""
    board = db.session.execute(select(Board)).scalar_one()
    assert board.timezone == "Europe/Berlin"
    lanes = {lane.kind: lane for lane in board.lanes}
    columns = {column.name: column for column in board.columns}
    active = {column.id for column in board.columns if column.kind == "active"}
    all_cards = list(db.session.execute(select(Card)).scalars())
    open_cards = [card for card in all_cards if card.status == "open"]

    # One person per role, three or more members, all with the README's password.
    roles = Counter(
        db.session.execute(select(Membership.role).where(Membership.board_id == board.id))
        .scalars()
        .all()
    )
    assert roles["lead"] == 1 and roles["support"] == 1 and roles["viewer"] == 1
    assert roles["member"] >= 3
    admins = db.session.execute(select(User).where(User.is_admin)).scalars().all()
    assert len(admins) == 1
    for username, *_ in demo.PEOPLE:
        assert users.authenticate(username, demo.DEMO_PASSWORD) is not None, username

    # Support and feature cards in Ready, In progress and Review, and done this week.
    start, _end = week_of(now, BERLIN)
    for kind in ("support", "feature"):
        for name in ("Ready", "In progress", "Review"):
            cell = [
                c
                for c in open_cards
                if c.lane_id == lanes[kind].id and c.column_id == columns[name].id
            ]
            assert cell, f"no {kind} card in {name}"
        done = [
            c
            for c in all_cards
            if c.lane_id == lanes[kind].id and c.status == "done" and start <= c.done_at <= now
        ]
        assert done, f"no {kind} card done this week"

    # One emergency done this week, none waiting or in progress.
    expedite = [c for c in all_cards if c.lane_id == lanes["expedite"].id]
    assert not [c for c in expedite if c.status == "open"]
    assert len([c for c in expedite if c.status == "done" and c.done_at >= start]) == 1
    assert {c.severity for c in expedite} == {"S1"}
    support = [c for c in all_cards if c.lane_id == lanes["support"].id]
    assert {c.severity for c in support} <= {"S2", "S3", "S4"}

    # Lanes within their limits, except one over it through exactly one recorded override.
    wip = Counter(c.lane_id for c in open_cards if c.column_id in active)
    over = [lane for lane in board.lanes if lane.wip_limit and wip[lane.id] > lane.wip_limit]
    assert len(over) == 1, {lane.kind: (wip[lane.id], lane.wip_limit) for lane in board.lanes}
    overrides = (
        db.session.execute(select(CardEvent).where(CardEvent.kind == "wip_override"))
        .scalars()
        .all()
    )
    assert len(overrides) == 1
    overridden = db.session.get(Card, overrides[0].card_id)
    assert overridden.status == "open" and overridden.lane_id == over[0].id
    assert overridden.column_id in active and overrides[0].reason.strip()

    # Past incidents: each mitigated on its way; the two latest reviewed (written), one
    # follow-up finished and one still open; the one before them a drill (a demo of a few
    # weeks, as some tests seed, may have fewer incidents: as many of these as it can).
    done_expedite = [c for c in expedite if c.status == "done"]
    mitigated = set(
        db.session.execute(select(CardEvent.card_id).where(CardEvent.kind == "mitigated"))
        .scalars()
        .all()
    )
    assert {c.id for c in done_expedite} <= mitigated
    written = db.session.execute(select(IncidentReview)).scalars().all()
    finished = len(done_expedite)
    assert len(written) == min(2, finished) and all(r.written_at for r in written)
    follow_ups = db.session.execute(
        select(Card).join(IncidentFollowUp, IncidentFollowUp.card_id == Card.id)
    ).scalars()
    assert sorted(c.status for c in follow_ups) == ["done", "open"][: min(2, finished)]
    assert len([c for c in expedite if c.drill]) == (1 if finished >= 3 else 0)
    if weeks >= 16:
        assert finished >= 3  # the real demo shows all of it

    # Two or more blocked cards, each saying why.
    blocked = [c for c in open_cards if c.blocked]
    assert len(blocked) >= 2 and all(c.blocked_reason.strip() for c in blocked)

    # Every member and the lead hold some work in progress.
    for user_id, role in db.session.execute(select(Membership.user_id, Membership.role)):
        if role in ("lead", "member"):
            held = [c for c in open_cards if c.assignee_id == user_id and c.column_id in active]
            assert held, f"user {user_id} ({role}) holds no work"

    # History: past times, about `weeks` of them, in order, replaying to each card's state.
    events = list(db.session.execute(select(CardEvent).order_by(CardEvent.id)).scalars())
    assert max(e.at for e in events) <= now
    assert min(e.at for e in events) <= now - timedelta(weeks=weeks - 1)
    by_card: dict[int, list[CardEvent]] = defaultdict(list)
    for event in events:
        by_card[event.card_id].append(event)
    for card in all_cards:
        times = [e.at for e in by_card[card.id]]
        assert times == sorted(times), card.ref
        replayed = history.replay(e.changes for e in by_card[card.id])
        current = snapshot(card)
        assert {k: replayed.get(k) for k in current} == current, card.ref


def assert_demo_sprints(now: datetime, finished_at_least: int) -> None:
    """Two-week sprints back to the start of the history, one running now, capacity planned;
    the capacity report then has an allowance from a full window."""
    board = db.session.execute(select(Board)).scalar_one()
    sprints = reports.sprints_of(board.id)
    today = now.astimezone(BERLIN).date()
    finished = [s for s in sprints if s.end_on < today]
    running = [s for s in sprints if s.start_on <= today <= s.end_on]
    assert len(finished) >= finished_at_least and len(running) == 1
    for before, after in zip(sprints, sprints[1:], strict=False):
        assert after.start_on == before.end_on + timedelta(days=1)
    assert all((s.end_on - s.start_on).days == 13 and 0 < s.capacity_days <= 40 for s in sprints)
    first_event = db.session.execute(select(func.min(CardEvent.at))).scalar_one()
    assert sprints[0].start_on <= first_event.astimezone(BERLIN).date()
    report = reports.build_report(board)
    assert [load.period.name for load in report.loads][-1] == running[0].name
    if finished_at_least:
        assert report.allowance.average and not report.allowance.short
        assert report.allowance.feature_capacity is not None
        *finished_loads, running_load = report.loads
        assert all(load.total("person_days") > 0 for load in finished_loads)
        # The running sprint has work in it once its first day is over (on its first
        # morning, before the working day starts, nobody has worked on it yet).
        if running[0].start_on < today:
            assert running_load.total("person_days") > 0


def assert_support_follows_requests() -> None:
    """Support staff (sam) filed the requests through intake and can follow them: My
    requests shows every stage, with replies from the team on some."""
    sam = db.session.execute(select(User).where(User.username == "sam")).scalar_one()
    board = db.session.execute(select(Board)).scalar_one()
    rows = intake.my_requests(board, sam.id)
    assert len(rows) >= 20
    assert {"received", "being worked on", "done"} <= {row.status.label.lower() for row in rows}
    assert any(row.ref.startswith("EXP-") for row in rows), "emergencies are filed too"
    assert all("@" in c.requester_email for c in filed_by(sam) if c.requester != "Monitoring")
    replies = [c for row in rows for c in intake.comments(row.id, replies_only=True)]
    assert replies and all(c.author_id != sam.id for c in replies)


def assert_desk_shows_late_and_on_time(now: datetime) -> None:
    """The support desk's queue has open requests late on their targets and in time, and
    one waiting for its requester."""
    board = db.session.execute(select(Board)).scalar_one()
    page = desk.queue(board, desk.QueueFilter(sort="urgent"))
    open_rows = [row for row in page.rows if row.standing and not row.standing.current.stopped]
    assert any(row.standing.late for row in open_rows), "a request late on its target"
    assert any(not row.standing.late for row in open_rows), "a request in time"
    waiting = desk.queue(board, desk.QueueFilter(status=RequestStatus.WAITING))
    assert waiting.total >= 1, "a request waiting for its requester"


def assert_history_was_read() -> None:
    """The demo's weeks of history were read long ago: a demo person's bell counts only what
    the final scene brought (a handful at most), and the count is the unread rows'."""
    for user in db.session.execute(select(User)).scalars():
        unread = db.session.execute(
            select(func.count())
            .select_from(Notification)
            .where(Notification.recipient_id == user.id, Notification.read_at.is_(None))
        ).scalar_one()
        assert user.unread_notifications == unread <= 15, (user.username, unread)
    assert db.session.execute(select(func.count()).select_from(Notification)).scalar_one() > 50


def filed_by(user: User) -> list[Card]:
    return list(db.session.execute(select(Card).where(Card.filed_by_id == user.id)).scalars())


# seed-demo here seeds half the default sixteen weeks: the same code paths in half the time
# (`make run` seeds the whole demo; the days and the mail below take two or three weeks).
CLI_WEEKS = demo.WEEKS // 2


def test_seed_demo_builds_the_demo_once(app, monkeypatch):
    monkeypatch.setattr(demo, "seed", functools.partial(demo.seed, weeks=CLI_WEEKS))
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    second = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "weatherboard" in first.output and "history events" in first.output
    assert f"over {CLI_WEEKS} weeks" in first.output  # the command seeded through demo.seed
    # Who is who: one line per demo person with their role, and everyone sees the board.
    lines = first.output.splitlines()
    for username, name, _admin, role in demo.PEOPLE:
        (line,) = [line for line in lines if line.split()[:1] == [username]]
        assert name in line and f"{role or 'site admin'}" in line, line
    assert "Everyone below sees the board" in first.output and "as lead" not in first.output
    assert second.exit_code == 0 and "already there" in second.output
    with app.app_context():
        now = clock.now()
        people = db.session.execute(select(User.username)).scalars().all()
        assert sorted(people) == sorted(username for username, *_ in demo.PEOPLE)
        assert_demo_board(now, CLI_WEEKS)
        all_cards = list(db.session.execute(select(Card)).scalars())
        emergencies = [c for c in all_cards if c.ref.startswith("EXP-") and c.status == "done"]
        assert len(emergencies) >= 3, "a few emergencies over the weeks"
        assert any(c.status == "closed" for c in all_cards), "some won't do or duplicates"
        kinds = set(db.session.execute(select(CardEvent.kind)).scalars())
        assert {"created", "pulled", "moved", "assigned", "edited", "blocked"} <= kinds
        assert {"unblocked", "closed", "wip_override", "reordered", "commented"} <= kinds
        assert_demo_sprints(now, finished_at_least=CLI_WEEKS // 2 - 2)  # two-week sprints
        assert_history_was_read()
        assert_support_follows_requests()
        assert_desk_shows_late_and_on_time(now)
        db.session.remove()


@pytest.mark.parametrize(
    "local_now",
    [
        datetime(2026, 11, 23, 0, 20),  # Monday just after midnight: no working time yet
        datetime(2026, 11, 23, 9, 40),  # Monday morning, work has just begun
        datetime(2026, 3, 25, 14, 5),  # Wednesday afternoon, days before the clocks change
        datetime(2026, 11, 29, 21, 0),  # Sunday evening: the week's work is done
    ],
)
def test_the_board_is_right_whatever_the_day(app, local_now):
    now = local_now.replace(tzinfo=BERLIN)
    with time_machine.travel(now, tick=False), app.app_context():
        demo.seed(weeks=2)
        assert_demo_board(now, 2)
        assert_demo_sprints(now, finished_at_least=0)
        assert_desk_shows_late_and_on_time(now)
        db.session.remove()


def test_a_seed_that_stopped_halfway_is_not_taken_for_the_demo(app, monkeypatch):
    """seed-demo dies in the middle (here: an error while simulating the weeks): the next
    run says the demo is incomplete and how to start over, instead of "already there"."""

    def crash(self):
        raise RuntimeError("the machine went down")

    with monkeypatch.context() as patched:
        patched.setattr(demo.Replay, "run", crash)
        first = app.test_cli_runner().invoke(args=["seed-demo"])
    assert first.exit_code != 0 and isinstance(first.exception, RuntimeError)
    again = app.test_cli_runner().invoke(args=["seed-demo"])
    assert again.exit_code == 1, again.output
    assert "stopped before it finished" in again.output
    assert "instance/weatherboard.sqlite3" in again.output and "make run" in again.output
    with app.app_context():
        assert demo.seed_state() == demo.PARTIAL
        db.session.remove()


def test_a_database_seeded_before_the_markers_counts_as_the_demo(app):
    """Demo people without either marker: an earlier version's seed, which always ran to
    its end (the people came first, and there was no other way to get them)."""
    from tracker.models import AuditEvent

    with app.app_context():
        assert demo.seed_state() == demo.ABSENT
        demo.seed(weeks=1)
        assert demo.seed_state() == demo.COMPLETE
        db.session.execute(AuditEvent.__table__.delete())  # as before the markers
        db.session.commit()
        assert demo.seed_state() == demo.COMPLETE
        db.session.remove()


def test_the_demo_seeds_whole_with_mail_set_up(app, monkeypatch):
    """With mail configured every filed request and reply queues mail, and the background
    sender writes to the outbox while the seed goes on writing: both queue for SQLite's
    write lock, neither fails ("database is locked" stopped the seed halfway before)."""
    from tests.helpers import SmtpServer, join_senders, mail_to
    from tracker.models import OutboundMail
    from tracker.services.mail import delivery

    server = SmtpServer()
    server.start()
    try:
        mail_to(app, server.port, monkeypatch)
        with app.app_context():
            demo.seed(weeks=3)
            assert demo.seed_state() == demo.COMPLETE
            db.session.remove()
        join_senders()
        failures: list[tuple[int, str]] = []
        with app.app_context():
            # The seed moves the clock through past weeks, so a sender thread that ran
            # early may have left a mail that was not yet due then: send what is due now.
            # A send the loaded machine cut short is retried at its retry time, as in
            # production, and a dropped connection leaves the rest of its batch for the
            # next run: deliver until nothing is left, the clock past each retry.
            later = clock.now()
            for _ in range(6):
                with clock.fixed(later):
                    delivery.deliver_pending()
                unsent = db.session.execute(
                    select(OutboundMail.id, OutboundMail.last_error).where(
                        OutboundMail.status != MailStatus.SENT
                    )
                ).all()
                failures += [(row.id, row.last_error) for row in unsent if row.last_error]
                if not unsent:
                    break
                later += timedelta(hours=6)
            statuses = Counter(db.session.execute(select(OutboundMail.status)).scalars())
            db.session.remove()
        assert statuses["sent"] > 0 and set(statuses) == {"sent"}, (statuses, failures)
        assert len(server.inbox.messages) == statuses["sent"]
    finally:
        server.stop()
