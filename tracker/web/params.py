"""Numbers, ids, page numbers, dates and text as they arrive in URLs, query strings and
forms, read in one place so odd input is a 404 or a 422, never a database error.

The database's integer columns hold ids up to 2**31 - 1 (PostgreSQL's integer; SQLite takes
up to 2**63 - 1), PostgreSQL refuses NUL in text, and Python's dates end at year 9999.
"""

from __future__ import annotations

import re
from datetime import date

from werkzeug.routing import IntegerConverter

from tracker.domain.periods import FIRST_DAY, LAST_DAY

ID_MAX = 2**31 - 1
# Page numbers past this are taken as the last page (no list here is a million pages long).
PAGE_MAX = 1_000_000
# C0 control characters and DEL, bar tab, line feed and carriage return.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def up_to(high: int) -> str:
    """A regular expression for the numbers 1..high in ASCII digits, no leading zeros."""
    digits = str(high)
    parts = [f"[1-9][0-9]{{0,{len(digits) - 2}}}"] if len(digits) > 1 else []
    for i, top in enumerate(digits):
        low = 1 if i == 0 else 0
        if int(top) > low:
            rest = len(digits) - i - 1
            parts.append(f"{digits[:i]}[{low}-{int(top) - 1}][0-9]{{{rest}}}")
    parts.append(digits)
    return "(?:" + "|".join(parts) + ")"


class IdConverter(IntegerConverter):
    """Flask's `int` URL converter limited to the ids 1..ID_MAX in ASCII digits: an id the
    database cannot hold matches no rule, so routing answers 404 before any view or query.

    The range is in the regular expression, not only in to_python: a converter that refuses
    a matched value makes Werkzeug answer 405 when another method's rule has the same path.
    """

    regex = up_to(ID_MAX)

    def __init__(self, map, fixed_digits=0, min=1, max=ID_MAX, signed=False):  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def whole_number(value, *, low: int = -ID_MAX, high: int = ID_MAX) -> int | None:
    """The int written in ASCII digits (an optional minus) within low..high, else None.

    str.isdigit() accepts "²", which int() refuses; int() accepts " 7", "1_0" and "٣".
    """
    if not isinstance(value, str) or not re.fullmatch(r"-?[0-9]{1,12}", value):
        return None
    number = int(value)
    return number if low <= number <= high else None


def parse_id(value) -> int | None:
    """A database id from a form or query string: ASCII digits, 1..ID_MAX; else None."""
    return whole_number(value, low=1, high=ID_MAX)


def page_number(value, last: int = PAGE_MAX) -> int:
    """A page number from a query string, clamped to 1..last; odd values are page 1."""
    number = value if isinstance(value, int) else whole_number(value, low=1)
    return max(1, min(number or 1, last))


def clean_text(value):
    """Text without NUL and other control characters (tab and newlines stay); no database
    stores NUL, and none of the others belongs in a name, a title or a search."""
    return CONTROL.sub("", value) if isinstance(value, str) else value


def search_term(value, length: int = 100) -> str:
    """A query-string search term: cleaned, trimmed, at most `length` characters."""
    return clean_text(value or "").strip()[:length]


def sensible_date(value: date | None) -> date | None:
    """The date if it lies in FIRST_DAY..LAST_DAY, else None."""
    return value if value is not None and FIRST_DAY <= value <= LAST_DAY else None
