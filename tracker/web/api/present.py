"""Rows and service results as the API's answer models (tracker.web.api.schemas)."""

from __future__ import annotations

import base64
import binascii

from tracker.web.api import schemas


def person(user) -> schemas.Person | None:
    if user is None:
        return None
    return schemas.Person(id=user.id, name=user.name, username=user.username)


def card(row) -> schemas.Card:
    """A card row's fields."""
    values = {name: getattr(row, name) for name in schemas.Card.model_fields if name != "assignee"}
    return schemas.Card(**values, assignee=person(row.assignee))


def card_detail(row, history, comments) -> schemas.CardDetail:
    """A card with its history (oldest first) and comments."""
    events = [
        schemas.EventOut(
            id=e.id,
            kind=e.kind,
            at=e.at,
            actor=person(e.actor),
            from_column_id=e.from_column_id,
            to_column_id=e.to_column_id,
            reason=e.reason or "",
            changes=e.changes or {},
        )
        for e in history
    ]
    said = [
        schemas.CommentOut(
            id=c.id,
            author=person(c.author),
            at=c.at,
            edited_at=c.edited_at,
            body=c.body,
            visibility=c.visibility,
        )
        for c in comments
    ]
    return schemas.CardDetail(**card(row).model_dump(), history=events, comments=said)


def tile(t) -> schemas.CardSummary:
    """A board tile (services.board_view.Tile) as a card of a list."""
    who = None
    if t.assignee is not None:
        who = schemas.Person(id=t.assignee.id, name=t.assignee.name, username=t.assignee.username)
    return schemas.CardSummary(
        id=t.id,
        ref=t.ref,
        title=t.title,
        lane_id=t.lane_id,
        column_id=t.column_id,
        assignee=who,
        severity=t.severity,
        blocked=t.blocked,
        blocked_reason=t.blocked_reason,
        column_entered_at=t.column_entered_at,
        labels=[schemas.LabelOut(id=x.id, name=x.name, colour=x.colour) for x in t.labels],
    )


def board(row, role: str, *, detail: bool = False) -> schemas.BoardOut:
    values = {
        "id": row.id,
        "name": row.name,
        "timezone": row.timezone,
        "version": row.version,
        "role": role,
    }
    if not detail:
        return schemas.BoardOut(**values)
    return schemas.BoardDetail(
        **values,
        lanes=[schemas.LaneOut.model_validate(x) for x in row.lanes],
        columns=[schemas.ColumnOut.model_validate(x) for x in row.columns],
    )


def term(row) -> schemas.Term:
    return schemas.Term(
        id=row.id,
        seat=row.seat,
        start=row.start,
        end=row.end,
        person_id=row.person_id,
        name=row.name,
        state=row.state,
    )


# Cursors: opaque to the caller; here, the last id of the page before, encoded.
CURSOR_PREFIX = "c1:"


def cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"{CURSOR_PREFIX}{last_id}".encode()).decode().rstrip("=")


def after_id(value: str | None) -> int | None:
    """The id a cursor stands for; None for none. A cursor this API did not give: ValueError."""
    if not value:
        return None
    try:
        text = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValueError("not a cursor") from None
    number = text.removeprefix(CURSOR_PREFIX)
    if not text.startswith(CURSOR_PREFIX) or not number.isascii() or not number.isdigit():
        raise ValueError("not a cursor")
    if len(number) > 10:
        raise ValueError("not a cursor")
    return int(number)
