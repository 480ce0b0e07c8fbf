"""The cards' full-text index, kept by the database itself: each card's words from its
reference, title, description, comments, assignee (name and username), severity,
component and requester, in four weighted parts (reference; title; people and fields;
description and comments).

- PostgreSQL: a table `card_search` (card_id, doc tsvector) with a GIN index, filled by
  triggers on card, comment and user_account (a renamed person's cards are indexed again).
- SQLite: an FTS5 virtual table `card_fts` (rowid = card id), kept by the same triggers.

Both index the text with every run of characters other than letters and digits made a
space, in the 'simple' configuration (no stemming): "SUP-42" is the words sup and 42, as
tracker.domain.search reads a query. The migration a5b6c7d8e9f0 creates these objects
(with its own copy of the SQL); tests and benches that build the schema with create_all get
them too: tracker.database.attach_search_index runs CREATE after the tables are made and
DROP before they are dropped. Alembic's comparison leaves them out (migrations/env.py:
include_name).
"""

from __future__ import annotations

# Names autogenerate must not compare (migrations/env.py): FTS5 makes shadow tables
# card_fts_data, card_fts_idx, ...
OBJECT_PREFIXES = ("card_search", "card_fts")

# The columns of card whose change re-indexes the card.
CARD_FIELDS = ("ref", "title", "description", "assignee_id", "severity", "component", "requester")

_PG_WORDS = "regexp_replace(coalesce({}, ''), '[^[:alnum:]]+', ' ', 'g')"


def _pg_part(expression: str, weight: str) -> str:
    return f"setweight(to_tsvector('simple', {_PG_WORDS.format(expression)}), '{weight}')"


PG_DOC = " || ".join(
    (
        _pg_part("c.ref", "A"),
        _pg_part("c.title", "B"),
        _pg_part("concat_ws(' ', u.name, u.username, c.severity, c.component, c.requester)", "C"),
        _pg_part(
            "c.description || ' ' || coalesce((SELECT string_agg(m.body, ' ') "
            "FROM comment m WHERE m.card_id = c.id), '')",
            "D",
        ),
    )
)

_CHANGED = " OR ".join(f"OLD.{name} IS DISTINCT FROM NEW.{name}" for name in CARD_FIELDS)

