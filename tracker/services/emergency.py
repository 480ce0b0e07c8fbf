"""The production-emergency check, polled by every open board page: one cheap statement
for the S1 incidents not mitigated and the break-glass access still open, and only while
someone is on an emergency, its history (to say its stage)."""

from __future__ import annotations

import functools
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import (
    CompoundSelect,
    String,
    bindparam,
    exists,
    false,
    literal,
    null,
    select,
    type_coerce,
)

from tracker import clock
from tracker.domain import emergency, incidents
from tracker.domain.vocabulary import CardStatus, ColumnKind, EventKind, LaneKind, Severity
from tracker.extensions import db
from tracker.models import (
    Board,
    BoardColumn,
    BreakGlassGrant,
    Card,
    CardEvent,
    Lane,
    User,
    UTCDateTime,
)
from tracker.services import incidents as incident_service

CARD, ACCESS = 0, 1  # what a row of the banner's statement is


@functools.cache
def _banner_statement() -> CompoundSelect:
    """In one statement: open S1 cards of a board in the Expedite lane not mitigated yet
    (an incident's banner stays until mitigation), with whether one is unassigned in a
    queue column; then the board's break-glass grants still open (the overdue ones are
    picked in Python: the rule is the domain's).

    Composed once with a bound parameter: every open page of the board runs it every few
    seconds. The lane is named by a subquery on its unique (board, kind), so the card
    search is a range of ix_card_lane_board_status_done (lane, board, open): the board's
    open expedite cards, a handful at most, whatever the size of the board. The column's
    kind comes by primary key; the grants by ix_break_glass_grant_board_granted.
    """
    expedite = (
        select(Lane.id)
        .where(Lane.board_id == bindparam("board_id"), Lane.kind == LaneKind.EXPEDITE)
        .scalar_subquery()
    )
    mitigated = exists().where(CardEvent.card_id == Card.id, CardEvent.kind == EventKind.MITIGATED)
    unheld = Card.assignee_id.is_(None) & (BoardColumn.kind == ColumnKind.QUEUE)
    cards = (
        select(
            literal(CARD).label("what"),
            Card.id.label("card_id"),
            Card.ref,
            Card.title.label("title"),
            Card.created_at.label("at"),
            Card.drill.label("drill"),
            unheld.label("unheld"),
            type_coerce(null(), String).label("target"),
            type_coerce(null(), UTCDateTime).label("expected_end"),
        )
        .join(BoardColumn, BoardColumn.id == Card.column_id)
        .where(
            Card.lane_id == expedite,
            Card.board_id == bindparam("board_id"),
            Card.status == CardStatus.OPEN,
            Card.severity == Severity.S1,
            ~mitigated,
        )
    )
    grants = (
        select(
            literal(ACCESS),
            BreakGlassGrant.card_id,
            Card.ref,
            User.name,
            BreakGlassGrant.granted_at,
            false(),
            false(),
            BreakGlassGrant.target,
            BreakGlassGrant.expected_end,
        )
        .join(Card, Card.id == BreakGlassGrant.card_id)
        .join(User, User.id == BreakGlassGrant.holder_id)
        .where(
            BreakGlassGrant.board_id == bindparam("board_id"),
            BreakGlassGrant.ended_at.is_(None),
        )
    )
    return cards.union_all(grants).order_by("what", "at", "card_id")


def _since(at: datetime, timezone: str, now: datetime) -> str:
    """When a grant began, on the board's clock: "14:02", or "28 Nov 14:02" another day."""
    local, today = at.astimezone(ZoneInfo(timezone)), now.astimezone(ZoneInfo(timezone))
    return local.strftime("%H:%M" if local.date() == today.date() else "%d %b %H:%M")


def read(
    board_id: int, now: datetime
) -> tuple[list[emergency.Waiting], list[emergency.OpenAccess]]:
    """The S1 incidents not mitigated (oldest first) and the break-glass access open too
    long (oldest first): one statement, then the histories of the incidents someone is on
    (services.incidents.stage_lines: four statements however many)."""
    rows = db.session.execute(_banner_statement(), {"board_id": board_id}).all()
    held = {row.card_id: row.ref for row in rows if row.what == CARD and not row.unheld}
    stages = incident_service.stage_lines(board_id, held, now)
    waiting, access = [], []
    for row in rows:
        if row.what == CARD:
            stage = stages.get(row.card_id, "")
            waiting.append(
                emergency.Waiting(row.card_id, row.ref, row.title, row.at, stage, bool(row.drill))
            )
            continue
        rule = incidents.Grant(0, row.title, row.target, row.at, row.expected_end)
        if rule.overdue(now):
            timezone = db.session.get(Board, board_id).timezone
            since = _since(row.at, timezone, now)
            access.append(emergency.OpenAccess(row.card_id, row.title, row.target, since))
    return waiting, access


def waiting_s1(board_id: int) -> list[emergency.Waiting]:
    """The S1 incidents not mitigated yet, oldest first."""
    return read(board_id, clock.now())[0]


def banner(board_id: int) -> emergency.Banner:
    """What the board's emergency banner shows now (empty when no S1 incident is waiting
    for mitigation and no break-glass access is overdue)."""
    now = clock.now()
    waiting, access = read(board_id, now)
    return emergency.banner(waiting, now, access)
