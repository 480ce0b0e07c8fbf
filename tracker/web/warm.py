"""A started server's first board page as fast as its tenth: what that page would build for
the first time (SQL statements compiled, the database dialect set up, tiles rendered), built
before the server takes requests.

gunicorn.conf.py calls warm_up in the master before it forks the workers (they inherit it
all), or in each worker when the app is not preloaded. Served on SQLite, the first board
page after a start took 26.7 ms without it and 12.8 ms with it, against 4.2 ms for the
tenth (bench/serve.py: serve_first_ms, serve_tenth_ms; README, "Benchmarks").
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, url_for
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from tracker.extensions import db
from tracker.models import Board
from tracker.services import board_view, emergency, users
from tracker.web.presenters import kept_markup

TILE = "board/_card.html:card"
log = logging.getLogger(__name__)


def busiest_boards(count: int) -> list[Board]:
    """The boards with the most changes (the highest versions): the ones people have open."""
    return list(
        db.session.execute(select(Board).order_by(Board.version.desc()).limit(count)).scalars()
    )


def warm_board(board: Board) -> int:
    """Read the board's page as anyone opening it does (its statements compiled and cached
    by the engine, its emergency banner too) and render its tiles (kept by
    presenters.kept_markup). The tiles warmed."""
    emergency.banner(board.id)
    view = board_view.load_board_view(
        board, done_per_lane=current_app.config["DONE_SHOWN_PER_LANE"]
    )
    base = url_for("board.show", board_id=board.id)
    tiles = [tile for cell in view.cells.values() for tile in cell]
    kept_markup(TILE, tiles, base)
    return len(tiles)


def warm_up(app: Flask) -> int:
    """Warm the app for its first requests: the statement every signed-in request runs
    (users.person_and_board, for nobody), and the pages of the WARM_BOARDS busiest boards.
    Ends with no connection open, so a process forked next inherits none. A database that
    cannot be reached leaves the app cold, not stopped: the server starts all the same.
    Returns the tiles rendered."""
    count = app.config["WARM_BOARDS"]
    warmed = 0
    with app.test_request_context():
        try:
            users.person_and_board("", 0)
            for board in busiest_boards(count) if count else []:
                warmed += warm_board(board)
        except DBAPIError as error:
            log.warning("warm-up skipped, the database did not answer: %s", error.orig)
        finally:
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()
    return warmed
