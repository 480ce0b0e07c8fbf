"""A search box's text as a query: the words it holds, the last one a prefix while the
person is still typing it, and the card reference it names, if it is one.

The same words are what the databases' full-text indexes hold (tracker.search_index keeps
letters and digits and splits on everything else, on PostgreSQL and SQLite alike), so a
query can only hold letters and digits: quotes, operators and punctuation never reach the
database's query language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# At most this many words, each at most this long: a query stays cheap to run.
MAX_TERMS = 8
MAX_TERM_LENGTH = 40
WORD = re.compile(r"[^\W_]+")
REFERENCE = re.compile(r"[^\W\d_]{1,8}-[0-9]{1,9}")


@dataclass(frozen=True)
class SearchQuery:
    """What to look for: `terms` (lower case, in order), all of which a card must hold;
    the last is a prefix when `prefix` ("expo" finds "export"). `reference` is the text as
    a card reference ("SUP-42"), which ranks that card first."""

    text: str
    terms: tuple[str, ...]
    prefix: bool
    reference: str | None

    @property
    def empty(self) -> bool:
        return not self.terms


def parse_query(text: str | None) -> SearchQuery:
    """The query in a search box's text. The last word is a prefix unless something other
    than a letter or digit follows it (the person has finished typing it: "login " or
    "login."); a text of punctuation and spaces only is empty."""
    raw = (text or "")[:200]
    words = WORD.findall(raw.casefold())
    terms = tuple(word[:MAX_TERM_LENGTH] for word in words[:MAX_TERMS])
    finished = not terms or len(words) > MAX_TERMS or not WORD.fullmatch(raw[-1])
    shown = " ".join(raw.split())
    reference = shown.upper() if REFERENCE.fullmatch(shown) else None
    return SearchQuery(shown, terms, not finished, reference)
