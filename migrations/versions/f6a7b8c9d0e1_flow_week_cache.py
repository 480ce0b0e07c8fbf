"""stored flow figures of finished weeks, the rewrites that spoil them, and a card
index the weeks are computed with

Revision ID: f6a7b8c9d0e1
Revises: d4e5f6a7b8c9
Create Date: 2026-11-30 13:10:00

"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "f6a7b8c9d0e1"
down_revision = "d4e5f6a7b8c9"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "flow_week_cache",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("part", sa.String(length=16), nullable=False),
        sa.Column("week_on", sa.Date(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=False),
        sa.Column("basis", sa.String(length=64), nullable=False),
        sa.Column("cfd", sa.JSON(), nullable=True),
        sa.Column("finished", sa.JSON(), nullable=True),
        sa.Column("blocks", sa.JSON(), nullable=True),
        sa.Column("sources", sa.JSON(), nullable=True),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["board_id"], ["board.id"], name=op.f("fk_flow_week_cache_board_id_board")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flow_week_cache")),
        sa.UniqueConstraint("board_id", "part", "week_on", "basis", name="uq_flow_week_cache_week"),
    )
    op.create_table(
        "flow_rewrite",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=True),
        sa.Column("since", sa.DateTime(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["board_id"], ["board.id"], name=op.f("fk_flow_rewrite_board_id_board")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flow_rewrite")),
    )
    with op.batch_alter_table("flow_rewrite", schema=None) as batch_op:
        batch_op.create_index("ix_flow_rewrite_board_at", ["board_id", "at"], unique=False)

    with op.batch_alter_table("card", schema=None) as batch_op:
        batch_op.create_index(
            "ix_card_board_status_done_place",
            ["board_id", "status", "done_at", "lane_id", "column_id"],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table("card", schema=None) as batch_op:
        batch_op.drop_index("ix_card_board_status_done_place")
    with op.batch_alter_table("flow_rewrite", schema=None) as batch_op:
        batch_op.drop_index("ix_flow_rewrite_board_at")
    op.drop_table("flow_rewrite")
    op.drop_table("flow_week_cache")
