"""The home page (the boards a person can see) and creating boards (admins)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from tracker.domain.errors import InvalidRequest
from tracker.extensions import db
from tracker.models import Board, Membership
from tracker.services import boards
from tracker.web.access import acting_person
from tracker.web.forms import BoardForm

bp = Blueprint("boards", __name__)


@bp.get("/")
def index():
    """Every board the person belongs to (admins see all), with their role on each."""
    if current_user.is_admin:
        query = select(Board, Membership.role).outerjoin(
            Membership, (Membership.board_id == Board.id) & (Membership.user_id == current_user.id)
        )
    else:
        query = (
            select(Board, Membership.role)
            .join(Membership, Membership.board_id == Board.id)
            .where(Membership.user_id == current_user.id)
        )
    rows = db.session.execute(query.order_by(Board.name)).all()
    return render_template("boards/index.html", rows=rows, form=BoardForm())


@bp.post("/boards")
def create():
    """An admin creates a board; it starts with the default lanes and columns."""
    form = BoardForm()
    if form.validate_on_submit():
        try:
            board = boards.create_board(form.name.data, form.timezone.data, actor=acting_person())
        except InvalidRequest as error:
            form.timezone.errors.append(error.message)
        else:
            flash(f"Created the board {board.name}. Add its people next.", "info")
            return redirect(url_for("board.show", board_id=board.id), 303)
    rows = db.session.execute(
        select(Board, Membership.role)
        .outerjoin(
            Membership, (Membership.board_id == Board.id) & (Membership.user_id == current_user.id)
        )
        .order_by(Board.name)
    ).all()
    return render_template("boards/index.html", rows=rows, form=form), 422
