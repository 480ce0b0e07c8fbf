"""notifications: one per person told of a card event, the unread count and mail choices on
each person, and a row per daily digest sent

Revision ID: e1f2a3b4c5d6
Revises: d3a4b5c6e7f8
Create Date: 2026-11-30 09:39:45

"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "e1f2a3b4c5d6"
down_revision = "d3a4b5c6e7f8"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "digest_sent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("notifications", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_digest_sent_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_sent")),
        sa.UniqueConstraint("user_id", "day", name="uq_digest_sent_user_day"),
    )
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["board_id"], ["board.id"], name=op.f("fk_notification_board_id_board")
        ),
        sa.ForeignKeyConstraint(
            ["card_id"], ["card.id"], name=op.f("fk_notification_card_id_card")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["card_event.id"], name=op.f("fk_notification_event_id_card_event")
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["user_account.id"],
            name=op.f("fk_notification_recipient_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
        sa.UniqueConstraint("event_id", "recipient_id", name="uq_notification_event_recipient"),
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index("ix_notification_created", ["created_at"], unique=False)
        batch_op.create_index("ix_notification_recipient_id", ["recipient_id", "id"], unique=False)

    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("unread_notifications", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("notice_mail", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("notice_mail")
        batch_op.drop_column("unread_notifications")

    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_recipient_id")
        batch_op.drop_index("ix_notification_created")

    op.drop_table("notification")
    op.drop_table("digest_sent")
