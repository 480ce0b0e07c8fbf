"""outbox keeps the status link's seed, not the link

Revision ID: 3c5e1a7b9d42
Revises: 7d8c0c22ad48
Create Date: 2026-11-30 00:45:00.000000

"""

import re

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "3c5e1a7b9d42"
down_revision = "7d8c0c22ad48"
branch_labels = None
depends_on = None

# A status link written into a stored body by earlier versions.
_LINK = re.compile(r"/status/[A-Za-z0-9_-]{32,100}")


def upgrade():
    with op.batch_alter_table("outbound_mail", schema=None) as batch_op:
        batch_op.add_column(sa.Column("link_seed", sa.String(length=64), nullable=True))
    # Mail already sent needs its link no more: take the token out of its stored body.
    # (Mail still waiting keeps it, or the requester would get no working link.)
    bind = op.get_bind()
    mail = sa.table(
        "outbound_mail",
        sa.column("id"),
        sa.column("kind"),
        sa.column("status"),
        sa.column("body"),
    )
    rows = bind.execute(
        sa.select(mail.c.id, mail.c.body).where(mail.c.kind == "filed", mail.c.status == "sent")
    ).all()
    for mail_id, body in rows:
        cleaned = _LINK.sub("/status/[not kept]", body or "")
        if cleaned != body:
            bind.execute(sa.update(mail).where(mail.c.id == mail_id).values(body=cleaned))


def downgrade():
    with op.batch_alter_table("outbound_mail", schema=None) as batch_op:
        batch_op.drop_column("link_seed")
