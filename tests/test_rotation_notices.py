"""The people on support duty hear of an S1 or S2 at once (issue 13): in the app, and by
mail when mail is set up (through the outbox, after the commit)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.helpers import (
    REQUEST,
    BoardSpec,
    CardSpec,
    Person,
    SmtpServer,
    actor,
    join_senders,
    mail_to,
    settled_mail,
)
from tracker.domain.vocabulary import NoticeKind, Role
from tracker.extensions import db
from tracker.models import Card, Lane, Notification, User
from tracker.services import cards, intake, rotation


@pytest.fixture
def board_spec() -> BoardSpec:
    return BoardSpec(
        people={
            "lee": Person(Role.LEAD, email="lee@example.com"),
            "mia": Person(Role.MEMBER, email="mia@example.com"),
            "max": Person(Role.MEMBER, email="max@example.com"),
            "sam": Person(Role.SUPPORT),
        },
        cards=(CardSpec("bug", "support", "Export is slow", by="lee"),),
    )


def person(board, name, role):
    return actor(db.session.get(User, board[name]), role)


@pytest.fixture
def mia_on_duty(app, board):
    with app.app_context():
        rotation.save_setup(
            board["board"],
            person(board, "lee", Role.LEAD),
            enabled=True,
            on_duty=1,
            term_periods=1,
            staggered=False,
            pool=[board["mia"]],
        )
        db.session.remove()
    return board


def notices(app, name_id) -> list[str]:
    with app.app_context():
        query = select(Notification.kind).where(Notification.recipient_id == name_id)
        return list(db.session.execute(query.order_by(Notification.id)).scalars())


def file(app, board, severity):
    with app.app_context():
        values = REQUEST | {"severity": severity, "title": f"{severity} request"}
        sam = person(board, "sam", Role.SUPPORT)
        intake.file_request(board["board"], sam, values, intake.new_intake_key())
        db.session.remove()


@pytest.mark.parametrize("severity", ["S1", "S2"])
def test_an_s1_or_s2_filed_tells_the_people_on_duty(app, mia_on_duty, severity):
    file(app, mia_on_duty, severity)
    assert notices(app, mia_on_duty["mia"]) == [NoticeKind.ON_DUTY]
    # Off duty, max hears of an S1 as everyone does, of an S2 not at all.
    assert notices(app, mia_on_duty["max"]) == ([NoticeKind.S1_FILED] if severity == "S1" else [])


def test_an_s3_tells_nobody_and_without_a_rotation_nobody_is_on_duty(app, board):
    file(app, board, "S3")
    file(app, board, "S2")
    assert notices(app, board["mia"]) == []


def test_an_escalation_to_expedite_tells_the_people_on_duty(app, mia_on_duty):
    board = mia_on_duty
    with app.app_context():
        expedite = db.session.execute(
            select(Lane.id).where(Lane.board_id == board["board"], Lane.kind == "expedite")
        ).scalar_one()
        lee = person(board, "lee", Role.LEAD)
        card = db.session.get(Card, board["bug"])
        cards.move_card(
            board["board"], lee, board["bug"], lane_id=expedite, column_id=card.column_id
        )
        db.session.remove()
    assert notices(app, board["mia"]) == [NoticeKind.ON_DUTY]


def test_the_people_on_duty_are_mailed_at_once(app, mia_on_duty, monkeypatch):
    smtp = SmtpServer()
    smtp.start()
    try:
        mail_to(app, smtp.port, monkeypatch)
        file(app, mia_on_duty, "S2")
        sent = settled_mail(app, smtp.inbox)
        join_senders()
    finally:
        smtp.stop()
    to_mia = [mail for to, mail in sent if to == ["mia@example.com"]]
    assert len(to_mia) == 1
    assert (
        str(to_mia[0]["Subject"])
        .strip()
        .startswith("You are on support duty: SUP-2: S2 request came in")
    )
