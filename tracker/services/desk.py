"""The support desk: response targets and canned replies per board, "waiting for the
requester", the requester's own replies through the status link, the Requests queue, and
the clocks the board's tiles and the capacity report read.

A request's clocks (tracker.domain.targets) need its severity, when it was filed, its first
reply to the requester (Card.first_reply_at, kept by services.conversation), when it was
done or closed, and its waits for the requester (RequestWait rows).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, Select, and_, column, exists, func, or_, select, text, update

from tracker import clock
from tracker.domain import conversation as conversation_rules
from tracker.domain import intake, policy, targets
from tracker.domain import notifications as notice_rules
from tracker.domain.conversation import CANNED_TITLE_LENGTH
from tracker.domain.errors import InvalidRequest, NotAllowed, NotFound
from tracker.domain.intake import REQUESTER_REPLY_LENGTH, PlainStatus
from tracker.domain.policy import Action
from tracker.domain.search import parse_query
from tracker.domain.targets import Interval, Standing, Target
from tracker.domain.vocabulary import (
    CardStatus,
    ColumnKind,
    EventKind,
    RequestStatus,
    Role,
    Severity,
    Visibility,
)
from tracker.extensions import db
from tracker.models import (
    REQUEST_SQL,
    Board,
    BoardColumn,
    CannedReply,
    Card,
    Comment,
    Component,
    Membership,
    RequestWait,
    ResponseTarget,
    User,
)
from tracker.services import audit, search, watching
from tracker.services.common import Actor, get_card, require_lead, whole_id
from tracker.store import append_event, bump_version, lock_board, snapshot

PAGE_SIZE = 50
MAX_CANNED = 20
# The event's reason (presenters.history.COMMENTS; the notification's sentence).
REQUESTER_REPLY = notice_rules.REQUESTER_REPLY
ANSWERED = "the requester answered"
TAKEN_BACK = "the team stopped waiting"


# Targets -------------------------------------------------------------------------------


def board_targets(board_id: int) -> dict[str, Target]:
    """The board's targets per severity: a lead's where set, the defaults elsewhere."""
    rows = db.session.execute(
        select(ResponseTarget).where(ResponseTarget.board_id == board_id)
    ).scalars()
    own = {
        row.severity: Target(row.first_response_minutes, row.resolution_minutes, row.working_hours)
        for row in rows
    }
    return targets.targets_with(own)


def set_target(
    board_id: int,
    actor: Actor,
    severity: str,
    first_response: str,
    resolution: str,
    working_hours: bool,
) -> Target:
    """A lead sets one severity's targets ("30m", "4h", "2d"); every request of that
    severity is measured against them from now on, filed before or after."""
    require_lead(actor, "its support desk settings", Action.MANAGE_DESK)
    severity = intake.check_severity(severity)
    first = targets.parse_duration(first_response, working_hours)
    whole = targets.parse_duration(resolution, working_hours)
    targets.check_target(first, whole)
    board = lock_board(board_id)
    row = db.session.get(ResponseTarget, (board_id, severity))
    if row is None:
        row = ResponseTarget(board_id=board_id, severity=severity)
        db.session.add(row)
    row.first_response_minutes, row.resolution_minutes = first, whole
    row.working_hours = working_hours
    audit.record(
        "desk.target_set",
        actor_id=actor.id,
        address=actor.address,
        board_id=board_id,
        target_type="board",
        target_id=board_id,
        detail={
            "severity": severity,
            "first": first,
            "resolution": whole,
            "working": working_hours,
        },
    )
    bump_version(board)  # the tiles' clocks change with the targets
    db.session.commit()
    return Target(first, whole, working_hours)


# Canned replies ------------------------------------------------------------------------


def canned_replies(board_id: int) -> list[CannedReply]:
    return list(
        db.session.execute(
            select(CannedReply).where(CannedReply.board_id == board_id).order_by(CannedReply.title)
        ).scalars()
    )


def add_canned_reply(board_id: int, actor: Actor, title: str, body: str) -> CannedReply:
    """A lead adds a canned reply (a short title, the text it fills the reply box with)."""
    require_lead(actor, "its support desk settings", Action.MANAGE_DESK)
    title = " ".join((title or "").split())
    if not title:
        raise InvalidRequest("Give the canned reply a short title.")
    if len(title) > CANNED_TITLE_LENGTH:
        raise InvalidRequest(f"A title is at most {CANNED_TITLE_LENGTH} characters.")
    body = conversation_rules.clean_body(body)
    lock_board(board_id)
    existing = canned_replies(board_id)
    if any(reply.title.casefold() == title.casefold() for reply in existing):
        raise InvalidRequest(f"There is already a canned reply called {title}.")
    if len(existing) >= MAX_CANNED:
        raise InvalidRequest(f"A board keeps at most {MAX_CANNED} canned replies.")
    reply = CannedReply(board_id=board_id, title=title, body=body)
    db.session.add(reply)
    db.session.commit()
    return reply


def remove_canned_reply(board_id: int, actor: Actor, reply_id: Any) -> str:
    require_lead(actor, "its support desk settings", Action.MANAGE_DESK)
    reply = db.session.get(CannedReply, whole_id(reply_id))
    if reply is None or reply.board_id != board_id:
        raise NotFound("That canned reply is not on this board.")
    title = reply.title
    db.session.delete(reply)
    db.session.commit()
    return title


# Waiting for the requester -------------------------------------------------------------


def open_wait(card_id: int) -> RequestWait | None:
    return db.session.execute(
        select(RequestWait).where(RequestWait.card_id == card_id, RequestWait.ended_at.is_(None))
    ).scalar_one_or_none()


def waits_of(card_ids: Iterable[int]) -> dict[int, list[Interval]]:
    """Each card's waits for its requester, oldest first."""
    ids = sorted(set(card_ids))
    found: dict[int, list[Interval]] = defaultdict(list)
    for start in range(0, len(ids), 500):
        rows = db.session.execute(
            select(RequestWait.card_id, RequestWait.started_at, RequestWait.ended_at)
            .where(RequestWait.card_id.in_(ids[start : start + 500]))
            .order_by(RequestWait.card_id, RequestWait.started_at)
        )
        for card_id, started, ended in rows:
            found[card_id].append((started, ended))
    return found


