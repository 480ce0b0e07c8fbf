"""People: creating them, checking passwords, logging in, and ending their sessions."""

from __future__ import annotations

import functools
import secrets

from sqlalchemy import Select, and_, bindparam, select
from werkzeug.security import check_password_hash, generate_password_hash

from tracker import clock
from tracker.domain import accounts
from tracker.domain.accounts import MIN_PASSWORD_LENGTH as MIN_PASSWORD_LENGTH
from tracker.domain.accounts import normal_username
from tracker.domain.errors import InvalidRequest
from tracker.extensions import db
from tracker.models import Board, Membership, User
from tracker.services import audit, host
from tracker.services.common import Actor

NOT_YOUR_PASSWORD = "That is not your current password."  # noqa: S105 - a message
# Checked against when the username is unknown, so both paths cost the same hash.
_DUMMY_HASH: dict[str, str] = {}


def _hash_method() -> str:
    """The app's password hash method (tracker.config: scrypt; tests choose a cheap one)."""
    return host.config()["PASSWORD_HASH_METHOD"]


def _hash(password: str) -> str:
    return generate_password_hash(password, method=_hash_method())


@functools.cache
def common_passwords() -> frozenset[str]:
    """The ~30,000 most common passwords (from breaches), the list zxcvbn keeps: read
    offline from the installed package, once per process, only when a password is set."""
    # Imported here, not at the top: a heavy dependency (the word lists are nearly a
    # megabyte of source, about 60 ms to import here) that a process serving pages never needs.
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(word.lower() for word in FREQUENCY_LISTS["passwords"])


def check_password(password: str, username: str) -> None:
    """Refuse a password that is too short or long, the username, repetitive or common,
    with a message saying what to do instead. Every way of setting a password passes here."""
    problem = accounts.password_problem(password, username, common_passwords())
    if problem is not None:
        raise InvalidRequest(problem)


def new_user(
    username: str,
    name: str,
    password: str,
    *,
    is_admin: bool = False,
    email: str | None = None,
    actor: Actor | None = None,
) -> User:
    """Add a person to the session and audit it as the act of actor (None: the command
    line); the caller commits."""
    username = normal_username(username)
    if not username or len(username) > 64:
        raise InvalidRequest("A username is 1 to 64 characters.")
    check_password(password, username)
    if db.session.execute(select(User.id).where(User.username == username)).first():
        raise InvalidRequest(f"The username {username} is taken.")
    user = User(
        username=username,
        name=name.strip()[:120] or username,
        email=(email or "").strip() or None,
        password_hash=_hash(password),
        session_token=secrets.token_urlsafe(32),
        is_admin=is_admin,
        active=True,
        created_at=clock.now(),
    )
    db.session.add(user)
    db.session.flush()
    audit.record(
        "person.created",
        actor_id=actor.id if actor else None,
        address=actor.address if actor else "",
        target_type="user",
        target_id=user.id,
        detail={"admin": is_admin},
    )
    return user


def create_user(
    username: str, name: str, password: str, *, is_admin: bool = False, email: str | None = None
) -> User:
    """Add a person who can log in; usernames are unique and case-insensitive."""
    user = new_user(username, name, password, is_admin=is_admin, email=email)
    db.session.commit()
    return user


def authenticate(username: str, password: str) -> User | None:
    """The active person with this username and password, or None."""
    user = _by_username(username)
    if user is None:
        _matches(None, password)
        return None
    return user if _matches(user.password_hash, password) and user.active else None


def _matches(stored_hash: str | None, password: str) -> bool:
    """Whether the password matches the stored hash; no hash (an unknown person) costs the
    same hash computation as a known one, so timing does not tell which usernames exist."""
    if stored_hash is None:
        method = _hash_method()
        if method not in _DUMMY_HASH:
            _DUMMY_HASH[method] = _hash(secrets.token_hex(8))
        check_password_hash(_DUMMY_HASH[method], password)
        return False
    return check_password_hash(stored_hash, password)


