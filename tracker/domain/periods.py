"""Periods: "this period" is the current sprint, or the current week for a board without one."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones


def week_of(moment: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The Monday-to-Monday week containing moment, in tz, returned as aware UTC bounds."""
    local = moment.astimezone(tz)
    start = (local - timedelta(days=local.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    end = start + timedelta(days=7)
    utc = ZoneInfo("UTC")
    return start.astimezone(utc), end.astimezone(utc)


def valid_timezone(name: str) -> bool:
    """True for an IANA time zone name such as Europe/Berlin."""
    return name in available_timezones()