def _is_request(card: Card) -> bool:
    return card.filed_by_id is not None or bool(card.requester)


def set_waiting(board_id: int, actor: Actor, card_id: Any, waiting: bool) -> bool:
    """Mark a request as waiting for its requester (the team asked something: its clocks
    pause), or stop waiting. Returns whether anything changed."""
    policy.require(actor.role, Action.WORK_REQUEST)
    board = lock_board(board_id)
    card = get_card(board_id, card_id)
    if not _is_request(card):
        raise InvalidRequest(f"{card.ref} is not a support request: it has no requester.")
    if not policy.may_act_on_request(actor.role, actor.id, card.filed_by_id):
        raise NotAllowed(
            f"{card.ref} was filed by someone else: support staff work on the requests they filed."
        )
    if waiting and card.status != CardStatus.OPEN:
        raise InvalidRequest(f"{card.ref} is {card.status}: there is nothing to wait for.")
    now = clock.now()
    current = open_wait(card.id)
    if waiting == (current is not None):
        db.session.rollback()
        return False
    if waiting:
        db.session.add(
            RequestWait(board_id=board_id, card_id=card.id, started_at=now, started_by_id=actor.id)
        )
        append_event(card, EventKind.AWAITING, actor.id, snapshot(card), at=now)
    else:
        current.ended_at = now
        append_event(card, EventKind.RESUMED, actor.id, snapshot(card), reason=TAKEN_BACK, at=now)
    bump_version(board)
    db.session.commit()
    return True


def _end_wait(card: Card, now: datetime) -> bool:
    """End the request's wait, if any (within the caller's transaction)."""
    current = open_wait(card.id)
    if current is None:
        return False
    current.ended_at = now
    return True


# The requester's replies ---------------------------------------------------------------


def clean_requester_text(body: str) -> str:
    """A requester's reply: plain text, the intake form's cleaning, at most 5,000 characters."""
    body = str(body or "").replace("\x00", "").strip()
    if not body:
        raise InvalidRequest("Write your reply first.")
    if len(body) > REQUESTER_REPLY_LENGTH:
        raise InvalidRequest(
            f"A reply is at most {REQUESTER_REPLY_LENGTH:,} characters; this one has {len(body):,}."
        )
    return body


