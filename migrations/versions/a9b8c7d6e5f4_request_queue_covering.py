"""the support desk's queue index covers what marks a request (filed_by_id, requester)

Revision ID: a9b8c7d6e5f4
Revises: c2d3e4f5a6b7
Create Date: 2026-11-30 16:00:00

Without ANALYZE's statistics SQLite counted a board's requests through the board's status
index and read every card from the table (390 ms for 120,000 cards); with the two
columns the partial index's own condition reads, the index answers the count alone and
SQLite's planner takes it (4 ms; bench/intake.py: queue_ms).
"""
import sqlalchemy as sa
from alembic import op

# Support requests, as tracker.models.REQUEST_SQL spells them (a copy: this revision's).
REQUEST_SQL = "filed_by_id IS NOT NULL OR requester != ''"

# revision identifiers, used by Alembic.
revision = "a9b8c7d6e5f4"
down_revision = "c2d3e4f5a6b7"
branch_labels = None
depends_on = None

BEFORE = ["board_id", "created_at", "severity", "component", "status", "assignee_id"]


def _index(columns):
    op.create_index(
        "ix_card_request_queue",
        "card",
        columns,
        sqlite_where=sa.text(REQUEST_SQL),
        postgresql_where=sa.text(REQUEST_SQL),
    )


def upgrade():
    op.drop_index("ix_card_request_queue", table_name="card")
    _index([*BEFORE, "filed_by_id", "requester"])


def downgrade():
    op.drop_index("ix_card_request_queue", table_name="card")
    _index(BEFORE)
