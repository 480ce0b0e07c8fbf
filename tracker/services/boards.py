"""Board use cases: creating a board, memberships, lane and column settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from tracker import clock
from tracker.domain import board_setup, wip
from tracker.domain.errors import InvalidRequest
from tracker.domain.periods import valid_timezone
from tracker.domain.pull import DEFAULT_PULL_ORDER
from tracker.domain.vocabulary import ColumnKind, LaneKind
from tracker.domain.wording import counted
from tracker.extensions import db
from tracker.models import Board, BoardColumn, Card, Lane, Membership, User
from tracker.services import audit
from tracker.services.common import ROLES, Actor, require_lead
from tracker.store import bump_version, lock_board


def create_board(name: str, timezone: str = "UTC", *, actor: Actor | None = None) -> Board:
    """A new board with the default lanes (Expedite, Support, Feature) and four columns.

    actor: the admin who made it (None: the command line)."""
    name = name.strip()
    if not name:
        raise InvalidRequest("Give the board a name.")
    if not valid_timezone(timezone):
        raise InvalidRequest(f"{timezone} is not a time zone name (for example Europe/Berlin).")
    board = Board(
        name=name,
        timezone=timezone,
        pull_order=",".join(DEFAULT_PULL_ORDER),
        version=0,
        created_at=clock.now(),
    )
    db.session.add(board)
    for position, (kind, lane_name, limit, prefix) in enumerate(board_setup.DEFAULT_LANES):
        db.session.add(
            Lane(
                board=board,
                kind=kind,
                name=lane_name,
                prefix=prefix,
                position=position,
                wip_limit=limit,
                limit_mode=board_setup.DEFAULT_MODE,
                next_number=1,
            )
        )
    for position, (kind, column_name) in enumerate(board_setup.DEFAULT_COLUMNS):
        db.session.add(BoardColumn(board=board, kind=kind, name=column_name, position=position))
    db.session.flush()
    audit.record(
        "board.created",
        actor_id=actor.id if actor else None,
        address=actor.address if actor else "",
        board_id=board.id,
        target_type="board",
        target_id=board.id,
    )
    db.session.commit()
    return board


def set_membership(
    board: Board, user: User, role: str | None, *, actor: Actor | None = None
) -> str:
    """Give a person a role on a board, or remove them from it (role None); audited as the
    act of actor (None: the command line).

    Returns what happened: added, changed, removed or unchanged.
    """
    if role is not None and role not in ROLES:
        raise InvalidRequest(f"Unknown role {role!r}.")
    membership = db.session.execute(
        select(Membership).where(Membership.board_id == board.id, Membership.user_id == user.id)
    ).scalar_one_or_none()
    old = membership.role if membership is not None else None
    if old == role:
        db.session.rollback()
        return "unchanged"
    if role is None:
        db.session.delete(membership)
        what = "removed"
    elif membership is None:
        db.session.add(Membership(board_id=board.id, user_id=user.id, role=role))
        what = "added"
    else:
        membership.role = role
        what = "changed"
    audit.record(
        f"membership.{what}",
        actor_id=actor.id if actor else None,
        address=actor.address if actor else "",
        board_id=board.id,
        target_type="user",
        target_id=user.id,
        detail={"role": [old, role]},
    )
    db.session.commit()
    return what


def _limit(value: Any, what: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidRequest(f"The limit of {what} must be a whole number, or empty.") from None
    if not 0 < number <= 999:
        raise InvalidRequest(f"The limit of {what} must be between 1 and 999, or empty.")
    return number


@dataclass
class LaneSetting:
    lane_id: int
    name: str
    wip_limit: Any
    mode: str


def update_settings(
    board_id: int,
    actor: Actor,
    *,
    timezone: str,
    per_person_limit: Any,
    pull_order: str,
    lanes: list[LaneSetting],
    column_limits: dict[int, Any],
) -> Board:
    """Save a lead's board settings: time zone, lane limits and modes, column limits."""
    require_lead(actor, "its settings")
    board = lock_board(board_id)
    if not valid_timezone(timezone):
        raise InvalidRequest(f"{timezone} is not a time zone name (for example Europe/Berlin).")
    order = [kind for kind in pull_order.split(",") if kind]
    if sorted(order) != sorted([LaneKind.SUPPORT, LaneKind.FEATURE]):
        raise InvalidRequest("The pull order lists Support and Feature once each.")
    before = _settings_snapshot(board)
    board.timezone = timezone
    board.per_person_limit = _limit(per_person_limit, "cards per person")
    board.pull_order = ",".join(order)
    by_id = {lane.id: lane for lane in board.lanes}
    for setting in lanes:
        lane = by_id.get(setting.lane_id)
        if lane is None:
            raise InvalidRequest("That lane is not on this board.")
        if setting.mode not in wip.LIMIT_MODES:
            raise InvalidRequest("A lane's limit mode is strict or with reason.")
        name = setting.name.strip()
        if not name or len(name) > 60:
            raise InvalidRequest("A lane's name is 1 to 60 characters.")
        lane.name, lane.limit_mode = name, setting.mode
        lane.wip_limit = _limit(setting.wip_limit, lane.name)
    columns = {column.id: column for column in board.columns}
    for column_id, value in column_limits.items():
        column = columns.get(column_id)
        if column is None:
            raise InvalidRequest("That column is not on this board.")
        limit = _limit(value, column.name)
        if limit is not None and column.kind == ColumnKind.DONE:
            raise InvalidRequest("A done column cannot have a WIP limit.")
        column.wip_limit = limit
    changes = _settings_changes(before, _settings_snapshot(board))
    if changes:
        audit.record(
            "board.settings_changed",
            actor_id=actor.id,
            address=actor.address,
            board_id=board.id,
            target_type="board",
            target_id=board.id,
            detail=changes,
        )
    bump_version(board)
    db.session.commit()
    return board