def add_requester_reply(
    card: Card, body: str, *, at: datetime | None = None, also: Sequence[Any] = ()
) -> Comment:
    """File a reply from the requester on their request: in its thread, marked as theirs;
    a wait for them ends (the request is back where it was); its assignee and watchers hear
    of it (the assignee watches it from now on, if not already). `also`: rows to write in
    the same transaction (the mail it came in, services.inbound)."""
    body = clean_requester_text(body)
    board = lock_board(card.board_id)
    db.session.add_all(also)
    now = at or clock.now()
    comment = Comment(
        board_id=card.board_id,
        card_id=card.id,
        author_id=None,
        at=now,
        body=body,
        visibility=Visibility.REPLY,
        from_requester=True,
    )
    db.session.add(comment)
    if card.assignee_id is not None:
        watching.add_watchers(card.id, {card.assignee_id})
    if _end_wait(card, now):
        append_event(card, EventKind.RESUMED, None, snapshot(card), reason=ANSWERED, at=now)
    append_event(card, EventKind.COMMENTED, None, snapshot(card), reason=REQUESTER_REPLY, at=now)
    bump_version(board)
    db.session.commit()
    return comment


# Clocks --------------------------------------------------------------------------------


class ClockInputs(NamedTuple):
    """What a request's clocks are computed from."""

    id: int
    severity: str | None
    created_at: datetime
    first_reply_at: datetime | None
    done_at: datetime | None
    closed_at: datetime | None
    status: str


def resolved_at(row: ClockInputs) -> datetime | None:
    if row.status == CardStatus.DONE:
        return row.done_at
    if row.status == CardStatus.CLOSED:
        return row.closed_at
    return None


def standing_of(
    row: ClockInputs,
    board_targets_: dict[str, Target],
    waits: Sequence[Interval],
    now: datetime,
    tz: ZoneInfo,
) -> Standing | None:
    """A request's clocks (None for a card without a severity: no target applies)."""
    target = board_targets_.get(row.severity or "")
    if target is None:
        return None
    return targets.standing(
        target, row.created_at, row.first_reply_at, resolved_at(row), waits, now, tz
    )


def _inputs_statement() -> Select:
    return select(
        Card.id,
        Card.severity,
        Card.created_at,
        Card.first_reply_at,
        Card.done_at,
        Card.closed_at,
        Card.status,
    )


def standings(board: Board, card_ids: Iterable[int], now: datetime) -> dict[int, Standing]:
    """The clocks of these requests of the board (cards without a severity left out)."""
    ids = sorted(set(card_ids))
    if not ids:
        return {}
    rows = [
        ClockInputs(*row)
        for start in range(0, len(ids), 500)
        for row in db.session.execute(
            _inputs_statement().where(Card.id.in_(ids[start : start + 500]))
        )
    ]
    return _standings(board, rows, now)


def _standings(board: Board, rows: list[ClockInputs], now: datetime) -> dict[int, Standing]:
    tz = ZoneInfo(board.timezone)
    goals = board_targets(board.id)
    waits = waits_of(row.id for row in rows)
    found = {}
    for row in rows:
        s = standing_of(row, goals, waits.get(row.id, []), now, tz)
        if s is not None:
            found[row.id] = s
    return found


def _request_condition():
    """Support requests: the same SQL as the queue's partial index (models.REQUEST_SQL)."""
    return text(f"({REQUEST_SQL})")


@dataclass(frozen=True)
class TileClocks:
    """The look of the board's request tiles' clocks, and when the first of them changes."""

    looks: dict[int, str]  # card id -> TILE_NEAR or TILE_LATE
    changes_at: datetime | None


TILE_NEAR = "near"
TILE_LATE = "late"


def tile_clocks(board: Board, card_ids: Iterable[int], now: datetime) -> TileClocks:
    """The clock each open request tile shows: under 20% left, or late; and the next moment
    any of them would change, so a kept grid goes stale then (presenters.grid)."""
    ids = list(card_ids)
    if not ids:
        return TileClocks({}, None)
    rows = [
        ClockInputs(*row)
        for start in range(0, len(ids), 500)
        for row in db.session.execute(
            _inputs_statement().where(
                Card.id.in_(ids[start : start + 500]),
                Card.severity.is_not(None),
                Card.status == CardStatus.OPEN,
                _request_condition(),
            )
        )
    ]
    if not rows:
        return TileClocks({}, None)
    tz = ZoneInfo(board.timezone)
    looks: dict[int, str] = {}
    moments = []
    for card_id, s in _standings(board, rows, now).items():
        if s.late:
            looks[card_id] = TILE_LATE
        elif s.nearly_late:
            looks[card_id] = TILE_NEAR
        moment = s.changes_at(now, tz)
        if moment is not None:
            moments.append(moment)
    return TileClocks(looks, min(moments) if moments else None)


