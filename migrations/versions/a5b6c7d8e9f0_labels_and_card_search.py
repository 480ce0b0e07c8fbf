"""labels, and the cards' full-text index (PostgreSQL tsvector table, SQLite FTS5)

Revision ID: a5b6c7d8e9f0
Revises: c0a1b2c3d4e5
Create Date: 2026-11-30 10:00:00

The search objects are kept by triggers (see tracker/search_index.py, whose SQL this is a
copy of as of this revision) and filled here from the cards there are.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "a5b6c7d8e9f0"
down_revision = "c0a1b2c3d4e5"
branch_labels = None
depends_on = None

POSTGRESQL = (
    """CREATE TABLE IF NOT EXISTS card_search (
        card_id integer PRIMARY KEY REFERENCES card (id) ON DELETE CASCADE,
        doc tsvector NOT NULL
    )""",
    """CREATE INDEX IF NOT EXISTS ix_card_search_doc ON card_search USING gin (doc)""",
    """CREATE OR REPLACE FUNCTION card_search_refresh(ids integer[]) RETURNS void LANGUAGE sql AS $$
        INSERT INTO card_search (card_id, doc)
        SELECT c.id, setweight(to_tsvector('simple', regexp_replace(coalesce(c.ref, ''), '[^[:alnum:]]+', ' ', 'g')), 'A') || setweight(to_tsvector('simple', regexp_replace(coalesce(c.title, ''), '[^[:alnum:]]+', ' ', 'g')), 'B') || setweight(to_tsvector('simple', regexp_replace(coalesce(concat_ws(' ', u.name, u.username, c.severity, c.component, c.requester), ''), '[^[:alnum:]]+', ' ', 'g')), 'C') || setweight(to_tsvector('simple', regexp_replace(coalesce(c.description || ' ' || coalesce((SELECT string_agg(m.body, ' ') FROM comment m WHERE m.card_id = c.id), ''), ''), '[^[:alnum:]]+', ' ', 'g')), 'D')
        FROM card c LEFT JOIN user_account u ON u.id = c.assignee_id
        WHERE c.id = ANY(ids)
        ON CONFLICT (card_id) DO UPDATE SET doc = EXCLUDED.doc
    $$""",
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
    """CREATE OR REPLACE TRIGGER card_search_card_updated AFTER UPDATE OF ref, title, description, assignee_id, severity, component, requester
        ON card FOR EACH ROW WHEN (OLD.ref IS DISTINCT FROM NEW.ref OR OLD.title IS DISTINCT FROM NEW.title OR OLD.description IS DISTINCT FROM NEW.description OR OLD.assignee_id IS DISTINCT FROM NEW.assignee_id OR OLD.severity IS DISTINCT FROM NEW.severity OR OLD.component IS DISTINCT FROM NEW.component OR OLD.requester IS DISTINCT FROM NEW.requester) EXECUTE FUNCTION card_search_on_card()""",
    """CREATE OR REPLACE TRIGGER card_search_comment_changed AFTER INSERT OR UPDATE OR DELETE ON comment
        FOR EACH ROW EXECUTE FUNCTION card_search_on_comment()""",
    """CREATE OR REPLACE TRIGGER card_search_person_renamed AFTER UPDATE OF name, username
        ON user_account FOR EACH ROW
        WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.username IS DISTINCT FROM NEW.username)
        EXECUTE FUNCTION card_search_on_person()""",
    """SELECT card_search_refresh(ARRAY(SELECT id FROM card))""",
)
POSTGRESQL_DROP = (
    """DROP TRIGGER IF EXISTS card_search_person_renamed ON user_account""",
    """DROP TRIGGER IF EXISTS card_search_comment_changed ON comment""",
    """DROP TRIGGER IF EXISTS card_search_card_updated ON card""",
    """DROP TRIGGER IF EXISTS card_search_card_inserted ON card""",
    """DROP FUNCTION IF EXISTS card_search_on_person()""",
    """DROP FUNCTION IF EXISTS card_search_on_comment()""",
    """DROP FUNCTION IF EXISTS card_search_on_card()""",
    """DROP TABLE IF EXISTS card_search""",
    """DROP FUNCTION IF EXISTS card_search_refresh(integer[])""",
)
SQLITE = (
    """CREATE VIRTUAL TABLE IF NOT EXISTS card_fts USING fts5(
        ref, title, people, body, tokenize = 'unicode61', prefix = '2 3'
    )""",
    """CREATE TRIGGER IF NOT EXISTS card_fts_card_inserted AFTER INSERT ON card BEGIN
        INSERT INTO card_fts (rowid, ref, title, people, body) SELECT c.id, c.ref, c.title,
        coalesce(u.name, '') || ' ' || coalesce(u.username, '') || ' '
            || coalesce(c.severity, '') || ' ' || c.component || ' ' || c.requester,
        c.description || ' ' || coalesce(
            (SELECT group_concat(m.body, ' ') FROM comment m WHERE m.card_id = c.id), '')
    FROM card c LEFT JOIN user_account u ON u.id = c.assignee_id WHERE c.id = NEW.id;
    END""",
    """CREATE TRIGGER IF NOT EXISTS card_fts_card_updated AFTER UPDATE OF ref, title, description, assignee_id, severity, component, requester ON card
        WHEN OLD.ref IS NOT NEW.ref OR OLD.title IS NOT NEW.title OR OLD.description IS NOT NEW.description OR OLD.assignee_id IS NOT NEW.assignee_id OR OLD.severity IS NOT NEW.severity OR OLD.component IS NOT NEW.component OR OLD.requester IS NOT NEW.requester BEGIN DELETE FROM card_fts WHERE rowid = NEW.id; INSERT INTO card_fts (rowid, ref, title, people, body) SELECT c.id, c.ref, c.title,
        coalesce(u.name, '') || ' ' || coalesce(u.username, '') || ' '
            || coalesce(c.severity, '') || ' ' || c.component || ' ' || c.requester,
        c.description || ' ' || coalesce(
            (SELECT group_concat(m.body, ' ') FROM comment m WHERE m.card_id = c.id), '')
    FROM card c LEFT JOIN user_account u ON u.id = c.assignee_id WHERE c.id = NEW.id; END""",
    """CREATE TRIGGER IF NOT EXISTS card_fts_card_deleted AFTER DELETE ON card BEGIN
        DELETE FROM card_fts WHERE rowid = OLD.id;
    END""",
    """CREATE TRIGGER IF NOT EXISTS card_fts_comment_inserted AFTER INSERT ON comment BEGIN
        DELETE FROM card_fts WHERE rowid = NEW.card_id; INSERT INTO card_fts (rowid, ref, title, people, body) SELECT c.id, c.ref, c.title,
        coalesce(u.name, '') || ' ' || coalesce(u.username, '') || ' '
            || coalesce(c.severity, '') || ' ' || c.component || ' ' || c.requester,
        c.description || ' ' || coalesce(
            (SELECT group_concat(m.body, ' ') FROM comment m WHERE m.card_id = c.id), '')
    FROM card c LEFT JOIN user_account u ON u.id = c.assignee_id WHERE c.id = NEW.card_id; END""",
    """CREATE TRIGGER IF NOT EXISTS card_fts_comment_updated AFTER UPDATE ON comment BEGIN
        DELETE FROM card_fts WHERE rowid = OLD.card_id; INSERT INTO card_fts (rowid, ref, title, people, body) SELECT c.id, c.ref, c.title,
        coalesce(u.name, '') || ' ' || coalesce(u.username, '') || ' '
            || coalesce(c.severity, '') || ' ' || c.component || ' ' || c.requester,
        c.description || ' ' || coalesce(
            (SELECT group_concat(m.body, ' ') FROM comment m WHERE m.card_id = c.id), '')
    FROM card c LEFT JOIN user_account u ON u.id = c.assignee_id WHERE c.id = OLD.card_id; DELETE FROM card_fts WHERE rowid = NEW.card_id; INSERT INTO card_fts (rowid, ref, title, people, body) SELECT c.id, c.ref, c.title,
        coalesce(u.name, '') || ' ' || coalesce(u.username, '') || ' '
            || coalesce(c.severity, '') || ' ' || c.component || ' ' || c.requester,
        c.description || ' ' || coalesce(
            (SELECT group_concat(m.body, ' ') FROM comment m WHERE m.card_id = c.id), '')
    FROM card c LEFT JOIN user_account u ON u.id = c.assignee_id WHERE c.id = NEW.card_id; END""",
    """CREATE TRIGGER IF NOT EXISTS card_fts_comment_deleted AFTER DELETE ON comment BEGIN
        DELETE FROM card_fts WHERE rowid = OLD.card_id; INSERT INTO card_fts (rowid, ref, title, people, body) SELECT c.id, c.ref, c.title,
        coalesce(u.name, '') || ' ' || coalesce(u.username, '') || ' '
            || coalesce(c.severity, '') || ' ' || c.component || ' ' || c.requester,
        c.description || ' ' || coalesce(
            (SELECT group_concat(m.body, ' ') FROM comment m WHERE m.card_id = c.id), '')
    FROM card c LEFT JOIN user_account u ON u.id = c.assignee_id WHERE c.id = OLD.card_id; END""",
    """CREATE TRIGGER IF NOT EXISTS card_fts_person_renamed AFTER UPDATE OF name, username ON user_account
        WHEN OLD.name IS NOT NEW.name OR OLD.username IS NOT NEW.username BEGIN
        DELETE FROM card_fts WHERE rowid IN (SELECT id FROM card WHERE assignee_id = NEW.id);
        INSERT INTO card_fts (rowid, ref, title, people, body) SELECT c.id, c.ref, c.title,
        coalesce(u.name, '') || ' ' || coalesce(u.username, '') || ' '
            || coalesce(c.severity, '') || ' ' || c.component || ' ' || c.requester,
        c.description || ' ' || coalesce(
            (SELECT group_concat(m.body, ' ') FROM comment m WHERE m.card_id = c.id), '')
    FROM card c LEFT JOIN user_account u ON u.id = c.assignee_id WHERE c.assignee_id = NEW.id;
    END""",
    """INSERT INTO card_fts (rowid, ref, title, people, body) SELECT c.id, c.ref, c.title,
        coalesce(u.name, '') || ' ' || coalesce(u.username, '') || ' '
            || coalesce(c.severity, '') || ' ' || c.component || ' ' || c.requester,
        c.description || ' ' || coalesce(
            (SELECT group_concat(m.body, ' ') FROM comment m WHERE m.card_id = c.id), '')
    FROM card c LEFT JOIN user_account u ON u.id = c.assignee_id WHERE 1 = 1""",
)
SQLITE_DROP = (
    """DROP TRIGGER IF EXISTS card_fts_person_renamed""",
    """DROP TRIGGER IF EXISTS card_fts_comment_deleted""",
    """DROP TRIGGER IF EXISTS card_fts_comment_updated""",
    """DROP TRIGGER IF EXISTS card_fts_comment_inserted""",
    """DROP TRIGGER IF EXISTS card_fts_card_deleted""",
    """DROP TRIGGER IF EXISTS card_fts_card_updated""",
    """DROP TRIGGER IF EXISTS card_fts_card_inserted""",
    """DROP TABLE IF EXISTS card_fts""",
)


def _run(statements):
    for statement in statements:
        op.execute(statement)


def upgrade():
    op.create_table(
        "label",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=30), nullable=False),
        sa.Column("colour", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["board_id"], ["board.id"], name=op.f("fk_label_board_id_board")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_label")),
        sa.UniqueConstraint("board_id", "name", name="uq_label_board_name"),
    )
    with op.batch_alter_table("label", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_label_board_id"), ["board_id"], unique=False)
    op.create_table(
        "card_label",
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("label_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["card_id"], ["card.id"], name=op.f("fk_card_label_card_id_card")),
        sa.ForeignKeyConstraint(
            ["label_id"],
            ["label.id"],
            name=op.f("fk_card_label_label_id_label"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("card_id", "label_id", name=op.f("pk_card_label")),
    )
    with op.batch_alter_table("card_label", schema=None) as batch_op:
        batch_op.create_index("ix_card_label_label", ["label_id"], unique=False)
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        _run(POSTGRESQL)
    elif dialect == "sqlite":
        _run(SQLITE)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        _run(POSTGRESQL_DROP)
    elif dialect == "sqlite":
        _run(SQLITE_DROP)
    with op.batch_alter_table("card_label", schema=None) as batch_op:
        batch_op.drop_index("ix_card_label_label")
    op.drop_table("card_label")
    with op.batch_alter_table("label", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_label_board_id"))
    op.drop_table("label")
