"""People management (admins): create people, set their board roles, make or unmake site
admins, deactivate and reactivate, reset passwords. Every act is audited in its own commit.

Nothing that history points to is ever deleted: a person leaves by being deactivated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from tracker import database
from tracker.domain.errors import InvalidRequest, NotFound
from tracker.extensions import db
from tracker.models import Board, Membership, User
from tracker.services import audit, boards, users
from tracker.services.common import ROLES, Actor

NO_ROLE = "none"


@dataclass
class PersonRow:
    """One person on the people list, with their boards and roles."""

    user: User
    memberships: list[tuple[Board, str]] = field(default_factory=list)


def people() -> list[PersonRow]:
    """Everyone, active first, by name, each with their boards and roles (two queries)."""
    users_ = db.session.execute(
        select(User).order_by(User.active.desc(), func.lower(User.name), User.id)
    ).scalars()
    rows = {user.id: PersonRow(user) for user in users_}
    for membership, board in db.session.execute(
        select(Membership, Board)
        .join(Board, Board.id == Membership.board_id)
        .order_by(Board.name, Board.id)
    ):
        if membership.user_id in rows:
            rows[membership.user_id].memberships.append((board, membership.role))
    return list(rows.values())


def _found(model: type, row_id: Any, missing: str):
    """The row of model with this id, or NotFound(missing) (also for an id that is no number)."""
    try:
        row = db.session.get(model, int(row_id))
    except (TypeError, ValueError):
        row = None
    if row is None:
        raise NotFound(missing)
    return row


def get_person(user_id: Any) -> User:
    return _found(User, user_id, "That person does not exist.")


def memberships_of(user_id: int) -> list[tuple[Board, str]]:
    """The boards a person is on, with their role, by board name."""
    return [
        (board, role)
        for board, role in db.session.execute(
            select(Board, Membership.role)
            .join(Membership, Membership.board_id == Board.id)
            .where(Membership.user_id == user_id)
            .order_by(Board.name, Board.id)
        )
    ]


def all_boards() -> list[Board]:
    return list(db.session.execute(select(Board).order_by(Board.name, Board.id)).scalars())


def active_people() -> list[User]:
    return list(
        db.session.execute(
            select(User).where(User.active.is_(True)).order_by(func.lower(User.name), User.id)
        ).scalars()
    )


@dataclass(frozen=True)
class Created:
    """A person just made, and the temporary password to give them when it was generated
    (shown once, never stored in clear)."""

    user: User
    generated_password: str | None


def create_person(
    username: str,
    name: str,
    email: str | None,
    password: str | None,
    *,
    is_admin: bool = False,
    actor: Actor,
) -> Created:
    """An admin adds a person with a temporary password (theirs, or a generated one)."""
    if not (name or "").strip():
        raise InvalidRequest("Give the person's name.")
    generated = None
    if not password:
        generated = password = users.generated_password()
    user = users.new_user(username, name, password, is_admin=is_admin, email=email, actor=actor)
    db.session.commit()
    return Created(user, generated)


def set_membership(board_id: Any, user_id: Any, role: str, *, actor: Actor) -> str:
    """Give a person a role on a board, change it, or take them off it (role "none").

    Returns what happened: added, changed, removed or unchanged.
    """
    if role != NO_ROLE and role not in ROLES:
        raise InvalidRequest("Choose a role: lead, member, support, viewer, or none.")
    user = get_person(user_id)
    try:
        board = db.session.get(Board, int(board_id))
    except (TypeError, ValueError):
        board = None
    if board is None:
        raise NotFound("That board does not exist.")
    return boards.set_membership(board, user, None if role == NO_ROLE else role, actor=actor)


def _lock_people() -> None:
    """Serialise admin-flag and activation changes, so two admins cannot each remove the
    other and leave nobody: a write lock (SQLite) or the admins' rows locked (PostgreSQL)."""
    session = db.session
    if session.get_bind().dialect.name == "sqlite":
        if not database.hold_write_lock(session):
            session.expire_all()
    else:
        session.execute(select(User.id).where(User.is_admin.is_(True)).with_for_update())
        session.expire_all()


def _other_active_admins(user_id: int) -> int:
    return db.session.execute(
        select(func.count())
        .select_from(User)
        .where(User.is_admin.is_(True), User.active.is_(True), User.id != user_id)
    ).scalar_one()


def set_admin(user_id: Any, is_admin: bool, *, actor: Actor) -> User:
    """Make a person a site admin, or no longer one (never the last active admin)."""
    _lock_people()
    user = get_person(user_id)
    if user.is_admin == is_admin:
        db.session.rollback()
        return user
    if not is_admin and user.active and not _other_active_admins(user.id):
        raise InvalidRequest(
            f"{user.name} is the last active admin: make someone else an admin first."
        )
    user.is_admin = is_admin
    audit.record(
        "person.admin_granted" if is_admin else "person.admin_revoked",
        actor_id=actor.id,
        address=actor.address,
        target_type="user",
        target_id=user.id,
    )
    db.session.commit()
    return user


def set_active(user_id: Any, active: bool, *, actor: Actor) -> User:
    """Deactivate a person (their sessions end at once; their history stays) or let them
    log in again. Nobody deactivates themselves or the last active admin."""
    _lock_people()
    user = get_person(user_id)
    if user.active == active:
        db.session.rollback()
        return user
    if not active:
        if user.id == actor.id:
            raise InvalidRequest("You cannot deactivate yourself; ask another admin.")
        if user.is_admin and not _other_active_admins(user.id):
            raise InvalidRequest(f"{user.name} is the last active admin and stays active.")
        user.active = False
        users.rotate_session_token(user)
    else:
        user.active = True
    audit.record(
        "person.reactivated" if active else "person.deactivated",
        actor_id=actor.id,
        address=actor.address,
        target_type="user",
        target_id=user.id,
    )
    db.session.commit()
    return user


def reset_password(user_id: Any, password: str | None, *, actor: Actor) -> str | None:
    """An admin gives a person a new temporary password (typed, or generated and returned
    to show once); the person's sessions end at once."""
    user = get_person(user_id)
    generated = None
    if not password:
        generated = password = users.generated_password()
    users.set_password(user, password)
    audit.record(
        "person.password_reset",
        actor_id=actor.id,
        address=actor.address,
        target_type="user",
        target_id=user.id,
    )
    db.session.commit()
    return generated


def get_board(board_id: Any) -> Board:
    """A board for an admin's pages, or NotFound."""
    return _found(Board, board_id, "That board does not exist.")