def _by_username(username: str) -> User | None:
    return db.session.execute(
        select(User).where(User.username == normal_username(username))
    ).scalar_one_or_none()


def log_in(username: str, password: str, *, address: str) -> User | None:
    """Check a login from a client address and audit it: a success under the person's id;
    a failure under the id of the account tried when it exists, else none (never the typed
    name or password).

    The read ends before the password hash is computed (scrypt: tens of milliseconds), so
    no transaction, and on SQLite no write lock, is held meanwhile."""
    found = _by_username(username)
    stored, active, found_id = (
        (found.password_hash, found.active, found.id) if found else (None, False, None)
    )
    db.session.commit()
    user = found if _matches(stored, password) and active else None
    if user is not None:
        audit.record(
            "login", actor_id=found_id, address=address, target_type="user", target_id=found_id
        )
    else:
        audit.record(
            "login_failed",
            actor_id=None,
            address=address,
            target_type="user" if found else "",
            target_id=found_id,
            detail={"inactive": True} if found is not None and not active else {},
        )
    db.session.commit()
    return user


def set_password(user: User, password: str) -> None:
    """Give a person a new password and end their sessions (the caller audits and commits)."""
    check_password(password, user.username)
    user.password_hash = _hash(password)
    rotate_session_token(user)


def change_own_password(user: User, current: str, new: str, *, address: str) -> None:
    """A person changes their own password (from a client address), proving the current
    one; their sessions elsewhere end (the caller logs this session back in with the new
    token)."""
    if not check_password_hash(user.password_hash, current):
        raise InvalidRequest(NOT_YOUR_PASSWORD)
    if current == new:
        raise InvalidRequest("Choose a password different from the current one.")
    set_password(user, new)
    audit.record(
        "person.password_changed",
        actor_id=user.id,
        address=address,
        target_type="user",
        target_id=user.id,
    )
    db.session.commit()


def generated_password() -> str:
    """A temporary password to give a person once (about 96 bits)."""
    return secrets.token_urlsafe(12)


def rotate_session_token(user: User) -> None:
    """Every session of this person, anywhere, ends once this commits."""
    user.session_token = secrets.token_urlsafe(32)


def end_sessions(user: User) -> None:
    """Rotate the session token: every session of this person, anywhere, ends at once."""
    rotate_session_token(user)
    db.session.commit()


def deactivate(user: User) -> None:
    """Stop a person from logging in and end their sessions; their history stays."""
    user.active = False
    end_sessions(user)


@functools.cache
def _person_by_token() -> Select:
    """The active person a session token belongs to: every signed-in request reads it, so
    the statement is composed once."""
    return select(User).where(User.session_token == bindparam("token"), User.active.is_(True))


def person_by_session_token(token: str) -> User | None:
    """Who a session belongs to: the active person holding this token, or None (the token
    rotated, or the person was deactivated, so the session ended)."""
    return db.session.execute(_person_by_token(), {"token": token}).scalar_one_or_none()


@functools.cache
def _person_and_board() -> Select:
    """The active person holding a session token, with a board and their membership role on
    it (each NULL when the board does not exist or they hold no role there)."""
    membership = and_(Membership.board_id == Board.id, Membership.user_id == User.id)
    return (
        select(User, Board, Membership.role)
        .select_from(User)
        .outerjoin(Board, Board.id == bindparam("board_id"))
        .outerjoin(Membership, membership)
        .where(User.session_token == bindparam("token"), User.active.is_(True))
    )


def person_and_board(token: str, board_id: int) -> tuple[User | None, Board | None, str | None]:
    """Who a session belongs to (as person_by_session_token), with the board a request is
    for and their membership role on it, in one statement: every board request reads both,
    and on PostgreSQL each statement is a round trip (bench: pg_board_200_ms, pg_pull_ms,
    pg_move_ms)."""
    params = {"token": token, "board_id": board_id}
    row = db.session.execute(_person_and_board(), params).one_or_none()
    return (None, None, None) if row is None else (row[0], row[1], row[2])
