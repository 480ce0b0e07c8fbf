"""Periods: "this period" is the current sprint, or the current week for a board without one."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo, available_timezones

from tracker.domain.capacity import weeks

# Dates a person may give (sprints, report and audit ranges): wide, and far from the ends
# of Python's calendar so a period around them can always be computed.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 31)


def week_of(moment: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The Monday-to-Monday week containing moment, in tz, returned as aware UTC bounds."""
    return weeks(moment.astimezone(tz).date(), 1)[0].bounds(tz)


def valid_timezone(name: str) -> bool:
    """True for an IANA time zone name such as Europe/Berlin."""
    return name in available_timezones()
