"""The home page (the boards a person can see) and creating boards (admins)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from tracker.domain.errors import DomainError
from tracker.services import boards
from tracker.web import errors
from tracker.web.access import acting_person
from tracker.web.forms import BoardForm

bp = Blueprint("boards", __name__)


def _index(form: BoardForm, status: int = 200):
    rows = boards.boards_of(current_user)
    return render_template("boards/index.html", rows=rows, form=form), status


@bp.get("/")
def index():
    """Every board the person belongs to (admins see all), with their role on each."""
    return _index(BoardForm())


@bp.post("/boards")
def create():
    """An admin creates a board; it starts with the default lanes and columns."""
    form = BoardForm()
    if not form.validate_on_submit():
        return _index(form, 422)
    board = boards.create_board(form.name.data, form.timezone.data, actor=acting_person())
    flash(f"Created the board {board.name}. Add its people next.", "info")
    return redirect(url_for("board.show", board_id=board.id), 303)


def _create_again(error: DomainError, status: int):
    """The home page with the new board's form as typed, the refusal under its time zone."""
    form = BoardForm()
    form.timezone.errors = [error.message]
    return _index(form, status)


REFUSED_PAGES: dict[str, errors.Refusal] = {"boards.create": _create_again}


errors.answer_refusals(bp, REFUSED_PAGES)
