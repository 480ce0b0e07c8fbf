"""The demo: one person per role and a board with realistic work (see `flask seed-demo`)."""

from __future__ import annotations

from sqlalchemy import select

from tracker.extensions import db
from tracker.models import User
from tracker.services import boards, users

DEMO_PASSWORD = "weatherboard"  # noqa: S105 - the README shows it; demo mode only
PEOPLE = (
    ("admin", "Ada Admin", True, None),
    ("lead", "Lee Lead", False, "lead"),
    ("mia", "Mia Member", False, "member"),
    ("max", "Max Member", False, "member"),
    ("noor", "Noor Member", False, "member"),
    ("sam", "Sam Support", False, "support"),
    ("vic", "Vic Viewer", False, "viewer"),
)


def already_seeded() -> bool:
    return db.session.execute(select(User.id).where(User.username == "admin")).first() is not None


def seed() -> str:
    board = boards.create_board("Platform team", "Europe/Berlin")
    for username, name, is_admin, role in PEOPLE:
        user = users.create_user(username, name, DEMO_PASSWORD, is_admin=is_admin)
        if role:
            boards.set_membership(board, user, role)
    return f"Seeded the demo board {board.name!r}; log in as lead / {DEMO_PASSWORD}."
