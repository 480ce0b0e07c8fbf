"""A started server's first board page as fast as its tenth: what that page would build for
the first time (the router's patterns and SQL statements compiled, the database dialect
set up, the grid and its tiles rendered and kept), built before the server takes requests;
each worker then opens its database connection (database.open_connections).

gunicorn.conf.py calls warm_up in the master before it forks the workers (they inherit it
all), or in each worker when the app is not preloaded. Served on SQLite (the 200-card
bench board), the first board page after a start took 29.7-31.9 ms with TRACKER_WARM_BOARDS=0
and 8.7-9.2 ms warmed, against 2.2-2.6 ms for the tenth (two runs of five starts each,
alternated; bench/serve.py: serve_first_ms, serve_tenth_ms; README, "Benchmarks").
"""

from __future__ import annotations

import logging

from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import BuildError

from tracker.extensions import db
from tracker.models import Board
from tracker.services import emergency, users
from tracker.web.presenters import grid

log = logging.getLogger(__name__)


def busiest_boards(count: int) -> list[Board]:
    """The boards with the most changes (the highest versions): the ones people have open."""
    return list(
        db.session.execute(select(Board).order_by(Board.version.desc()).limit(count)).scalars()
    )


def warm_board(board: Board) -> None:
    """Read the board's page as anyone opening it does (its statements compiled and cached
    by the engine, its emergency banner too) and keep its grid as both the people who may
    change cards and those who only look see it (presenters.grid: which renders its tiles,
    kept by presenters.kept_markup)."""
    emergency.banner(board.id)
    for can_change in (True, False):
        grid.board_page(board, can_change=can_change)


def warm_routes(app: Flask) -> int:
    """Match an address of every route once, so that the router's patterns are compiled
    before the first request that needs them (werkzeug compiles each pattern of the path it
    follows when it first meets it, and the re module keeps it). Returns how many routes
    were matched."""
    adapter = app.url_map.bind("localhost")
    matched = 0
    for rule in app.url_map.iter_rules():
        method = min((rule.methods or {"GET"}) - {"HEAD", "OPTIONS"}, default="GET")
        try:
            path = adapter.build(rule.endpoint, dict.fromkeys(rule.arguments, 1), method=method)
            adapter.match(path, method=method)
        except (BuildError, HTTPException):  # a route no sample address reaches
            continue
        matched += 1
    return matched


def warm_up(app: Flask) -> int:
    """Warm the app for its first requests: the router (warm_routes), the statement every
    signed-in request runs (users.person_and_board, for nobody), and the pages of the
    WARM_BOARDS busiest boards. Ends with no connection open, so a process forked next
    inherits none. A database that cannot be reached leaves the app cold, not stopped:
    the server starts all the same. Returns how many boards were warmed."""
    count = app.config["WARM_BOARDS"]
    warmed = 0
    warm_routes(app)
    with app.test_request_context():
        try:
            users.person_and_board("", 0)
            for board in busiest_boards(count) if count else []:
                warm_board(board)
                warmed += 1
        except DBAPIError as error:
            log.warning("warm-up skipped, the database did not answer: %s", error.orig)
        finally:
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()
    return warmed
