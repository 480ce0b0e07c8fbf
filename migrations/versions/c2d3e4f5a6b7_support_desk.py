"""support desk: response targets, canned replies, waits for the requester, first replies,
mails read from the desk's mailbox

Revision ID: c2d3e4f5a6b7
Revises: f6a7b8c9d0e1
Create Date: 2026-11-30 12:40:00

Columns are added without a batch (a plain ALTER TABLE ADD COLUMN on SQLite too), so the
card and comment tables keep their full-text triggers. A request's first reply is filled
from the replies there are.
"""
import sqlalchemy as sa
from alembic import op



# Support requests, as tracker.models.REQUEST_SQL spells them (a copy: this revision's).
REQUEST_SQL = "filed_by_id IS NOT NULL OR requester != ''"

# revision identifiers, used by Alembic.
revision = "c2d3e4f5a6b7"
down_revision = "f6a7b8c9d0e1"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "response_target",
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("severity", sa.String(length=2), nullable=False),
        sa.Column("first_response_minutes", sa.Integer(), nullable=False),
        sa.Column("resolution_minutes", sa.Integer(), nullable=False),
        sa.Column("working_hours", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["board_id"], ["board.id"], name=op.f("fk_response_target_board_id_board")
        ),
        sa.PrimaryKeyConstraint("board_id", "severity", name=op.f("pk_response_target")),
    )
    op.create_table(
        "canned_reply",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=60), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["board_id"], ["board.id"], name=op.f("fk_canned_reply_board_id_board")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_canned_reply")),
        sa.UniqueConstraint("board_id", "title", name="uq_canned_reply_board_title"),
    )
    op.create_index(op.f("ix_canned_reply_board_id"), "canned_reply", ["board_id"])
    op.create_table(
        "request_wait",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("started_by_id", sa.Integer(), nullable=True),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["board_id"], ["board.id"], name=op.f("fk_request_wait_board_id_board")
        ),
        sa.ForeignKeyConstraint(["card_id"], ["card.id"], name=op.f("fk_request_wait_card_id_card")),
        sa.ForeignKeyConstraint(
            ["started_by_id"],
            ["user_account.id"],
            name=op.f("fk_request_wait_started_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_wait")),
    )
    op.create_index("ix_request_wait_card", "request_wait", ["card_id", "started_at"])
    op.create_table(
        "inbound_mail",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["card_id"], ["card.id"], name=op.f("fk_inbound_mail_card_id_card")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_mail")),
        sa.UniqueConstraint("message_id", name=op.f("uq_inbound_mail_message_id")),
    )
    op.add_column("card", sa.Column("first_reply_at", sa.DateTime(), nullable=True))
    op.create_index(
        "ix_card_request_queue",
        "card",
        ["board_id", "created_at", "severity", "component", "status", "assignee_id"],
        sqlite_where=sa.text(REQUEST_SQL),
        postgresql_where=sa.text(REQUEST_SQL),
    )
    op.add_column(
        "comment",
        sa.Column("from_requester", sa.Boolean(), server_default="0", nullable=False),
    )
    op.execute(
        "UPDATE card SET first_reply_at = (SELECT min(m.at) FROM comment m "
        "WHERE m.card_id = card.id AND m.visibility = 'reply')"
    )


def downgrade():
    op.drop_column("comment", "from_requester")
    op.drop_index("ix_card_request_queue", table_name="card")
    op.drop_column("card", "first_reply_at")
    op.drop_table("inbound_mail")
    op.drop_index("ix_request_wait_card", table_name="request_wait")
    op.drop_table("request_wait")
    op.drop_index(op.f("ix_canned_reply_board_id"), table_name="canned_reply")
    op.drop_table("canned_reply")
    op.drop_table("response_target")