# The queue -----------------------------------------------------------------------------

SORTS = ("newest", "urgent")
YES = "1"


@dataclass(frozen=True)
class QueueFilter:
    """What the queue shows: chips as query-string values (unknown values are ignored)."""

    status: str = ""
    severity: str = ""
    component: str = ""
    assignee: int | None = None
    requester: str = ""
    late: bool = False
    q: str = ""
    sort: str = "newest"
    page: int = 1
    filed_by: int | None = None  # My requests: only what this person filed

    @classmethod
    def from_args(cls, args: Any, *, filed_by: int | None = None) -> QueueFilter:
        def text_arg(name: str, limit: int = 200) -> str:
            return " ".join(str(args.get(name) or "").replace("\x00", "").split())[:limit]

        def int_arg(name: str) -> int | None:
            value = text_arg(name, 12)
            return int(value) if value.isdigit() else None

        status = text_arg("status", 20)
        severity = text_arg("severity", 2)
        sort = text_arg("sort", 10)
        page = int_arg("page") or 1
        return cls(
            status=status if status in tuple(RequestStatus) else "",
            severity=severity if severity in tuple(Severity) else "",
            component=text_arg("component", 80),
            assignee=int_arg("assignee"),
            requester=text_arg("requester"),
            late=text_arg("late", 1) == YES,
            q=text_arg("q"),
            sort=sort if sort in SORTS else "newest",
            page=max(1, min(page, 100_000)),
            filed_by=filed_by,
        )

    def args(self, **changed: Any) -> dict[str, Any]:
        """The query string of this filter with some values changed (links, paging)."""
        values = {
            "status": self.status,
            "severity": self.severity,
            "component": self.component,
            "assignee": self.assignee,
            "requester": self.requester,
            "late": YES if self.late else "",
            "q": self.q,
            "sort": self.sort if self.sort != "newest" else "",
            "page": self.page if self.page != 1 else "",
        } | changed
        return {k: v for k, v in values.items() if v not in ("", None)}

    @property
    def empty(self) -> bool:
        return not (
            self.status
            or self.severity
            or self.component
            or self.assignee
            or self.requester
            or self.late
            or self.q
        )


class QueueRow(NamedTuple):
    id: int
    ref: str
    title: str
    severity: str | None
    status: PlainStatus
    component: str
    assignee: str
    requester: str
    filed_at: datetime
    standing: Standing | None


@dataclass
class QueuePage:
    rows: list[QueueRow]
    total: int
    page: int
    pages: int
    filter: QueueFilter
    timezone: str
    assignees: list[tuple[int, str]] = field(default_factory=list)
    components: list[str] = field(default_factory=list)


def _status_condition(status: str, columns: list[BoardColumn]):
    """The SQL condition of one plain-words status (domain.intake.request_status)."""
    waiting = exists().where(RequestWait.card_id == Card.id, RequestWait.ended_at.is_(None))
    done_ids = [c.id for c in columns if c.kind == ColumnKind.DONE]
    queue_ids = [c.id for c in columns if c.kind == ColumnKind.QUEUE]
    active = [c.id for c in columns if c.kind == ColumnKind.ACTIVE]
    is_open = Card.status == CardStatus.OPEN
    if status == RequestStatus.CLOSED:
        return Card.status == CardStatus.CLOSED
    if status == RequestStatus.DONE:
        return or_(Card.status == CardStatus.DONE, and_(is_open, Card.column_id.in_(done_ids)))
    if status == RequestStatus.WAITING:
        return and_(is_open, waiting)
    column_ids = {
        RequestStatus.RECEIVED: queue_ids,
        RequestStatus.WORKING: active[:1],
        RequestStatus.REVIEW: active[1:],
    }[RequestStatus(status)]
    return and_(is_open, Card.column_id.in_(column_ids or [-1]), ~waiting)


