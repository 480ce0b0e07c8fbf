"""The JSON API's routes under /api/v1: thin adapters over the same use cases as the pages
(tracker.services), each declared once through spec.operation (its models, its answers:
the OpenAPI document is built from these declarations)."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, request
from flask_login import current_user

from tracker.domain import policy
from tracker.domain.board_filter import BoardFilter, parse_filter
from tracker.domain.errors import NotFound
from tracker.domain.periods import FIRST_DAY, LAST_DAY
from tracker.domain.vocabulary import Visibility
from tracker.services import (
    board_view,
    boards,
    cards,
    conversation,
    incidents,
    intake,
    reviews,
    rotation,
)
from tracker.services.common import get_card, today_on
from tracker.web.access import load_board
from tracker.web.api import answers, present, schemas, spec
from tracker.web.api.spec import Invalid, operation
from tracker.web.params import sensible_date

bp = Blueprint("api", __name__, url_prefix="/api/v1")
answers.register(bp)

BOARD = "/boards/<int:board_id>"
CARD = BOARD + "/cards/<int:card_id>"


@operation(
    bp, "/openapi.json", "GET", summary="This document", tag="Meta", answer=schemas.Document,
    public=True, errors=(),
)  # fmt: skip
def openapi():
    """The OpenAPI 3.1 document of this API, built from the routes' declarations."""
    return schemas.Document(spec.document(current_app))


# Boards, lanes, columns ----------------------------------------------------------------


@operation(bp, "/boards", "GET", summary="Your boards", tag="Boards", answer=schemas.BoardList)
def list_boards():
    """The boards you belong to (every board, for a site admin), by name, with your role."""
    rows = boards.boards_of(current_user)
    items = [
        present.board(board, policy.board_role(role, current_user.is_admin)) for board, role in rows
    ]
    return schemas.BoardList(items=items)


@operation(bp, BOARD, "GET", summary="A board", tag="Boards", answer=schemas.BoardDetail)
def show_board(board_id: int):
    """A board with its lanes (top to bottom) and columns (left to right)."""
    board, actor = load_board(board_id)
    return present.board(board, actor.role, detail=True)


@operation(bp, BOARD + "/lanes", "GET", summary="Lanes", tag="Boards", answer=schemas.LaneList)
def list_lanes(board_id: int):
    board, _actor = load_board(board_id)
    return schemas.LaneList(items=[schemas.LaneOut.model_validate(x) for x in board.lanes])


@operation(
    bp, BOARD + "/columns", "GET", summary="Columns", tag="Boards", answer=schemas.ColumnList
)
def list_columns(board_id: int):
    board, _actor = load_board(board_id)
    return schemas.ColumnList(items=[schemas.ColumnOut.model_validate(x) for x in board.columns])


# Cards ---------------------------------------------------------------------------------


def _filter() -> BoardFilter:
    """The board's own filter, from the query string as the board page reads it (the query
    model checked its shape; the board's parser reads it, so the two cannot disagree)."""
    return parse_filter(request.args.items(multi=True))


@operation(
    bp,
    BOARD + "/cards",
    "GET",
    summary="Open cards, filtered and searched",
    tag="Cards",
    answer=schemas.CardPage,
    query=schemas.CardQuery,
)
def list_cards(board_id: int, query: schemas.CardQuery):
    """The board's open cards that its filter admits (the same chips and search language as
    the board page), by id, a page at a time: pass `next_cursor` as `cursor`."""
    board, actor = load_board(board_id)
    try:
        after = present.after_id(query.cursor)
    except ValueError:
        raise Invalid({"cursor": ["Use a next_cursor this API gave."]}) from None
    tiles, more = board_view.listed_cards(
        board, shown=_filter(), me=actor.id, after=after, limit=query.limit
    )
    next_cursor = present.cursor(tiles[-1].id) if more and tiles else None
    return schemas.CardPage(items=[present.tile(t) for t in tiles], next_cursor=next_cursor)


@operation(
    bp, CARD, "GET", summary="A card with history and comments", tag="Cards",
    answer=schemas.CardDetail,
)  # fmt: skip
def show_card(board_id: int, card_id: int):
    board, _actor = load_board(board_id)
    card = get_card(board.id, card_id)
    history = board_view.card_history(card.id)
    return present.card_detail(card, history, conversation.comments(card.id))


@operation(
    bp,
    BOARD + "/cards",
    "POST",
    summary="Add a card to a lane's ready queue",
    tag="Cards",
    answer=schemas.Card,
    status=201,
    body=schemas.CreateCard,
)
def create_card(board_id: int, body: schemas.CreateCard):
    board, actor = load_board(board_id)
    fields = body.model_dump(exclude={"lane_id"})
    fields["severity"] = fields["severity"] or None
    card = cards.create_card(board.id, actor, body.lane_id, fields)
    return present.card(card), 201