POSTGRESQL = (
    """CREATE TABLE IF NOT EXISTS card_search (
        card_id integer PRIMARY KEY REFERENCES card (id) ON DELETE CASCADE,
        doc tsvector NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS ix_card_search_doc ON card_search USING gin (doc)",
    # Every piece of SQL here is a constant of this module: nothing comes from input.
    f"""CREATE OR REPLACE FUNCTION card_search_refresh(ids integer[])
    RETURNS void LANGUAGE sql AS $$
        INSERT INTO card_search (card_id, doc)
        SELECT c.id, {PG_DOC}
        FROM card c LEFT JOIN user_account u ON u.id = c.assignee_id
        WHERE c.id = ANY(ids)
        ON CONFLICT (card_id) DO UPDATE SET doc = EXCLUDED.doc
    $$""",  # noqa: S608
    """CREATE OR REPLACE FUNCTION card_search_on_card() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM card_search_refresh(ARRAY[NEW.id]);
        RETURN NULL;
    END $$""",
    """CREATE OR REPLACE FUNCTION card_search_on_comment() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            PERFORM card_search_refresh(ARRAY[OLD.card_id]);
        END IF;
        IF TG_OP <> 'DELETE' THEN
            PERFORM card_search_refresh(ARRAY[NEW.card_id]);
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE OR REPLACE FUNCTION card_search_on_person() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM card_search_refresh(ARRAY(SELECT id FROM card WHERE assignee_id = NEW.id));
        RETURN NULL;
    END $$""",
    """CREATE OR REPLACE TRIGGER card_search_card_inserted AFTER INSERT ON card
        FOR EACH ROW EXECUTE FUNCTION card_search_on_card()""",
    f"""CREATE OR REPLACE TRIGGER card_search_card_updated
        AFTER UPDATE OF {", ".join(CARD_FIELDS)} ON card FOR EACH ROW
        WHEN ({_CHANGED}) EXECUTE FUNCTION card_search_on_card()""",
    """CREATE OR REPLACE TRIGGER card_search_comment_changed
        AFTER INSERT OR UPDATE OR DELETE ON comment FOR EACH ROW
        EXECUTE FUNCTION card_search_on_comment()""",
    """CREATE OR REPLACE TRIGGER card_search_person_renamed AFTER UPDATE OF name, username
        ON user_account FOR EACH ROW
        WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.username IS DISTINCT FROM NEW.username)
        EXECUTE FUNCTION card_search_on_person()""",
)

POSTGRESQL_DROP = (
    "DROP TRIGGER IF EXISTS card_search_person_renamed ON user_account",
    "DROP TRIGGER IF EXISTS card_search_comment_changed ON comment",
    "DROP TRIGGER IF EXISTS card_search_card_updated ON card",
    "DROP TRIGGER IF EXISTS card_search_card_inserted ON card",
    "DROP FUNCTION IF EXISTS card_search_on_person()",
    "DROP FUNCTION IF EXISTS card_search_on_comment()",
    "DROP FUNCTION IF EXISTS card_search_on_card()",
    "DROP TABLE IF EXISTS card_search",
    "DROP FUNCTION IF EXISTS card_search_refresh(integer[])",
)

# SQLite: the card's row for card_fts (rowid, ref, title, people, body), cards chosen by
# a condition on c.
_SQLITE_ROWS = """SELECT c.id, c.ref, c.title,
        coalesce(u.name, '') || ' ' || coalesce(u.username, '') || ' '
            || coalesce(c.severity, '') || ' ' || c.component || ' ' || c.requester,
        c.description || ' ' || coalesce(
            (SELECT group_concat(m.body, ' ') FROM comment m WHERE m.card_id = c.id), '')
    FROM card c LEFT JOIN user_account u ON u.id = c.assignee_id WHERE {}"""
_SQLITE_INSERT = "INSERT INTO card_fts (rowid, ref, title, people, body) " + _SQLITE_ROWS


def _sqlite_refresh(card_id: str) -> str:
    """Statements (for a trigger's body) that index one card again."""
    return (
        f"DELETE FROM card_fts WHERE rowid = {card_id}; "  # noqa: S608 (a constant)
        + _SQLITE_INSERT.format(f"c.id = {card_id}")
        + ";"
    )


_SQLITE_CHANGED = " OR ".join(f"OLD.{name} IS NOT NEW.{name}" for name in CARD_FIELDS)

SQLITE = (
    # The tokenizer splits on everything but letters and digits (unicode61's default);
    # the prefix indexes make a prefix query ("expo*") a lookup, not a scan of the terms.
    """CREATE VIRTUAL TABLE IF NOT EXISTS card_fts USING fts5(
        ref, title, people, body, tokenize = 'unicode61', prefix = '2 3'
    )""",
    f"""CREATE TRIGGER IF NOT EXISTS card_fts_card_inserted AFTER INSERT ON card BEGIN
        {_SQLITE_INSERT.format("c.id = NEW.id")};
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS card_fts_card_updated
        AFTER UPDATE OF {", ".join(CARD_FIELDS)} ON card
        WHEN {_SQLITE_CHANGED} BEGIN {_sqlite_refresh("NEW.id")} END""",
    """CREATE TRIGGER IF NOT EXISTS card_fts_card_deleted AFTER DELETE ON card BEGIN
        DELETE FROM card_fts WHERE rowid = OLD.id;
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS card_fts_comment_inserted AFTER INSERT ON comment BEGIN
        {_sqlite_refresh("NEW.card_id")} END""",
    f"""CREATE TRIGGER IF NOT EXISTS card_fts_comment_updated AFTER UPDATE ON comment BEGIN
        {_sqlite_refresh("OLD.card_id")} {_sqlite_refresh("NEW.card_id")} END""",
    f"""CREATE TRIGGER IF NOT EXISTS card_fts_comment_deleted AFTER DELETE ON comment BEGIN
        {_sqlite_refresh("OLD.card_id")} END""",
    f"""CREATE TRIGGER IF NOT EXISTS card_fts_person_renamed
        AFTER UPDATE OF name, username ON user_account
        WHEN OLD.name IS NOT NEW.name OR OLD.username IS NOT NEW.username BEGIN
        DELETE FROM card_fts WHERE rowid IN (SELECT id FROM card WHERE assignee_id = NEW.id);
        {_SQLITE_INSERT.format("c.assignee_id = NEW.id")};
    END""",  # noqa: S608
)

SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS card_fts_person_renamed",
    "DROP TRIGGER IF EXISTS card_fts_comment_deleted",
    "DROP TRIGGER IF EXISTS card_fts_comment_updated",
    "DROP TRIGGER IF EXISTS card_fts_comment_inserted",
    "DROP TRIGGER IF EXISTS card_fts_card_deleted",
    "DROP TRIGGER IF EXISTS card_fts_card_updated",
    "DROP TRIGGER IF EXISTS card_fts_card_inserted",
    "DROP TABLE IF EXISTS card_fts",
)

CREATE = {"postgresql": POSTGRESQL, "sqlite": SQLITE}
DROP = {"postgresql": POSTGRESQL_DROP, "sqlite": SQLITE_DROP}