def _columns_text(columns: list[BoardColumn]) -> str:
    """A board's columns in one line for the audit log: `Ready (queue), Review (active, 2)`."""
    return ", ".join(
        f"{c.name} ({c.kind}{f', {c.wip_limit}' if c.wip_limit else ''})" for c in columns
    )


def _settings_snapshot(board: Board) -> dict[str, Any]:
    """The settings the audit log follows, keyed as its detail shows them."""
    values: dict[str, Any] = {
        "board": {
            "timezone": board.timezone,
            "per_person_limit": board.per_person_limit,
            "pull_order": board.pull_order,
        }
    }
    for lane in board.lanes:
        values[f"lane {lane.id} ({lane.kind})"] = {
            "name": lane.name,
            "wip_limit": lane.wip_limit,
            "limit_mode": lane.limit_mode,
        }
    for column in board.columns:
        values[f"column {column.id}"] = {"wip_limit": column.wip_limit}
    return values


def _settings_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """{thing: {setting: [old, new]}} for what changed."""
    changes: dict[str, Any] = {}
    for thing, settings in after.items():
        old = before.get(thing, {})
        changed = {k: [old.get(k), v] for k, v in settings.items() if old.get(k) != v}
        if changed:
            changes[thing] = changed
    return changes


def update_columns(board_id: int, actor: Actor, specs: list[tuple[int | None, str, str]]) -> Board:
    """Rename, reorder, add (id None) and remove (left out, only when empty) columns."""
    require_lead(actor, "its settings")
    board = lock_board(board_id)
    existing = {column.id: column for column in board.columns}
    before = _columns_text(board.columns)
    cleaned = [(cid, kind, name.strip()) for cid, kind, name in specs]
    for _cid, kind, name in cleaned:
        if kind not in wip.COLUMN_KINDS:
            raise InvalidRequest("A column's kind is queue, active or done.")
        if not name or len(name) > 60:
            raise InvalidRequest("A column's name is 1 to 60 characters.")
    board_setup.check_columns([board_setup.ColumnSpec(k, n) for _, k, n in cleaned])
    kept = {cid for cid, _, _ in cleaned if cid is not None}
    if not kept <= set(existing):
        raise InvalidRequest("That column is not on this board.")
    for cid in set(existing) - kept:
        used = db.session.execute(
            select(func.count()).select_from(Card).where(Card.column_id == cid)
        ).scalar_one()
        if used:
            raise InvalidRequest(
                f"The {existing[cid].name} column still has {counted(used, 'card')} (done and "
                "closed included); move them before removing it."
            )
        db.session.delete(existing[cid])
    for position, (cid, kind, name) in enumerate(cleaned):
        if cid is None:
            db.session.add(BoardColumn(board_id=board.id, kind=kind, name=name, position=position))
            continue
        column = existing[cid]
        if column.kind != kind:
            count = db.session.execute(
                select(func.count()).select_from(Card).where(Card.column_id == cid)
            ).scalar_one()
            if count:
                raise InvalidRequest(
                    f"The {column.name} column has cards; empty it before changing its kind."
                )
        column.kind, column.name, column.position = kind, name, position
        if kind == ColumnKind.DONE:
            column.wip_limit = None
    db.session.flush()
    db.session.refresh(board, ["columns"])
    after = _columns_text(board.columns)
    if after != before:
        audit.record(
            "board.columns_changed",
            actor_id=actor.id,
            address=actor.address,
            board_id=board.id,
            target_type="board",
            target_id=board.id,
            detail={"columns": [before, after]},
        )
    bump_version(board)
    db.session.commit()
    return board


def boards_of(user: User) -> list[tuple[Board, str | None]]:
    """The boards a person sees on the home page, by name, each with their role on it: the
    boards they belong to, or every board for a site admin (role None where they are not a
    member)."""
    role = Membership.role
    if user.is_admin:
        mine = (Membership.board_id == Board.id) & (Membership.user_id == user.id)
        query = select(Board, role).outerjoin(Membership, mine)
    else:
        query = (
            select(Board, role)
            .join(Membership, Membership.board_id == Board.id)
            .where(Membership.user_id == user.id)
        )
    rows = db.session.execute(query.order_by(Board.name))
    return [(board, their_role) for board, their_role in rows]
