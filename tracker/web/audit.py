"""The audit log pages: every board's for admins, one board's for its leads; CSV export."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request

from tracker.services import audit
from tracker.web.access import load_board
from tracker.web.forms import AuditFilterForm, choices
from tracker.web.params import page_number, parse_id

bp = Blueprint("audit", __name__)
FILTER_ARGS = ("person", "action", "since", "until")


def _filters(board_id: int | None) -> tuple[AuditFilterForm, audit.Filters]:
    """The filter form from the query string, and the filters its valid fields give."""
    form = AuditFilterForm(request.args)
    form.person.choices = choices(
        ("", "Anyone"), *((str(i), name) for i, name in audit.actors(board_id))
    )
    form.action.choices = choices(("", "Any action"), *audit.ACTIONS.items())
    form.validate()
    person = form.person.data or ""
    action = form.action.data if form.action.data in audit.ACTIONS else None
    return form, audit.Filters(
        actor_id=parse_id(person),
        action=action,
        since=None if form.since.errors else form.since.data,
        until=None if form.until.errors else form.until.data,
    )


def _number() -> int:
    return page_number(request.args.get("page"))


def _page(board=None, actor=None):
    board_id = board.id if board is not None else None
    timezone = board.timezone if board is not None else "UTC"
    form, filters = _filters(board_id)
    found = audit.page(filters, board_id=board_id, number=_number(), timezone=timezone)
    args = {k: v for k, v in request.args.items() if k in FILTER_ARGS and v}
    ids = {"board_id": board_id} if board_id is not None else {}
    return render_template(
        "audit/page.html",
        board=board,
        actor=actor,
        form=form,
        found=found,
        args=ids | args,
        ids=ids,
        timezone=timezone,
        describe=audit.describe,
        actions=audit.ACTIONS,
    )


def _csv(board=None) -> Response:
    board_id = board.id if board is not None else None
    _form, filters = _filters(board_id)
    body = audit.export_csv(
        filters, board_id=board_id, timezone=board.timezone if board is not None else "UTC"
    )
    name = f"audit-board-{board_id}.csv" if board_id else "audit.csv"
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.get("/admin/audit")
def show_all():
    """Every administrative act on the site, newest first (admins)."""
    return _page()


@bp.get("/admin/audit.csv")
def export_all():
    return _csv()


@bp.get("/b/<int:board_id>/audit")
def show_board(board_id: int):
    """The board's administrative acts: roles, settings, overrides, status links (leads)."""
    board, actor = load_board(board_id)
    return _page(board, actor)


@bp.get("/b/<int:board_id>/audit.csv")
def export_board(board_id: int):
    board, _actor = load_board(board_id)
    return _csv(board)
