"""`flask seed-demo`'s entry: whether the database holds the demo, and the seed itself."""

from __future__ import annotations

from sqlalchemy import select

from tracker import clock
from tracker.demo.replay import Replay
from tracker.demo.scene import Scene
from tracker.demo.script import WEEKS
from tracker.demo.world import World
from tracker.extensions import db
from tracker.models import AuditEvent, User
from tracker.services import audit, notifications

ABSENT, COMPLETE, PARTIAL = "absent", "complete", "partial"


def seed_state() -> str:
    """Whether this database holds the demo: ABSENT, COMPLETE, or PARTIAL (a seed-demo that
    stopped halfway: it began, marked in the audit log, and never marked its end).

    A database seeded before the markers existed has the demo people and no marker: that
    seed ran to its end (it was the only way to get the people), so it counts as complete.
    """
    marks = set(
        db.session.execute(
            select(AuditEvent.action).where(
                AuditEvent.action.in_(("demo.seed_started", "demo.seeded"))
            )
        ).scalars()
    )
    if "demo.seeded" in marks:
        return COMPLETE
    if "demo.seed_started" in marks:
        return PARTIAL
    people = db.session.execute(select(User.id).where(User.username == "admin")).first()
    return COMPLETE if people else ABSENT


def seed(weeks: int = WEEKS) -> str:
    """Create the demo people and board with `weeks` of history up to now; returns a summary.

    The seed commits step by step (each step is a use case); it marks its start and its
    end in the audit log, so that a seed that stopped halfway is told apart from a whole one
    (seed_state)."""
    audit.record("demo.seed_started", actor_id=None)
    db.session.commit()
    world = World(clock.now(), weeks)
    world.create_people_and_board()
    world.plan_sprints()
    world.start_rotation()
    Replay(world).run()
    # The weeks of history were read long ago: only what the final scene brings is new.
    for user in world.users.values():
        with world.at(world.scene_start):
            notifications.mark_all_read(user.id)
    Scene(world).play()
    audit.record("demo.seeded", actor_id=None, board_id=world.board_id)
    db.session.commit()
    return world.summary()
