"""Full-text search over a board's cards (tracker.search_index keeps the index): which of
some cards match a query (the board's filter), and a ranked page of the done and closed
cards that match (the archive).

Ranking: the card whose reference is the query comes first, then the cards whose reference
or title hold every word, then the rest (description, comments, people, severity,
component, requester); newest first within each. The query's words come from
tracker.domain.search: letters and digits only, so nothing a person types can break the
database's query syntax.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence

from sqlalchemy import (
    Select,
    bindparam,
    case,
    column,
    func,
    literal_column,
    select,
    table,
    text,
)
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
        return select(CARD_SEARCH.c.card_id).where(
            CARD_SEARCH.c.doc.op("@@")(func.to_tsquery("simple", bindparam("match"))),
            CARD_SEARCH.c.card_id.in_(bindparam("ids", expanding=True)),
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
    found = db.session.connection().execute(_among_statement(dialect), params).scalars()
    return ids.intersection(found)


# A ranked page ---------------------------------------------------------------------------


def _matched(dialect: str):
    """The condition "the card matches", and its "reference or title" tier, for a select
    from Card."""
    if dialect == "postgresql":
        doc = (
            select(CARD_SEARCH.c.doc)
            .where(CARD_SEARCH.c.card_id == Card.id)
            .correlate(Card)
            .scalar_subquery()
        )
        ids = select(CARD_SEARCH.c.card_id).where(
            CARD_SEARCH.c.doc.op("@@")(func.to_tsquery("simple", bindparam("match")))
        )
        in_title = doc.op("@@")(func.to_tsquery("simple", bindparam("title_match")))
        return Card.id.in_(ids), in_title
    ids = select(CARD_FTS.c.rowid).where(text("card_fts MATCH :match"))
    titles = select(CARD_FTS.c.rowid).where(text("card_fts MATCH :title_match"))
    return Card.id.in_(ids), Card.id.in_(titles)


@functools.cache
def _ranked_statements(dialect: str) -> tuple[Select, Select]:
    """The matching cards of a board in some statuses, best first (one page), and their
    count."""
    matched, in_title = _matched(dialect)
    where = (
        Card.board_id == bindparam("board_id"),
        Card.status.in_(bindparam("statuses", expanding=True)),
        matched,
    )
    exact = func.upper(Card.ref) == bindparam("reference")
    tier = case((exact, 0), (in_title, 1), else_=literal_column("2"))
    newest = func.coalesce(Card.done_at, Card.closed_at, Card.created_at)
    page = (
        select(Card.id)
        .where(*where)
        .order_by(tier, newest.desc(), Card.id.desc())
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )
    count = select(func.count()).select_from(Card).where(*where)
    return page, count


def ranked(
    board_id: int, query: SearchQuery, statuses: Sequence[str], *, page: int, per_page: int
) -> tuple[list[Card], int]:
    """One page of the board's cards in these statuses that match the query, best first
    (see the module's docstring), with their assignee and lane; and how many match. An
    empty query matches nothing (the caller lists the cards instead)."""
    if query.empty:
        return [], 0
    statement, count = _ranked_statements(_dialect())
    params = _params(query) | {
        "board_id": board_id,
        "statuses": list(statuses),
        "reference": query.reference or "",
        "limit": per_page,
        "offset": (page - 1) * per_page,
    }
    connection = db.session.connection()
    total = connection.execute(count, params).scalar_one()
    ids = list(connection.execute(statement, params).scalars()) if total else []
    if not ids:
        return [], total
    found = db.session.execute(
        select(Card)
        .options(joinedload(Card.assignee), joinedload(Card.lane))
        .where(Card.id.in_(ids))
    ).scalars()
    by_id = {card.id: card for card in found}
    return [by_id[card_id] for card_id in ids if card_id in by_id], total
