"""The board page: its grid (lanes × columns, their counts and tiles) kept as markup per
board version, so that opening or reloading a board nobody changed reads no card and
renders no cell.

A board's version moves on with every change to it (a card, its settings, its sprints, an
erasure, its support rotation: store.bump_version), which is what the live poll already
relies on to answer 204. The header's "on support duty" line is kept with the grid.
The grid also depends on the time: a tile's days in its column, a request tile's response
target clock (under 20% left, late: services.desk.tile_clocks), and the period (the sprint
running, or the week) whose done cards it shows. So a kept grid is for one local date and
only until its first tile's count of days moves on or its first clock changes look (a
wait, a reply or new targets bump the board's version: a new key); and on the viewer's
role, which decides whether the queue cells offer "+ Add card". A filtered page (any chip or text: a
domain.board_filter.BoardFilter that is not empty) is never kept, nor served from a kept
grid: the kept grid is the whole board, under a key that says nothing of a filter.
A database restored from a backup goes back to earlier versions: restart the servers after
a restore (their open pages, polling by version, need a reload then too).

Each process keeps the last KEPT_GRIDS grids (config; bench/serve.py: serve_board_200_cpu_ms
against serve_unkept_board_200_cpu_ms).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, current_app, render_template, url_for
from markupsafe import Markup

from tracker import clock
from tracker.domain.board_filter import BoardFilter
from tracker.models import Board
from tracker.services import board_view, rotation


@dataclass
class BoardPage:
    """What templates/board/page.html and _board.html show of a board."""

    board: Board
    grid: Markup
    period_name: str
    period_end: datetime
    now: datetime
    notices: list[str] = field(default_factory=list)
    filtered: bool = False
    hidden: int = 0
    duty: rotation.Duty | None = None
    # What the filter's chips offer: the people and labels of the board's cards.
    options: board_view.FilterOptions = field(default_factory=board_view.FilterOptions)


@dataclass(frozen=True)
class _Kept:
    grid: Markup
    period_name: str
    period_end: datetime
    valid_until: datetime
    duty: rotation.Duty | None = None
    options: board_view.FilterOptions = board_view.FilterOptions()


class KeptGrids:
    """The last `size` grids of a process, by board, version, local date and role."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._grids: OrderedDict[tuple, _Kept] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple, now: datetime) -> _Kept | None:
        with self._lock:
            kept = self._grids.get(key)
            if kept is None or now >= kept.valid_until:
                return None
            self._grids.move_to_end(key)
            return kept

    def put(self, key: tuple, kept: _Kept) -> None:
        with self._lock:
            self._grids[key] = kept
            self._grids.move_to_end(key)
            while self._grids and len(self._grids) > self.size:
                self._grids.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._grids.clear()


def register(app: Flask) -> None:
    app.extensions["tracker.grids"] = KeptGrids(app.config["KEPT_GRIDS"])


def _rendered(view: board_view.BoardView, can_change: bool) -> Markup:
    base = url_for("board.show", board_id=view.board.id)
    html = render_template("board/_grid_whole.html", view=view, base=base, can_change=can_change)
    # A template's output: Jinja escaped every value in it already.
    return Markup(html)  # noqa: S704


def _next_day_change(view: board_view.BoardView) -> datetime:
    """When the first tile's count of days in its column moves on, a tile in progress ages
    past its kind's 85th percentile (its aging marker), a request tile's response target
    clock would change look (under 20% left, late), or the period ends."""
    changes = [
        tile.column_entered_at + timedelta(days=tile.days + 1)
        for cell in view.cells.values()
        for tile in cell
    ]
    if view.aging_next is not None:
        changes.append(view.aging_next)
    if view.clocks_change_at is not None:
        changes.append(view.clocks_change_at)
    return min([view.period_end, *changes])


def board_page(
    board: Board, *, can_change: bool, shown: BoardFilter | None = None, me: int | None = None
) -> BoardPage:
    """The board's page, its grid kept when unfiltered (see the module's docstring)."""
    now = clock.now()
    done_per_lane = current_app.config["DONE_SHOWN_PER_LANE"]
    if shown is not None and not shown.empty:
        view = board_view.load_board_view(board, done_per_lane=done_per_lane, shown=shown, me=me)
        grid = _rendered(view, can_change)
        options = view.options or board_view.FilterOptions()
        return BoardPage(
            board,
            grid,
            view.period_name,
            view.period_end,
            now,
            [],
            True,
            view.hidden,
            duty=rotation.duty(board),
            options=options,
        )
    grids: KeptGrids = current_app.extensions["tracker.grids"]
    today = now.astimezone(ZoneInfo(board.timezone)).date()
    key: Any = (board.id, board.created_at, board.version, today, can_change, done_per_lane)
    kept = grids.get(key, now)
    if kept is None:
        view = board_view.load_board_view(board, done_per_lane=done_per_lane)
        kept = _Kept(
            _rendered(view, can_change),
            view.period_name,
            view.period_end,
            _next_day_change(view),
            rotation.duty(board, today),
            view.options or board_view.FilterOptions(),
        )
        grids.put(key, kept)
    return BoardPage(
        board,
        kept.grid,
        kept.period_name,
        kept.period_end,
        now,
        duty=kept.duty,
        options=kept.options,
    )