def _search_condition(text_: str):
    query = parse_query(text_)
    if query.empty:
        return None
    if search._dialect() == "postgresql":
        return Card.id.in_(
            text("SELECT card_id FROM card_search WHERE doc @@ to_tsquery('simple', :match)")
            .bindparams(match=search.pg_tsquery(query))
            .columns(column("card_id", Integer))
        )
    return Card.id.in_(
        text("SELECT rowid FROM card_fts WHERE card_fts MATCH :match")
        .bindparams(match=search.fts5_match(query))
        .columns(column("rowid", Integer))
    )


def _conditions(board: Board, shown: QueueFilter) -> list:
    if shown.filed_by is not None:  # what a person filed: requests all (their own index)
        found = [Card.board_id == board.id, Card.filed_by_id == shown.filed_by]
    else:
        found = [Card.board_id == board.id, _request_condition()]
    if shown.status:
        found.append(_status_condition(shown.status, list(board.columns)))
    if shown.severity:
        found.append(Card.severity == shown.severity)
    if shown.component:
        found.append(Card.component == shown.component)
    if shown.assignee:
        found.append(Card.assignee_id == shown.assignee)
    if shown.requester:
        escaped = shown.requester.lower().replace("\\", "\\\\").replace("%", "\\%")
        pattern = "%" + escaped.replace("_", "\\_") + "%"
        found.append(
            or_(
                func.lower(Card.requester).like(pattern, escape="\\"),
                func.lower(Card.requester_email).like(pattern, escape="\\"),
            )
        )
    matched = _search_condition(shown.q)
    if matched is not None:
        found.append(matched)
    return found


def queue(board: Board, shown: QueueFilter) -> QueuePage:
    """One page (PAGE_SIZE) of the board's requests that pass the filter: newest first, or
    most urgent first (the open requests by the share of their current target left, late
    ones first; then the rest, newest first). "Late" and "most urgent" ask the clocks of
    the board's open requests that pass the other filters (the clocks are working-time
    arithmetic, not SQL); newest first with no "late" is paged by the database alone."""
    now = clock.now()
    conditions = _conditions(board, shown)
    if not shown.late and shown.sort == "newest":
        total = db.session.execute(select(func.count()).where(*conditions)).scalar_one()
        pages = max(1, math.ceil(total / PAGE_SIZE))
        page = min(shown.page, pages)
        ids = list(
            db.session.execute(
                select(Card.id)
                .where(*conditions)
                .order_by(Card.created_at.desc(), Card.id.desc())
                .limit(PAGE_SIZE)
                .offset((page - 1) * PAGE_SIZE)
            ).scalars()
        )
    else:
        open_rows = [
            ClockInputs(*row)
            for row in db.session.execute(
                _inputs_statement()
                .where(*conditions, Card.status == CardStatus.OPEN)
                .order_by(Card.created_at.desc(), Card.id.desc())
            )
        ]
        clocks = _standings(board, open_rows, now)
        if shown.late:
            ranked = [row.id for row in open_rows if row.id in clocks and clocks[row.id].late]
        else:
            ranked = sorted(
                (row.id for row in open_rows),
                key=lambda i: targets.urgency(clocks[i]) if i in clocks else math.inf,
            )
        rest_total = 0
        if not shown.late:
            rest_total = db.session.execute(
                select(func.count()).where(*conditions, Card.status != CardStatus.OPEN)
            ).scalar_one()
        total = len(ranked) + rest_total
        pages = max(1, math.ceil(total / PAGE_SIZE))
        page = min(shown.page, pages)
        first = (page - 1) * PAGE_SIZE
        ids = ranked[first : first + PAGE_SIZE]
        if len(ids) < PAGE_SIZE and rest_total:
            skip = max(0, first - len(ranked))
            ids += list(
                db.session.execute(
                    select(Card.id)
                    .where(*conditions, Card.status != CardStatus.OPEN)
                    .order_by(Card.created_at.desc(), Card.id.desc())
                    .limit(PAGE_SIZE - len(ids))
                    .offset(skip)
                ).scalars()
            )
    rows = _rows(board, ids, now)
    return QueuePage(rows, total, page, pages, shown, board.timezone)


