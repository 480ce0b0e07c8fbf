"""Rows and service results as the API's answer models (tracker.web.api.schemas)."""

from __future__ import annotations

import base64
import binascii

from tracker.services.incidents import grant_rule
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


def incident(read) -> schemas.IncidentOut:
    """A card's incident (services.reviews.ReadOut)."""
    panel = read.panel
    found = panel.incident
    stages = [
        schemas.StageOut(
            stage=stage,
            at=mark.at,
            by_id=mark.by,
            by=panel.names.get(mark.by, "") if mark.by else "",
            note=mark.note,
        )
        for stage, mark, _took in panel.stages
    ]
    grants = []
    for row in panel.grants:
        rule = grant_rule(row)
        grants.append(
            schemas.GrantOut(
                id=row.id,
                holder_id=row.holder_id,
                holder=row.holder.name,
                target=row.target,
                why=row.why,
                buddy=row.buddy_shown,
                granted_at=row.granted_at,
                expected_end=row.expected_end,
                ended_at=row.ended_at,
                confirmed_revoked_by=row.ended_by.name if row.ended_by else "",
                left_open_reason=row.left_open_reason,
                open=rule.open,
                overdue=rule.overdue(panel.now),
            )
        )
    review = None
    if read.review is not None:
        review = schemas.ReviewOut(
            card_id=read.review.card_id,
            written=read.review.written_at is not None,
            written_at=read.review.written_at,
        )
    follow_ups = [schemas.FollowUpOut.model_validate(c) for c in read.follow_ups]
    return schemas.IncidentOut(
        card=card(read.card),
        drill=found.drill,
        stage=found.stage,
        stages=stages,
        grants=grants,
        review=review,
        follow_ups=follow_ups,
    )


def incident_summary(item) -> schemas.IncidentSummary:
    """An incident of a list (services.incidents.Listed)."""
    found = item.incident

    def at(mark):
        return None if mark is None else mark.at

    return schemas.IncidentSummary(
        card_id=found.card_id,
        ref=item.ref,
        title=item.title,
        drill=found.drill,
        stage=found.stage,
        opened_at=found.opened.at,
        acknowledged_at=at(found.acknowledged),
        mitigated_at=at(found.mitigated),
        resolved_at=at(found.resolved),
        open_grants=item.open_grants,
    )
