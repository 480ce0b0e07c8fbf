"""The audit log: every administrative act, appended in the transaction of the act itself.

`record` adds the row to the session; the caller's one commit writes it with the change it
describes (or neither). Who acted and from which address are the caller's arguments (the
web layer passes the person logged in and the request's client address). Nothing in the
app edits or deletes an audit row: two session hooks here (`refuse_changes`,
`refuse_bulk_changes`, subscribed by tracker.subscribers) refuse both, for objects and for
bulk UPDATE/DELETE statements.
The detail holds ids, field names and old/new settings values, never personal data (no
names, emails, typed usernames), passwords or tokens.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import aliased

from tracker import clock
from tracker.domain import text
from tracker.extensions import db
from tracker.models import AuditEvent, Board, User

# action -> what it means, in words (the audit page's filter and rows).
ACTIONS: dict[str, str] = {
    "login": "Logged in",
    "login_failed": "Failed login",
    "person.created": "Person created",
    "person.deactivated": "Person deactivated",
    "person.reactivated": "Person reactivated",
    "person.password_reset": "Password reset by an admin",
    "person.password_changed": "Password changed by its owner",
    "person.admin_granted": "Made a site admin",
    "person.admin_revoked": "No longer a site admin",
    "membership.added": "Added to a board",
    "membership.changed": "Role on a board changed",
    "membership.removed": "Removed from a board",
    "board.created": "Board created",
    "board.settings_changed": "Board settings changed",
    "board.columns_changed": "Board columns changed",
    "sprint.added": "Sprint added",
    "sprint.changed": "Sprint changed",
    "sprint.removed": "Sprint removed",
    "rotation.changed": "Support rotation changed",
    "wip.override": "WIP limit overridden",
    "grant.opened": "Break-glass access recorded",
    "grant.ended": "Break-glass access ended",
    "grant.left_open": "Break-glass access left open on resolving",
    "status_link.created": "Status link made",
    "status_link.revoked": "Status link revoked",
    "token.created": "API token made",
    "token.revoked": "API token revoked",
    "desk.target_set": "Response target set",
    "requester.erased": "Requester's personal data erased",
    "alert_token.created": "Alert token made",
    "alert_token.revoked": "Alert token revoked",
    "alert_settings.changed": "Alert severities changed",
    "webhook.added": "Webhook added",
    "webhook.removed": "Webhook removed",
    "demo.seed_started": "Demo seeding started",
    "demo.seeded": "Demo seeded",
}
PAGE_SIZE = 50
CSV_HEADER = ["id", "at_utc", "actor_id", "actor", "action", "board_id", "target", "detail", "ip"]


class AuditTampering(RuntimeError):
    """Something tried to change or delete an audit row; the transaction stops."""


def record(
    action: str,
    *,
    actor_id: int | None = None,
    address: str = "",
    board_id: int | None = None,
    target_type: str = "",
    target_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add one audit row to the session (the caller commits it with the act it describes).

    actor_id is the person who acted (None: the command line, or an account not known) and
    address the client address they acted from ("" outside a request).
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    row = AuditEvent(
        at=clock.now(),
        actor_id=actor_id,
        action=action,
        board_id=board_id,
        target_type=target_type,
        target_id=target_id,
        detail=detail or {},
        ip=(address or "")[:45],
    )
    db.session.add(row)
    return row


# Append-only: session hooks (tracker.subscribers) ---------------------------------------


def refuse_changes(session, flush_context, instances) -> None:
    """Before a flush: refuse any change or deletion of an audit row."""
    for obj in session.deleted:
        if isinstance(obj, AuditEvent):
            raise AuditTampering("audit rows are never deleted")
    for obj in session.dirty:
        if isinstance(obj, AuditEvent) and session.is_modified(obj):
            raise AuditTampering("audit rows are never edited")


def refuse_bulk_changes(state) -> None:
    """Before an ORM statement: refuse a bulk UPDATE or DELETE of audit rows."""
    if not (state.is_update or state.is_delete):
        return
    mapper = state.bind_mapper
    if mapper is not None and mapper.class_ is AuditEvent:
        raise AuditTampering("audit rows are never edited or deleted")


# Reading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """What the audit page shows: one person, one action, a date range (both days included,
    in the page's time zone). None means any."""

    actor_id: int | None = None
    action: str | None = None
    since: date | None = None
    until: date | None = None


@dataclass(frozen=True)
class Row:
    event: AuditEvent
    actor: str
    target: str
    board: str


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    number: int
    has_next: bool
    total: int


def _start_of(day: date, timezone: str) -> datetime:
    return datetime.combine(day, time(), ZoneInfo(timezone))


def _statement(filters: Filters, board_id: int | None, timezone: str) -> Select:
    target_user = aliased(User)
    query = (
        select(AuditEvent, User.name, target_user.username, Board.name)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .outerjoin(
            target_user,
            (AuditEvent.target_type == "user") & (target_user.id == AuditEvent.target_id),
        )
        .outerjoin(Board, Board.id == AuditEvent.board_id)
    )
    if board_id is not None:
        query = query.where(AuditEvent.board_id == board_id)
    if filters.actor_id is not None:
        query = query.where(AuditEvent.actor_id == filters.actor_id)
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.since is not None:
        query = query.where(AuditEvent.at >= _start_of(filters.since, timezone))
    if filters.until is not None:
        query = query.where(AuditEvent.at < _start_of(filters.until + timedelta(1), timezone))
    return query


def _row(event: AuditEvent, actor: str | None, username: str | None, board: str | None) -> Row:
    if event.target_type == "user":
        target = f"person {username or event.target_id}"
    elif event.target_type:
        target = f"{event.target_type} {event.target_id}"
    else:
        target = ""
    if event.actor_id is None:
        who = "(command line)" if event.action != "login_failed" else "(unknown account)"
    else:
        who = actor or f"person {event.actor_id}"
    return Row(event, who, target, board or "")


def page(
    filters: Filters, *, board_id: int | None = None, number: int = 1, timezone: str = "UTC"
) -> Page:
    """One page of the log, newest first: every board's (board_id None) or one board's."""
    number = max(1, number)
    query = _statement(filters, board_id, timezone)
    total = db.session.execute(
        select(func.count()).select_from(query.with_only_columns(AuditEvent.id).subquery())
    ).scalar_one()
    rows = db.session.execute(
        query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .offset((number - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE + 1)
    ).all()
    found = [_row(*row) for row in rows[:PAGE_SIZE]]
    return Page(found, number, len(rows) > PAGE_SIZE, total)


def export_csv(filters: Filters, *, board_id: int | None = None, timezone: str = "UTC") -> str:
    """The whole filtered log as CSV, oldest first."""
    return text.csv_document(
        [CSV_HEADER, *(_csv_row(row) for row in _iter_rows(filters, board_id, timezone))]
    )


def _csv_row(row: Row) -> list[Any]:
    event = row.event
    return [
        event.id,
        event.at.isoformat(timespec="seconds"),
        event.actor_id if event.actor_id is not None else "",
        row.actor,
        event.action,
        event.board_id if event.board_id is not None else "",
        row.target,
        describe(event),
        event.ip,
    ]


def _iter_rows(filters: Filters, board_id: int | None, timezone: str) -> Iterator[Row]:
    query = _statement(filters, board_id, timezone).order_by(AuditEvent.at, AuditEvent.id)
    for row in db.session.execute(query.execution_options(yield_per=500)):
        yield _row(*row)


def actors(board_id: int | None = None) -> list[tuple[int, str]]:
    """The people who appear as actors in the log (of one board), for the person filter."""
    query = (
        select(User.id, User.name)
        .where(User.id.in_(select(AuditEvent.actor_id).where(AuditEvent.actor_id.is_not(None))))
        .order_by(User.name)
    )
    if board_id is not None:
        query = query.where(
            User.id.in_(select(AuditEvent.actor_id).where(AuditEvent.board_id == board_id))
        )
    return [(row.id, row.name) for row in db.session.execute(query)]


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "none" if value is None or value == "" else str(value)


def describe(event: AuditEvent) -> str:
    """The detail in plain words: `field: old → new` for changes, `key: value` otherwise."""
    parts = []
    for key, value in sorted((event.detail or {}).items()):
        if isinstance(value, list) and len(value) == 2 and not isinstance(value[0], list):
            parts.append(f"{key}: {_value(value[0])} → {_value(value[1])}")
        elif isinstance(value, dict):
            inner = ", ".join(
                f"{k} {_value(v[0])} → {_value(v[1])}"
                if isinstance(v, list) and len(v) == 2
                else f"{k} {_value(v)}"
                for k, v in sorted(value.items())
            )
            parts.append(f"{key}: {inner}")
        elif isinstance(value, list):
            parts.append(f"{key}: {', '.join(_value(v) for v in value)}")
        else:
            parts.append(f"{key}: {_value(value)}")
    return "; ".join(parts)