@operation(
    bp, CARD, "PATCH", summary="Edit a card (with the version you read)", tag="Cards",
    answer=schemas.Card, body=schemas.EditCard,
)  # fmt: skip
def edit_card(board_id: int, card_id: int, body: schemas.EditCard):
    """Change the fields given; `version` is the card's version you read. Someone changed it
    since: 409 stale_version with the card as it is now."""
    board, actor = load_board(board_id)
    given = body.model_dump(exclude_unset=True, exclude={"version"})
    nullable = ("estimate", "severity")
    fields = {k: v for k, v in given.items() if v is not None or k in nullable}
    card = cards.edit_card(board.id, actor, card_id, body.version, fields)
    return present.card(card)


def _card_answer(change) -> schemas.Card:
    """A change's card as the answer shows it, read in the change's own transaction before
    its commit (store.commit's `answer`): its assignee then costs no transaction of its own
    (bench: api_move_ms)."""
    return present.card(change.card)


@operation(
    bp, CARD + "/move", "POST", summary="Move a card", tag="Cards", answer=schemas.Card,
    body=schemas.MoveCard,
)  # fmt: skip
def move_card(board_id: int, card_id: int, body: schemas.MoveCard):
    """Move a card to a lane and column, checked against every WIP limit the move raises
    (refused: 409 wip_limit with the limits). A card nobody holds moved into an active
    column becomes yours, as on the board."""
    board, actor = load_board(board_id)
    change = cards.move_card(
        board.id,
        actor,
        card_id,
        lane_id=body.lane_id,
        column_id=body.column_id,
        after=body.after,
        reason=body.reason,
        take=True,
        answer=_card_answer,
    )
    return change.answer


@operation(
    bp, CARD + "/assign", "POST", summary="Assign a card", tag="Cards", answer=schemas.Card,
    body=schemas.AssignCard,
)  # fmt: skip
def assign_card(board_id: int, card_id: int, body: schemas.AssignCard):
    board, actor = load_board(board_id)
    card = cards.assign_card(board.id, actor, card_id, body.assignee_id, body.reason)
    return present.card(card)


@operation(
    bp, CARD + "/block", "POST", summary="Block or unblock a card", tag="Cards",
    answer=schemas.Card, body=schemas.BlockCard,
)  # fmt: skip
def block_card(board_id: int, card_id: int, body: schemas.BlockCard):
    board, actor = load_board(board_id)
    change = cards.set_blocked(board.id, actor, card_id, body.blocked, body.reason)
    return present.card(change.card)


@operation(
    bp, CARD + "/close", "POST", summary="Close a card without doing it", tag="Cards",
    answer=schemas.Card, body=schemas.CloseCard,
)  # fmt: skip
def close_card(board_id: int, card_id: int, body: schemas.CloseCard):
    board, actor = load_board(board_id)
    change = cards.close_card(board.id, actor, card_id, body.why, body.note)
    return present.card(change.card)


@operation(
    bp, CARD + "/reopen", "POST", summary="Reopen a done or closed card", tag="Cards",
    answer=schemas.Card, body=schemas.ReopenCard,
)  # fmt: skip
def reopen_card(board_id: int, card_id: int, body: schemas.ReopenCard):
    board, actor = load_board(board_id)
    change = cards.reopen_card(board.id, actor, card_id, body.why)
    return present.card(change.card)


@operation(
    bp, CARD + "/comments", "POST", summary="Comment on a card", tag="Cards",
    answer=schemas.CommentOut, status=201, body=schemas.NewComment,
)  # fmt: skip
def comment_card(board_id: int, card_id: int, body: schemas.NewComment):
    """An internal note, or on a request a reply its requester sees (and is mailed)."""
    board, actor = load_board(board_id)
    made = conversation.add_comment(board.id, actor, card_id, body.body, body.visibility)
    return _comment(made), 201


def _comment(made) -> schemas.CommentOut:
    return schemas.CommentOut(
        id=made.id,
        author=present.person(made.author),
        at=made.at,
        edited_at=made.edited_at,
        body=made.body,
        visibility=made.visibility,
    )


@operation(
    bp, BOARD + "/pull", "POST", summary="Pull next", tag="Cards", answer=schemas.Pulled,
)  # fmt: skip
def pull(board_id: int):
    """Take the highest-priority ready card you may (Expedite first, then the board's pull
    order): it is assigned to you and moves to the first active column. Nothing to pull:
    `card` is null and `reasons` says why for each lane."""
    board, actor = load_board(board_id)
    result = cards.pull_next(board.id, actor, answer=_card_answer)
    card = None if result.change is None else result.change.answer
    return schemas.Pulled(card=card, reasons=result.reasons)


# Requests ------------------------------------------------------------------------------


