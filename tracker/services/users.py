"""People: creating them, checking passwords, and ending their sessions."""

from __future__ import annotations

import secrets

from flask import current_app
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from tracker import clock
from tracker.domain.errors import InvalidRequest
from tracker.extensions import db
from tracker.models import User

MIN_PASSWORD_LENGTH = 10
# Checked against when the username is unknown, so both paths cost the same hash.
_DUMMY_HASH: dict[str, str] = {}


def _hash(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def create_user(
    username: str, name: str, password: str, *, is_admin: bool = False, email: str | None = None
) -> User:
    """Add a person who can log in; usernames are unique and case-insensitive."""
    username = username.strip().lower()
    if not username or len(username) > 64:
        raise InvalidRequest("A username is 1 to 64 characters.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidRequest(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
    if db.session.execute(select(User.id).where(User.username == username)).first():
        raise InvalidRequest(f"The username {username} is taken.")
    user = User(
        username=username,
        name=name.strip() or username,
        email=email,
        password_hash=_hash(password),
        session_token=secrets.token_urlsafe(32),
        is_admin=is_admin,
        active=True,
        created_at=clock.now(),
    )
    db.session.add(user)
    db.session.commit()
    return user


def authenticate(username: str, password: str) -> User | None:
    """The active person with this username and password, or None."""
    user = db.session.execute(
        select(User).where(User.username == username.strip().lower())
    ).scalar_one_or_none()
    if user is None:
        method = current_app.config["PASSWORD_HASH_METHOD"]
        if method not in _DUMMY_HASH:
            _DUMMY_HASH[method] = _hash(secrets.token_hex(8))
        check_password_hash(_DUMMY_HASH[method], password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


def end_sessions(user: User) -> None:
    """Rotate the session token: every session of this person, anywhere, ends at once."""
    user.session_token = secrets.token_urlsafe(32)
    db.session.commit()


def deactivate(user: User) -> None:
    """Stop a person from logging in and end their sessions; their history stays."""
    user.active = False
    end_sessions(user)
