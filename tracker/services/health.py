"""Whether the app can serve: the readiness check a load balancer asks before sending
traffic (tracker.web.ops.readyz)."""

from __future__ import annotations

from sqlalchemy import text

from tracker import database
from tracker.extensions import db


def database_answers() -> bool:
    """Whether the database answers a trivial query now. A failed try is rolled back, so
    the session is clean for whatever comes next."""
    try:
        db.session.execute(text("SELECT 1"))
    except database.AWAY:
        db.session.rollback()
        return False
    return True