@operation(
    bp, BOARD + "/requests", "POST", summary="File a support request", tag="Requests",
    answer=schemas.Filed, status=201, body=schemas.FileRequest,
    also={200: "This key filed a request before: that request, nothing new filed."},
)  # fmt: skip
def file_request(board_id: int, body: schemas.FileRequest):
    """As the intake form: S1 goes to the Expedite lane, S2–S4 to Support's ready queue.
    The same `key` again answers the card it filed (200) instead of filing another."""
    board, actor = load_board(board_id)
    values = body.model_dump(exclude={"key"})
    filed = intake.file_request(board.id, actor, values, body.key or intake.new_intake_key())
    return schemas.Filed(card=present.card(filed.card), created=filed.created), (
        201 if filed.created else 200
    )


def _request_card(board, card_id: int):
    card = get_card(board.id, card_id)
    if not conversation.is_request(card):
        raise NotFound("That request does not exist on this board.")
    return card


@operation(
    bp, BOARD + "/requests/<int:card_id>", "GET", summary="A request", tag="Requests",
    answer=schemas.RequestOut,
)  # fmt: skip
def show_request(board_id: int, card_id: int):
    """A request's plain-words status, its card, history and comments (both kinds)."""
    board, _actor = load_board(board_id)
    _request_card(board, card_id)
    page = intake.request_page(board, card_id)
    detail = present.card_detail(page.card, page.history, page.comments)
    return schemas.RequestOut(card=detail, status=page.status.key, status_label=page.status.label)


@operation(
    bp, BOARD + "/requests/<int:card_id>/replies", "POST", summary="Reply to the requester",
    tag="Requests", answer=schemas.CommentOut, status=201, body=schemas.Reply,
)  # fmt: skip
def reply_request(board_id: int, card_id: int, body: schemas.Reply):
    """A reply the requester sees on the status page (and by mail when it is set up)."""
    board, actor = load_board(board_id)
    _request_card(board, card_id)
    made = intake.add_comment(board.id, actor, card_id, body.body, Visibility.REPLY)
    return _comment(made), 201


# Rotation ------------------------------------------------------------------------------


@operation(
    bp, BOARD + "/rotation", "GET", summary="Support rotation", tag="Rotation",
    answer=schemas.RotationOut,
)  # fmt: skip
def show_rotation(board_id: int):
    """Who is on support duty now, who comes next, and the schedule's terms."""
    board, _actor = load_board(board_id)
    page = rotation.page(board)
    duty = rotation.duty(board) if page.enabled else None
    return schemas.RotationOut(
        enabled=page.enabled,
        on_duty=[present.term(t) for t in duty.now] if duty else [],
        next=[present.term(t) for t in duty.next] if duty else [],
        terms=[present.term(t) for t in page.terms],
    )


# Incidents -----------------------------------------------------------------------------

# The longest span a list of incidents reads at once (a year and a day, as the report's).
INCIDENT_SPAN_DAYS = 366


@operation(
    bp, BOARD + "/incidents", "GET", summary="Incidents opened in a span of days",
    tag="Incidents", answer=schemas.IncidentPage, query=schemas.IncidentQuery,
)  # fmt: skip
def list_incidents(board_id: int, query: schemas.IncidentQuery):
    """The incidents (cards that entered the Expedite lane, drills marked) opened or
    escalated from `since` to `until` on the board's clock, newest first, with the time
    each stage was reached; a page at a time: pass `next_cursor` as `cursor`."""
    board, _actor = load_board(board_id)
    for name, day in (("since", query.since), ("until", query.until)):
        if day is not None and sensible_date(day) is None:  # as every date of the pages
            raise Invalid({name: [f"Give a day from {FIRST_DAY} to {LAST_DAY}."]})
    until = query.until or today_on(board)
    since = query.since or until - timedelta(days=90)
    if since > until:
        raise Invalid({"since": ["Give a day on or before until."]})
    if (until - since).days >= INCIDENT_SPAN_DAYS:
        raise Invalid({"since": [f"Ask for at most {INCIDENT_SPAN_DAYS} days at once."]})
    try:
        before = present.after_id(query.cursor)
    except ValueError:
        raise Invalid({"cursor": ["Use a next_cursor this API gave."]}) from None
    items, more = incidents.listed(board, since, until, before=before, limit=query.limit)
    last = items[-1].incident.card_id if items else None
    return schemas.IncidentPage(
        items=[present.incident_summary(i) for i in items],
        next_cursor=present.cursor(last) if more and last else None,
    )


@operation(
    bp, BOARD + "/incidents/<int:incident_id>", "GET", summary="An incident", tag="Incidents",
    answer=schemas.IncidentOut,
)  # fmt: skip
def show_incident(board_id: int, incident_id: int):
    """The card's incident: stages reached (who, when; the mitigation's note), break-glass
    grants, the review and follow-up cards. An incident is its card: `incident_id` is the
    card's id; a card never in Expedite is 404."""
    board, _actor = load_board(board_id)
    return present.incident(reviews.read_out(board.id, incident_id))
