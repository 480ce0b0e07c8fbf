"""Untrusted text made safe to show, export or keep (pure functions, no framework).

Error text from a mail server quotes addresses, a spreadsheet runs a cell that starts like
a formula, a bidirectional override reverses the text that follows it on screen, and an
erased requester may be named in free text: each has one function here.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import Any, TypeVar

from tracker.domain.addresses import ADDRESS_IN_TEXT

T = TypeVar("T")
S = TypeVar("S", bound=str)

# OWASP's CSV injection rule: these first characters make a spreadsheet read a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) and the marks
# (U+200E, U+200F, U+061C): they reorder the text around them on screen.
_BIDI = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C])
# Every value a page prints is checked (security.printable): a search finds none in a
# fraction of what translate costs, and almost no text has one.
_HAS_BIDI = re.compile("[" + "".join(chr(c) for c in _BIDI) + "]").search


def mask_address(address: str) -> str:
    """j***@example.com: enough to recognise, not enough to harvest."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def mask_addresses(text: str) -> str:
    """The text with every email address in it masked (error text shown to people)."""
    return ADDRESS_IN_TEXT.sub(lambda found: mask_address(found.group(0)), text or "")


def csv_cell(value: T) -> T | str:
    """A value for a CSV cell: text a spreadsheet would take for a formula gets a leading
    single quote, so it shows as text; anything else is returned as it is."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_document(rows: Iterable[Iterable[Any]]) -> str:
    """CSV text of these rows, every cell through csv_cell: every export writes with this."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([csv_cell(cell) for cell in row])
    return out.getvalue()


def strip_bidi(value: S) -> S:
    """The text without bidirectional control characters (they can make a title read
    backwards, hiding what it says); right-to-left letters themselves are kept. A str
    subclass keeps its type (markupsafe's Markup translates to Markup)."""
    return value.translate(_BIDI) if _HAS_BIDI(value) else value


def erase_mentions(value: str, mentions: Iterable[str], placeholder: str) -> str:
    """The text with every mention of these names or addresses (case and spacing ignored)
    replaced by the placeholder."""
    words = {tuple(m.casefold().split()) for m in mentions if m and m.strip()}
    if not value or not words:
        return value
    pattern = "|".join(
        r"\s+".join(re.escape(w) for w in mention)
        for mention in sorted(words, key=lambda m: -len(" ".join(m)))
    )
    # Whole words only: erasing "Sam" leaves "Sample" alone.
    return re.sub(rf"(?<!\w)(?:{pattern})(?!\w)", placeholder, value, flags=re.IGNORECASE)
