"""Notification mail, against a real SMTP server: at once through the outbox after the
commit (with a working unsubscribe link), never without an address, a choice or mail set
up; the daily digest (`flask send-digests`) once per person and day, even run twice or at
once."""

from __future__ import annotations

import re
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.helpers import (
    BoardSpec,
    CardSpec,
    Person,
    SmtpServer,
    actor,
    join_senders,
    mail_to,
    settled_mail,
)
from tracker import clock
from tracker.domain.vocabulary import MailKind, MailMode, Role
from tracker.extensions import db
from tracker.models import DigestSent, OutboundMail, User
from tracker.services import cards, notifications

UNSUBSCRIBE = re.compile(
    r"https://tracker\.example\.com(/notifications/unsubscribe/[A-Za-z0-9_.-]+)"
)


@pytest.fixture
def board_spec() -> BoardSpec:
    return BoardSpec(
        people={
            "ann": Person(Role.MEMBER, email="ann@example.com"),
            "lee": Person(Role.LEAD, email="lee@example.com"),
            "mia": Person(Role.MEMBER),  # no address
        },
        cards=tuple(CardSpec(f"c{i}", "feature", f"Card {i}", by="lee") for i in range(3)),
    )


@pytest.fixture
def smtp():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mail_on(app, smtp, monkeypatch):
    mail_to(app, smtp.port, monkeypatch)
    yield smtp
    join_senders()


def lee_does(app, board, work) -> None:
    with app.app_context():
        lee = actor(db.session.get(User, board["lee"]), Role.LEAD)
        work(lee)
        db.session.remove()


def assign(app, board, card, to) -> None:
    lee_does(app, board, lambda lee: cards.assign_card(board["board"], lee, board[card], board[to]))


def block(app, board, card) -> None:
    lee_does(
        app, board, lambda lee: cards.set_blocked(board["board"], lee, board[card], True, "keys")
    )


def choose(app, user_id, **modes) -> None:
    with app.app_context():
        notifications.set_mail_modes(user_id, modes)
        db.session.remove()


def test_an_assignment_is_mailed_at_once_with_a_working_unsubscribe_link(
    app, client, board, mail_on
):
    assign(app, board, "c0", "ann")
    (message,) = settled_mail(app, mail_on.inbox)
    recipients, mail = message
    body = mail.get_content()
    assert recipients == ["ann@example.com"]
    assert mail["Subject"] == "Lee Person assigned you FEAT-1: Card 0"
    assert f"https://tracker.example.com/b/{board['board']}?card={board['c0']}" in body
    link = UNSUBSCRIBE.search(body).group(1)
    assert client.get(link).status_code == 200  # asks first
    assert client.post(link).status_code == 200
    assign(app, board, "c1", "ann")
    assert len(settled_mail(app, mail_on.inbox)) == 1  # nothing more: assigned mail is off


def test_kinds_off_by_default_and_people_without_an_address_get_no_mail(app, board, mail_on):
    assign(app, board, "c0", "ann")
    block(app, board, "c0")  # blocked: off by default
    assign(app, board, "c1", "mia")  # no address
    assert len(settled_mail(app, mail_on.inbox)) == 1


def test_a_kind_turned_to_at_once_is_mailed(app, board, mail_on):
    choose(app, board["ann"], blocked=MailMode.NOW)
    assign(app, board, "c0", "ann")
    block(app, board, "c0")
    subjects = sorted(m["Subject"] for _, m in settled_mail(app, mail_on.inbox))
    assert subjects == [
        "Lee Person assigned you FEAT-1: Card 0",
        "Lee Person blocked your card FEAT-1: Card 0 (waiting for: keys)",
    ]


def test_without_mail_set_up_nothing_is_queued(app, board):
    assign(app, board, "c0", "ann")
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(OutboundMail)).scalar() == 0
        assert notifications.unread_count(board["ann"]) == 1  # the bell still hears of it


def test_a_team_members_mail_is_not_on_any_requests_page(app, board, mail_on):
    assign(app, board, "c0", "ann")
    settled_mail(app, mail_on.inbox)
    with app.app_context():
        rows = db.session.execute(select(OutboundMail.kind, OutboundMail.card_id)).all()
    assert rows == [(MailKind.NOTICE, None)]


# Digests -----------------------------------------------------------------------------------


YESTERDAY = datetime(2026, 3, 1, 15, 0, tzinfo=UTC)
TODAY = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)


def digest_setup(app, board) -> None:
    """Ann wants assignments and blocks in the day's digest; two of each happen yesterday,
    one today (the next digest's)."""
    choose(app, board["ann"], assigned=MailMode.DIGEST, blocked=MailMode.DIGEST)
    with clock.fixed(YESTERDAY):
        assign(app, board, "c0", "ann")
        block(app, board, "c0")
    with clock.fixed(TODAY):
        assign(app, board, "c1", "ann")


def send_digests(runner, day="2026-03-01"):
    """The command for a day (the clock left alone: the senders it starts read it too)."""
    return runner.invoke(args=["send-digests", "--day", day])


def digests_now(app, now=TODAY + timedelta(hours=1)):
    """A run as the command does it by default: yesterday in each person's time zone."""
    with app.app_context():
        done = notifications.send_digests(now=now)
        db.session.remove()
    return done


def test_the_digest_sends_yesterday_once_however_often_it_runs(app, board, mail_on):
    digest_setup(app, board)
    assert digests_now(app).sent == 1
    runner = app.test_cli_runner()
    again = send_digests(runner)
    assert again.exit_code == 0, again.output
    assert "0 digest emails written, 1 sent before" in again.output, again.output
    assert (digests_now(app).sent, digests_now(app).already) == (0, 1)
    (message,) = settled_mail(app, mail_on.inbox)
    body = message[1].get_content()
    assert message[0] == ["ann@example.com"] and "2026-03-01" in message[1]["Subject"]
    assert "assigned you FEAT-1: Card 0" in body and "blocked your card FEAT-1" in body
    assert "FEAT-2" not in body  # today's: tomorrow's digest
    assert len(UNSUBSCRIBE.findall(body)) == 2  # one per kind in it
    with app.app_context():
        sent = db.session.execute(select(DigestSent.user_id, DigestSent.day)).all()
    assert sent == [(board["ann"], date(2026, 3, 1))]


def test_the_next_day_is_a_digest_of_its_own(app, board, mail_on):
    digest_setup(app, board)
    runner = app.test_cli_runner()
    assert "1 digest email written" in send_digests(runner).output
    later = send_digests(runner, "2026-03-02")
    assert "1 digest email written" in later.output, later.output
    bodies = [m.get_content() for _, m in settled_mail(app, mail_on.inbox)]
    assert len(bodies) == 2 and "FEAT-2" in bodies[1]


def test_no_digest_without_digest_choices_or_mail(app, board, mail_on, monkeypatch):
    with clock.fixed(YESTERDAY):
        assign(app, board, "c0", "ann")  # at once by default: not a digest's
    join_senders()
    runner = app.test_cli_runner()
    assert "0 digest emails written" in send_digests(runner).output
    monkeypatch.setitem(app.config, "SMTP_HOST", "")
    assert "Mail is not set up" in send_digests(runner).output


def test_two_runs_at_once_send_one_digest(app, board, mail_on):
    digest_setup(app, board)
    results, errors = [], []

    def run():
        try:
            with app.app_context(), clock.fixed(TODAY + timedelta(hours=1)):
                results.append(notifications.send_digests())
                db.session.remove()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert sorted(r.sent for r in results) == [0, 1]
    assert len(settled_mail(app, mail_on.inbox)) == 1
