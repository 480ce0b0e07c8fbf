"""Small helpers templates use to show times and ages in the board's time zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask_wtf.csrf import generate_csrf

from tracker import clock


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


def register(app) -> None:
    app.add_template_filter(local, "local")
    app.add_template_filter(days_since, "days_since")
    app.jinja_env.globals["csrf_token"] = generate_csrf
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
