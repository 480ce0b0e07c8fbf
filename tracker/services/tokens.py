"""Personal access tokens: a person makes them (shown once), lists and revokes their own,
and the API finds who a bearer token belongs to. Only each token's SHA-256 is stored;
making and revoking one is audited (never the token itself)."""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, and_, bindparam, select, update

from tracker import clock, database
from tracker.domain import tokens as rules
from tracker.extensions import db
from tracker.models import ApiToken, Board, Membership, User
from tracker.services import audit

# A token's last use is written at most this often: not a database write per request.
USE_STEP = timedelta(minutes=1)


@dataclass(frozen=True)
class NewToken:
    """A token just made: its row, and the secret, which is shown this once only."""

    token: ApiToken
    secret: str


def tokens_of(user_id: int) -> list[ApiToken]:
    """A person's tokens, newest first (revoked ones too: the page shows they were)."""
    query = select(ApiToken).where(ApiToken.user_id == user_id)
    return list(db.session.execute(query.order_by(ApiToken.id.desc())).scalars())


def create_token(
    user: User, name: str, scope: str, expires_on: date | None, *, address: str = ""
) -> NewToken:
    """Make a token for the person (name, scope, an optional expiry date: it works until the
    start of that day, UTC) and audit it; the secret is returned once and never kept."""
    now = clock.now()
    name = rules.check_new(name, scope, expires_on, now.date())
    secret = rules.PREFIX + secrets.token_urlsafe(32)
    expires_at = None if expires_on is None else datetime.combine(expires_on, time(), UTC)
    token = ApiToken(
        user_id=user.id,
        name=name,
        scope=scope,
        token_hash=rules.digest(secret),
        shown=secret[: rules.SHOWN],
        created_at=now,
        expires_at=expires_at,
    )
    db.session.add(token)
    db.session.flush()
    audit.record(
        "token.created",
        actor_id=user.id,
        address=address,
        target_type="api_token",
        target_id=token.id,
        detail={"scope": scope, "expires": None if expires_on is None else str(expires_on)},
    )
    db.session.commit()
    return NewToken(token, secret)


def revoke_token(user: User, token_id: int, *, address: str = "") -> ApiToken | None:
    """Revoke one of the person's own tokens; audited. Revoking one already revoked changes
    nothing; another's token, or an unknown id, is none of theirs (None)."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        return None
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        audit.record(
            "token.revoked",
            actor_id=user.id,
            address=address,
            target_type="api_token",
            target_id=token.id,
        )
        db.session.commit()
    return token


@dataclass(frozen=True)
class Bearer:
    """Who a usable token acts for, and (when the request names one) the board with the
    person's membership role on it (each None: no such board, or no role there)."""

    token: ApiToken
    person: User
    board: Board | None = None
    role: str | None = None


@functools.cache
def _bearer() -> Select:
    """A token by its digest with its active person, a board and their role on it: every
    API request reads all three, in one statement (as a session's board request does,
    users.person_and_board; bench: api_move_ms)."""
    membership = and_(Membership.board_id == Board.id, Membership.user_id == User.id)
    return (
        select(ApiToken, User, Board, Membership.role)
        .select_from(ApiToken)
        .join(User, User.id == ApiToken.user_id)
        .outerjoin(Board, Board.id == bindparam("board_id"))
        .outerjoin(Membership, membership)
        .where(ApiToken.token_hash == bindparam("hashed"), User.active.is_(True))
    )


def authenticate(secret: str, board_id: int | None = None) -> Bearer | None:
    """The usable token a bearer secret is, with its (active) person and, for a board id,
    that board and their role on it; None for anything else: malformed, unknown, revoked,
    expired, or a deactivated person. Notes the token's last use (at most once a USE_STEP)."""
    if not rules.well_formed(secret):
        return None
    params = {"hashed": rules.digest(secret), "board_id": board_id}
    row = db.session.execute(_bearer(), params).one_or_none()
    now = clock.now()
    if row is None or not rules.usable(row[0].expires_at, row[0].revoked_at, now):
        return None
    token, person, board, role = row
    if token.last_used_at is None or now - token.last_used_at >= USE_STEP:
        _note_use(token.id, now)
    return Bearer(token, person, board, role)


def _note_use(token_id: int, now: datetime) -> None:
    """Write a token's last use in a write transaction of its own (on SQLite one that takes
    the write lock first: a read request's transaction only reads)."""
    db.session.commit()  # end the read (the token and person are read again when used)
    with database.writing():
        db.session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
        db.session.commit()