def _rows(board: Board, ids: list[int], now: datetime) -> list[QueueRow]:
    if not ids:
        return []
    found = {
        row.id: row
        for row in db.session.execute(
            select(
                Card.id,
                Card.ref,
                Card.title,
                Card.severity,
                Card.status,
                Card.close_reason,
                Card.column_id,
                Card.component,
                Card.requester,
                Card.created_at,
                Card.first_reply_at,
                Card.done_at,
                Card.closed_at,
                User.name,
            )
            .outerjoin(User, User.id == Card.assignee_id)
            .where(Card.id.in_(ids))
        )
    }
    waiting = set(
        db.session.execute(
            select(RequestWait.card_id).where(
                RequestWait.card_id.in_(ids), RequestWait.ended_at.is_(None)
            )
        ).scalars()
    )
    # The clocks from the rows just read (what standings() would read again).
    inputs = [
        ClockInputs(
            r.id, r.severity, r.created_at, r.first_reply_at, r.done_at, r.closed_at, r.status
        )
        for r in found.values()
    ]
    clocks = _standings(board, inputs, now)
    kinds = [(c.id, c.kind) for c in board.columns]
    rows = []
    for card_id in ids:
        row = found[card_id]
        status = request_status_of(
            row.status, row.column_id, kinds, row.close_reason, card_id in waiting
        )
        rows.append(
            QueueRow(
                row.id,
                row.ref,
                row.title,
                row.severity,
                status,
                row.component,
                row.name or "",
                row.requester,
                row.created_at,
                clocks.get(card_id),
            )
        )
    return rows


def request_status_of(
    status: str, column_id: int | None, kinds: list[tuple[int, str]], reason: str, waiting: bool
) -> PlainStatus:
    """The plain-words status, "waiting for the requester" over it while a wait is open."""
    if waiting and status == CardStatus.OPEN:
        return PlainStatus(RequestStatus.WAITING, RequestStatus.WAITING.label)
    return intake.request_status(status, column_id, kinds, reason)


def queue_choices(board: Board, page: QueuePage) -> QueuePage:
    """The filter's choices: the board's people who can hold cards, and its components."""
    holders = [role for role in Role if policy.may(role, Action.HOLD_CARDS)]
    page.assignees = [
        (user_id, name)
        for user_id, name in db.session.execute(
            select(User.id, User.name)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.board_id == board.id, Membership.role.in_(holders))
            .order_by(User.name)
        )
    ]
    names = select(Component.name).where(Component.board_id == board.id).order_by(Component.name)
    page.components = [*db.session.execute(names).scalars(), intake.OTHER_COMPONENT]
    return page


# The capacity report -------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodTargets:
    """Of the requests filed in a period, per severity: within target (first response,
    resolution)."""

    response: dict[str, targets.Within]
    resolution: dict[str, targets.Within]


def within_targets(
    board: Board, bounds: Sequence[tuple[datetime, datetime]], now: datetime
) -> list[PeriodTargets]:
    """For each period (start, end), the share of its requests answered and resolved
    within target, per severity."""
    if not bounds:
        return []
    rows = [
        ClockInputs(*row)
        for row in db.session.execute(
            _inputs_statement().where(
                Card.board_id == board.id,
                _request_condition(),
                Card.severity.is_not(None),
                Card.created_at >= bounds[0][0],
                Card.created_at < bounds[-1][1],
            )
        )
    ]
    clocks = _standings(board, rows, now)
    found = []
    for start, end in bounds:
        inside = [row for row in rows if start <= row.created_at < end and row.id in clocks]
        response, resolution = {}, {}
        for severity in Severity:
            mine = [clocks[row.id] for row in inside if row.severity == severity]
            response[severity] = targets.within_target(s.response for s in mine)
            resolution[severity] = targets.within_target(s.resolution for s in mine)
        found.append(PeriodTargets(response, resolution))
    return found


def mark_first_reply(card: Card, at: datetime) -> bool:
    """Note a request's first reply to its requester (the first response target is met
    then), in the caller's transaction; the card's version is not bumped (no edit form
    goes stale for it). Returns whether this was the first."""
    result = db.session.execute(
        update(Card.__table__)
        .where(Card.__table__.c.id == card.id, Card.__table__.c.first_reply_at.is_(None))
        .values(first_reply_at=at)
    )
    return bool(result.rowcount)
