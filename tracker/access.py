"""Who may do what on a board: one permission table, and the loader every board view uses."""

from __future__ import annotations

import functools

from flask import abort, g
from flask_login import current_user
from sqlalchemy import Select, and_, bindparam, select

from tracker.extensions import db
from tracker.models import Board, Membership
from tracker.services.common import LEAD, MEMBER, SUPPORT, VIEWER, Actor

# permission -> the board roles that have it. Admins without a membership read boards only.
PERMISSIONS: dict[str, frozenset[str]] = {
    "board.view": frozenset({LEAD, MEMBER, SUPPORT, VIEWER}),
    "card.change": frozenset({LEAD, MEMBER}),
    "board.settings": frozenset({LEAD}),
    # Support intake: file requests, comment on them, make and revoke status links.
    "request.file": frozenset({LEAD, MEMBER, SUPPORT}),
    "request.comment": frozenset({LEAD, MEMBER, SUPPORT}),
    "request.link": frozenset({LEAD, MEMBER, SUPPORT}),
    "report.view": frozenset({LEAD, MEMBER, VIEWER}),
    "sprints.manage": frozenset({LEAD}),
}
ADMIN_ROLE = VIEWER


def role_on(board_id: int) -> str | None:
    """The current person's role on a board (admins read every board), or None."""
    role = db.session.execute(
        select(Membership.role).where(
            Membership.board_id == board_id, Membership.user_id == current_user.id
        )
    ).scalar_one_or_none()
    if role is None and current_user.is_admin:
        return ADMIN_ROLE
    return role


@functools.cache
def _board_and_role() -> Select:
    """The board and the person's membership role (NULL without one), in one statement."""
    membership = and_(Membership.board_id == Board.id, Membership.user_id == bindparam("user_id"))
    return (
        select(Board, Membership.role)
        .outerjoin(Membership, membership)
        .where(Board.id == bindparam("board_id"))
    )


def load_board(board_id: int, permission: str) -> tuple[Board, Actor]:
    """The board and the acting person, or 404 (no access at all) / 403 (role too low).

    The board and actor are kept in `g` so the error handler can re-render the board.
    The board and the role are read in one statement: every board request, the emergency
    poll included, starts here.
    """
    row = db.session.execute(_board_and_role(), {"board_id": board_id, "user_id": current_user.id})
    board, role = row.one_or_none() or (None, None)
    if role is None and board is not None and current_user.is_admin:
        role = ADMIN_ROLE
    if board is None or role is None:
        abort(404)
    actor = Actor(current_user.id, current_user.name, role)
    g.board, g.actor = board, actor
    if role not in PERMISSIONS[permission]:
        abort(403)
    return board, actor


def can(actor: Actor, permission: str) -> bool:
    return actor.role in PERMISSIONS[permission]
