"""Plain helpers for building boards, people and cards in tests."""

from __future__ import annotations

import json
import socket

from sqlalchemy import select

from tracker.extensions import db
from tracker.models import Board, BoardColumn, Card, Lane, User
from tracker.services import boards, cards, users
from tracker.services.common import Actor

PASSWORD = "correct horse battery"
# A support request's fields as the intake form sends them (services.intake.file_request).
REQUEST = {
    "title": "Export is empty",
    "description": "The CSV has only a header.",
    "requester": "Dana",
    "requester_email": "",
    "severity": "S3",
    "component": "Other",
    "environment": "",
}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_user(
    username: str, *, board: Board | None = None, role: str | None = None, admin: bool = False
) -> User:
    user = users.create_user(username, username.title() + " Person", PASSWORD, is_admin=admin)
    if board is not None and role is not None:
        boards.set_membership(board, user, role)
    return user


def make_board(name: str = "Team", **limits) -> Board:
    """A default board; keyword arguments set lane limits by kind, e.g. support=2."""
    board = boards.create_board(name)
    for lane in board.lanes:
        if lane.kind in limits:
            lane.wip_limit = limits[lane.kind]
    db.session.commit()
    return board


def actor(user: User, role: str = "member") -> Actor:
    return Actor(user.id, user.name, role)


def lane(board: Board, kind: str) -> Lane:
    return db.session.execute(
        select(Lane).where(Lane.board_id == board.id, Lane.kind == kind)
    ).scalar_one()


def column(board: Board, name: str) -> BoardColumn:
    return db.session.execute(
        select(BoardColumn).where(BoardColumn.board_id == board.id, BoardColumn.name == name)
    ).scalar_one()


def make_card(
    board: Board,
    who: Actor,
    kind: str = "feature",
    title: str = "A card",
    at: str | None = None,
    **fields,
) -> Card:
    """A card in the lane's Ready column; `at` moves it to the named column."""
    card = cards.create_card(board.id, who, lane(board, kind).id, {"title": title, **fields})
    if at is not None and at != "Ready":
        card = cards.move_card(
            board.id,
            Actor(who.id, who.name, "lead"),
            card.id,
            lane_id=card.lane_id,
            column_id=column(board, at).id,
            reason="test setup",
        ).card
    return card


class Auth:
    """Log a test client in and out."""

    def __init__(self, client):
        self.client = client

    def login(self, username: str, password: str = PASSWORD):
        return self.client.post("/login", data={"username": username, "password": password})

    def logout(self):
        return self.client.post("/logout")


def everything_in_the_database(app) -> str:
    """Every row of every table as text (lower case), for "is it anywhere?" checks."""
    with app.app_context():
        text = []
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(select(table)):
                text.append(json.dumps([str(value) for value in row]))
        db.session.remove()
    return "\n".join(text).lower()
