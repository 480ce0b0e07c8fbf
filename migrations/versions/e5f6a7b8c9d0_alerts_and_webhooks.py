"""alerts and webhooks: boards' alert tokens and severities, the cards alerts opened (by
fingerprint), outgoing webhooks and their deliveries (the outbox and its log), and each
board's count of live webhooks

Revision ID: e5f6a7b8c9d0
Revises: a5b6c7d8e9f0
Create Date: 2026-11-30 12:36:37

"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "e5f6a7b8c9d0"
down_revision = "a5b6c7d8e9f0"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("board", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("webhook_count", sa.Integer(), server_default="0", nullable=False)
        )
    op.create_table(
        "alert_setting",
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("severity_map", sa.JSON(), nullable=False),
        sa.Column("default_severity", sa.String(length=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["board_id"], ["board.id"], name=op.f("fk_alert_setting_board_id_board")
        ),
        sa.PrimaryKeyConstraint("board_id", name=op.f("pk_alert_setting")),
    )
    op.create_table(
        "alert_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("hint", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["board_id"], ["board.id"], name=op.f("fk_alert_token_board_id_board")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_alert_token_created_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_alert_token_token_hash")),
    )
    with op.batch_alter_table("alert_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_token_board_id"), ["board_id"], unique=False)

    op.create_table(
        "webhook",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("removed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["board_id"], ["board.id"], name=op.f("fk_webhook_board_id_board")),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_webhook_created_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook")),
    )
    with op.batch_alter_table("webhook", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webhook_board_id"), ["board_id"], unique=False)

    op.create_table(
        "webhook_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("webhook_id", sa.Integer(), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("given_up_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["board_id"], ["board.id"], name=op.f("fk_webhook_delivery_board_id_board")
        ),
        sa.ForeignKeyConstraint(
            ["webhook_id"], ["webhook.id"], name=op.f("fk_webhook_delivery_webhook_id_webhook")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_delivery")),
        sa.UniqueConstraint("uid", name=op.f("uq_webhook_delivery_uid")),
    )
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.create_index(
            "ix_webhook_delivery_due", ["status", "next_attempt_at"], unique=False
        )
        batch_op.create_index("ix_webhook_delivery_hook", ["webhook_id", "id"], unique=False)

    op.create_table(
        "alert_card",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["board_id"], ["board.id"], name=op.f("fk_alert_card_board_id_board")
        ),
        sa.ForeignKeyConstraint(["card_id"], ["card.id"], name=op.f("fk_alert_card_card_id_card")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_card")),
        sa.UniqueConstraint("card_id", name=op.f("uq_alert_card_card_id")),
    )
    with op.batch_alter_table("alert_card", schema=None) as batch_op:
        batch_op.create_index(
            "ix_alert_card_board_fingerprint", ["board_id", "fingerprint"], unique=False
        )


def downgrade():
    with op.batch_alter_table("alert_card", schema=None) as batch_op:
        batch_op.drop_index("ix_alert_card_board_fingerprint")

    op.drop_table("alert_card")
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_delivery_hook")
        batch_op.drop_index("ix_webhook_delivery_due")

    op.drop_table("webhook_delivery")
    with op.batch_alter_table("webhook", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_board_id"))

    op.drop_table("webhook")
    with op.batch_alter_table("alert_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_token_board_id"))

    op.drop_table("alert_token")
    op.drop_table("alert_setting")
    with op.batch_alter_table("board", schema=None) as batch_op:
        batch_op.drop_column("webhook_count")
