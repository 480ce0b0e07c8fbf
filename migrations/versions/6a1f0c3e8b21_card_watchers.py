"""card watchers: who hears of a card's comments and moves

Revision ID: 6a1f0c3e8b21
Revises: 5b7e2c9d4f10
Create Date: 2026-11-30 09:45:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "6a1f0c3e8b21"
down_revision = "5b7e2c9d4f10"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "card_watcher",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("since", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["card_id"], ["card.id"], name=op.f("fk_card_watcher_card_id_card")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_card_watcher_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card_watcher")),
        sa.UniqueConstraint("card_id", "user_id", name="uq_card_watcher_card_user"),
    )
    with op.batch_alter_table("card_watcher", schema=None) as batch_op:
        batch_op.create_index("ix_card_watcher_user", ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("card_watcher", schema=None) as batch_op:
        batch_op.drop_index("ix_card_watcher_user")
    op.drop_table("card_watcher")
