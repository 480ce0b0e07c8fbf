"""incidents: a card's drill flag, break-glass access grants, reviews and follow-ups

Revision ID: b1c2d3e4f5a6
Revises: e5f6a7b8c9d0
Create Date: 2026-11-30 13:00:00

An incident's stages, its log and its mitigation are card events (no table of their own).
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "b1c2d3e4f5a6"
down_revision = "e5f6a7b8c9d0"
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN (no batch copy of the card table: the search triggers name it).
    op.add_column(
        "card", sa.Column("drill", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    op.create_table(
        "break_glass_grant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("holder_id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("why", sa.String(length=500), nullable=False),
        sa.Column("buddy_id", sa.Integer(), nullable=True),
        sa.Column("buddy_name", sa.String(length=120), nullable=False),
        sa.Column("granted_at", sa.DateTime(), nullable=False),
        sa.Column("expected_end", sa.DateTime(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("ended_by_id", sa.Integer(), nullable=True),
        sa.Column("left_open_reason", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["board_id"], ["board.id"], name=op.f("fk_break_glass_grant_board_id_board")
        ),
        sa.ForeignKeyConstraint(
            ["card_id"], ["card.id"], name=op.f("fk_break_glass_grant_card_id_card")
        ),
        sa.ForeignKeyConstraint(
            ["holder_id"],
            ["user_account.id"],
            name=op.f("fk_break_glass_grant_holder_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["buddy_id"],
            ["user_account.id"],
            name=op.f("fk_break_glass_grant_buddy_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["user_account.id"],
            name=op.f("fk_break_glass_grant_recorded_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["ended_by_id"],
            ["user_account.id"],
            name=op.f("fk_break_glass_grant_ended_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_break_glass_grant")),
    )
    with op.batch_alter_table("break_glass_grant", schema=None) as batch_op:
        batch_op.create_index("ix_break_glass_grant_card", ["card_id"], unique=False)
        batch_op.create_index(
            "ix_break_glass_grant_board_granted", ["board_id", "granted_at"], unique=False
        )

    op.create_table(
        "incident_review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("what_happened", sa.Text(), nullable=False),
        sa.Column("impact", sa.Text(), nullable=False),
        sa.Column("contributing_factors", sa.Text(), nullable=False),
        sa.Column("went_well", sa.Text(), nullable=False),
        sa.Column("to_change", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("written_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["board_id"], ["board.id"], name=op.f("fk_incident_review_board_id_board")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["card.id"], name=op.f("fk_incident_review_incident_id_card")
        ),
        sa.ForeignKeyConstraint(
            ["card_id"], ["card.id"], name=op.f("fk_incident_review_card_id_card")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_incident_review_created_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_review")),
        sa.UniqueConstraint("incident_id", name="uq_incident_review_incident"),
    )
    with op.batch_alter_table("incident_review", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_incident_review_board_id"), ["board_id"], unique=False
        )
    op.create_table(
        "incident_follow_up",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["board_id"], ["board.id"], name=op.f("fk_incident_follow_up_board_id_board")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["card.id"], name=op.f("fk_incident_follow_up_incident_id_card")
        ),
        sa.ForeignKeyConstraint(
            ["card_id"], ["card.id"], name=op.f("fk_incident_follow_up_card_id_card")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_follow_up")),
        sa.UniqueConstraint("card_id", name="uq_incident_follow_up_card"),
    )
    with op.batch_alter_table("incident_follow_up", schema=None) as batch_op:
        batch_op.create_index("ix_incident_follow_up_incident", ["incident_id"], unique=False)


def downgrade():
    with op.batch_alter_table("incident_follow_up", schema=None) as batch_op:
        batch_op.drop_index("ix_incident_follow_up_incident")
    op.drop_table("incident_follow_up")
    with op.batch_alter_table("incident_review", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_review_board_id"))
    op.drop_table("incident_review")
    with op.batch_alter_table("break_glass_grant", schema=None) as batch_op:
        batch_op.drop_index("ix_break_glass_grant_board_granted")
        batch_op.drop_index("ix_break_glass_grant_card")
    op.drop_table("break_glass_grant")
    op.drop_column("card", "drill")
