"""What pages show, shaped for templates: here the small helpers every template may use
(times and ages in the board's time zone, kept markup); the report's chart, CSV and range
in .report; a card's history in words in .history."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from tracker import clock
from tracker.domain import vocabulary
from tracker.domain.periods import timezone_names
from tracker.domain.policy import Action
from tracker.domain.wording import counted
from tracker.web import access
from tracker.web.presenters.report import duration, fmt, hours_taken, measured


def local(moment: datetime | None, timezone: str, fmt: str = "%a %d %b %Y, %H:%M") -> str:
    """A UTC time shown in the board's time zone."""
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(timezone)).strftime(fmt)


def days_since(moment: datetime | None) -> int:
    """Whole days from moment until now (0 on the first day)."""
    if moment is None:
        return 0
    return max(0, (clock.now() - moment).days)


def kept_markup(macro_name: str, items: Iterable, *args) -> Markup:
    """Render a macro ("template.html:macro") for each item and join them, keeping each
    item's markup: long lists (a board's tiles, My requests) barely change between two
    renders. Each item must be a tuple of everything its markup shows (board_view.Tile
    carries its days in the column), so equal items render equal markup; args are the
    same for the whole list (the board's base URL, its time zone). A template reloaded in
    development is a new macro, so its items render afresh.
    """
    template, name = macro_name.split(":")
    macro = getattr(current_app.jinja_env.get_template(template).module, name)
    # Each piece is a macro's output: Jinja escaped every value in it already.
    return Markup("".join([_render_kept(macro, item, args) for item in items]))  # noqa: S704


@functools.lru_cache(maxsize=50_000)
def _render_kept(macro, item, args: tuple) -> str:
    return str(macro(item, *args))


def register(app) -> None:
    from tracker.web.presenters import grid

    grid.register(app)
    app.add_template_filter(local, "local")
    app.add_template_filter(days_since, "days_since")
    app.add_template_filter(fmt, "figure")
    app.add_template_filter(duration, "duration")
    app.add_template_filter(hours_taken, "hours_taken")
    app.add_template_filter(counted, "counted")
    app.add_template_filter(measured, "measured")
    app.jinja_env.globals["csrf_token"] = generate_csrf
    app.jinja_env.globals["kept_markup"] = kept_markup
    app.jinja_env.globals["timezone_names"] = timezone_names
    app.jinja_env.globals["can"] = access.can  # the role rule the routes apply (ROUTES)
    # The vocabulary and the policy's actions: templates name members, never bare words.
    app.jinja_env.globals.update(vocabulary.ALL, Action=Action)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
