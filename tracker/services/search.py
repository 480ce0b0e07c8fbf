"""Full-text search over a board's cards (tracker.search_index keeps the index): which of
some cards match a query (the board's filter), and a ranked page of the done and closed
cards that match (the archive).

Ranking: the card whose reference is the query comes first, then the cards whose reference
or title hold every word, then the rest (description, comments, people, severity,
component, requester); newest first (by when the card was made) within each. Only the
newest RANKED matches are ranked: a word on half of 100,000 cards costs no more than a
rare one. The query's words come from
tracker.domain.search: letters and digits only, so nothing a person types can break the
database's query syntax.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import (
    Integer,
    Select,
    any_,
    bindparam,
    column,
    func,
    select,
    table,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import joinedload

from tracker.domain.search import SearchQuery
from tracker.extensions import db
from tracker.models import Card

# The index's tables as SQLAlchemy sees them (they are not models: search_index makes them).
CARD_SEARCH = table("card_search", column("card_id"), column("doc"))
CARD_FTS = table("card_fts", column("rowid"))


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def pg_tsquery(query: SearchQuery, weights: str = "") -> str:
    """The query as PostgreSQL's tsquery text: every word, the last a prefix when it is
    one, optionally only in the given weights ("AB": reference and title)."""
    words = []
    for i, term in enumerate(query.terms):
        prefix = "*" if query.prefix and i == len(query.terms) - 1 else ""
        words.append(f"{term}:{prefix}{weights}" if prefix or weights else term)
    return " & ".join(words)


def fts5_match(query: SearchQuery, columns: Sequence[str] = ()) -> str:
    """The query as an FTS5 MATCH expression: every word quoted, the last a prefix when it
    is one, optionally only in the given columns."""
    words = []
    for i, term in enumerate(query.terms):
        prefix = "*" if query.prefix and i == len(query.terms) - 1 else ""
        words.append(f'"{term}"{prefix}')
    expression = " AND ".join(words)
    return f"{{{' '.join(columns)}}} : ({expression})" if columns else expression


def _params(query: SearchQuery) -> dict:
    if _dialect() == "postgresql":
        return {"match": pg_tsquery(query), "title_match": pg_tsquery(query, "AB")}
    return {"match": fts5_match(query), "title_match": fts5_match(query, ("ref", "title"))}


# Which of some cards match -----------------------------------------------------------------


@functools.cache
def _among_statement(dialect: str) -> Select:
    """The ids, among the given ones, of the cards that match."""
    if dialect == "postgresql":
        # Each given card's document asked whether it matches (selected, not filtered on):
        # a board's few thousand cards through the primary key. As a WHERE condition the
        # planner may read every match on the board's history from the GIN index instead
        # (a common word: tens of thousands), ten times slower.
        matched = CARD_SEARCH.c.doc.op("@@")(func.to_tsquery("simple", bindparam("match")))
        return select(CARD_SEARCH.c.card_id, matched.label("matched")).where(
            CARD_SEARCH.c.card_id == any_(bindparam("ids", type_=postgresql.ARRAY(Integer)))
        )
    # FTS5 narrows its match to a range of rowids by itself; the ids are then picked out.
    return select(CARD_FTS.c.rowid).where(
        text("card_fts MATCH :match"),
        CARD_FTS.c.rowid.between(bindparam("low"), bindparam("high")),
    )


def matching(query: SearchQuery, card_ids: Iterable[int]) -> set[int]:
    """Which of these cards match the query (all of them for an empty query)."""
    ids = set(card_ids)
    if query.empty or not ids:
        return ids
    dialect = _dialect()
    params = _params(query)
    if dialect == "postgresql":
        params["ids"] = sorted(ids)
    else:
        params |= {"low": min(ids), "high": max(ids)}
    rows = db.session.connection().execute(_among_statement(dialect), params)
    if dialect == "postgresql":
        return {card_id for card_id, matched in rows if matched}
    return ids.intersection(rows.scalars())


# A ranked page ---------------------------------------------------------------------------

# The most matches a ranked search ranks: the newest this many (by card id, the order both
# indexes read in), so a word half the board holds costs what a rare one does
# (bench/board.py: archive_search_ms). More than this says "at least".
RANKED = 500


@functools.cache
def _recent_statement(dialect: str) -> Select:
    """The newest matching cards of a board in some statuses (at most `cap`)."""
    if dialect == "postgresql":
        found = CARD_SEARCH.c.card_id
        matched = CARD_SEARCH.c.doc.op("@@")(func.to_tsquery("simple", bindparam("match")))
        source = CARD_SEARCH
    else:
        # FTS5 reads its matches in rowid order, newest first, and stops at the cap.
        found = CARD_FTS.c.rowid
        matched = text("card_fts MATCH :match")
        source = CARD_FTS
    return (
        select(found)
        .select_from(source)
        .join(Card, Card.id == found)
        .where(
            matched,
            Card.board_id == bindparam("board_id"),
            Card.status.in_(bindparam("statuses", expanding=True)),
        )
        .order_by(found.desc())
        .limit(bindparam("cap"))
    )


@functools.cache
def _reference_statement() -> Select:
    return select(Card.id).where(
        Card.board_id == bindparam("board_id"),
        Card.ref == bindparam("reference"),
        Card.status.in_(bindparam("statuses", expanding=True)),
    )


@functools.cache
def _titles_statement(dialect: str) -> Select:
    """Which of the given cards hold every word in their reference or title."""
    if dialect == "postgresql":  # selected, not filtered on: see _among_statement
        matched = CARD_SEARCH.c.doc.op("@@")(func.to_tsquery("simple", bindparam("title_match")))
        return select(CARD_SEARCH.c.card_id, matched.label("matched")).where(
            CARD_SEARCH.c.card_id == any_(bindparam("ids", type_=postgresql.ARRAY(Integer)))
        )
    return select(CARD_FTS.c.rowid).where(
        text("card_fts MATCH :title_match"),
        CARD_FTS.c.rowid.between(bindparam("low"), bindparam("high")),
    )


@dataclass(frozen=True)
class Ranked:
    """A page of matching cards, best first; how many match (`total`), or at least how
    many when `more` (the search ranked only the newest RANKED matches)."""

    cards: list[Card]
    total: int
    more: bool = False


def ranked(
    board_id: int, query: SearchQuery, statuses: Sequence[str], *, page: int, per_page: int
) -> Ranked:
    """One page of the board's cards in these statuses that match the query, best first
    (see the module's docstring), with their assignee and lane. An empty query matches
    nothing (the caller lists the cards instead)."""
    if query.empty:
        return Ranked([], 0)
    dialect = _dialect()
    params = _params(query) | {"board_id": board_id, "statuses": list(statuses)}
    connection = db.session.connection()
    first: list[int] = []
    if query.reference:
        params["reference"] = query.reference
        first = list(connection.execute(_reference_statement(), params).scalars())
    params["cap"] = RANKED + 1
    recent = [i for i in connection.execute(_recent_statement(dialect), params).scalars()]
    more = len(recent) > RANKED
    recent = [card_id for card_id in recent[:RANKED] if card_id not in first]
    titled: set[int] = set()
    if recent:
        if dialect == "postgresql":
            params["ids"] = recent
        else:
            params |= {"low": min(recent), "high": max(recent)}
        rows = connection.execute(_titles_statement(dialect), params)
        if dialect == "postgresql":
            titled = {card_id for card_id, matched in rows if matched}
        else:
            titled = set(rows.scalars())
    order = first + [i for i in recent if i in titled] + [i for i in recent if i not in titled]
    ids = order[(page - 1) * per_page : page * per_page]
    if not ids:
        return Ranked([], len(order), more)
    found = db.session.execute(
        select(Card)
        .options(joinedload(Card.assignee), joinedload(Card.lane))
        .where(Card.id.in_(ids))
    ).scalars()
    by_id = {card.id: card for card in found}
    return Ranked([by_id[i] for i in ids if i in by_id], len(order), more)
