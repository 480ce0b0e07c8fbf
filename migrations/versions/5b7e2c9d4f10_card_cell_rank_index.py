"""a cell's cards in rank order: ix_card_cell_rank (column, lane, rank) replaces
ix_card_column_rank (column, rank)

A pull's first free card of a lane, a card's neighbour above it, and a cell's bottom rank
each read one cell: with the lane in the index they walk only that cell's entries, not
every lane's cards of the column (bench/serve.py: serve_pull_2000_over_200).

Revision ID: 5b7e2c9d4f10
Revises: 3c5e1a7b9d42
Create Date: 2026-11-30 08:15:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = "5b7e2c9d4f10"
down_revision = "3c5e1a7b9d42"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("card", schema=None) as batch_op:
        batch_op.create_index("ix_card_cell_rank", ["column_id", "lane_id", "rank"], unique=False)
        batch_op.drop_index("ix_card_column_rank")


def downgrade():
    with op.batch_alter_table("card", schema=None) as batch_op:
        batch_op.create_index("ix_card_column_rank", ["column_id", "rank"], unique=False)
        batch_op.drop_index("ix_card_cell_rank")
