"""Who watches a card (DESIGN.md "Next": conversation and notifications belong to every
card). Watchers hear of the card's comments and moves (tracker.services.notifications)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from tracker import clock
from tracker.extensions import db
from tracker.models import CardWatcher


def watcher_ids(card_id: int) -> set[int]:
    """The ids of the people who watch the card."""
    query = select(CardWatcher.user_id).where(CardWatcher.card_id == card_id)
    return set(db.session.execute(query).scalars())


def is_watching(card_id: int, user_id: int) -> bool:
    """Whether the person watches the card."""
    return user_id in watcher_ids(card_id)


def add_watchers(card_id: int, user_ids: set[int] | list[int]) -> None:
    """Make each person a watcher of the card, in the caller's transaction (no commit);
    someone already watching (or added by a concurrent request) stays as they were."""
    wanted = sorted({uid for uid in user_ids if uid is not None})
    if not wanted:
        return
    insert = (
        postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    )
    now = clock.now()
    rows = [{"card_id": card_id, "user_id": uid, "since": now} for uid in wanted]
    db.session.execute(insert(CardWatcher).values(rows).on_conflict_do_nothing())


def remove_watcher(card_id: int, user_id: int) -> None:
    """Stop the person watching the card, in the caller's transaction (no commit)."""
    db.session.execute(
        delete(CardWatcher).where(CardWatcher.card_id == card_id, CardWatcher.user_id == user_id)
    )
