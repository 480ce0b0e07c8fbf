"""Who watches a card (DESIGN.md "Next": conversation and notifications belong to every
card). Watchers hear of the card's comments and moves (tracker.services.notifications)."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import Insert, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tracker import clock
from tracker.domain import conversation
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
    _insert(db.session(), card_id, user_ids, clock.now())


@functools.cache
def _insert_statement(dialect: str) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING of one watcher row, built once per dialect: a pull
    and every card creation run it, and building a multi-row VALUES statement each time
    cost about a quarter of a millisecond of bench/board.py's `pull_ms`."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(CardWatcher).on_conflict_do_nothing()


def _insert(session: Session, card_id: int, user_ids: Any, since: datetime) -> None:
    """One INSERT of the watchers not there yet (ON CONFLICT DO NOTHING on both databases),
    on the session's connection: nothing of the ORM is flushed or read."""
    wanted = sorted({uid for uid in user_ids if uid is not None})
    if not wanted:
        return
    connection = session.connection()
    rows = [{"card_id": card_id, "user_id": uid, "since": since} for uid in wanted]
    connection.execute(
        _insert_statement(connection.dialect.name), rows[0] if len(rows) == 1 else rows
    )


def watch_from_event(session: Session, _event_id: int, values: dict[str, Any]) -> None:
    """The store's "history event written" listener: the people an event makes watchers
    of its card (domain.conversation.new_watchers) start watching it, in the event's own
    transaction. One INSERT, and only for events that make any."""
    found = conversation.new_watchers(values["kind"], values["actor_id"], values["changes"])
    _insert(session, values["card_id"], found, values["at"])


def watcher_count(card_id: int) -> int:
    """How many people watch the card."""
    return len(watcher_ids(card_id))


def remove_watcher(card_id: int, user_id: int) -> None:
    """Stop the person watching the card, in the caller's transaction (no commit)."""
    db.session.execute(
        delete(CardWatcher).where(CardWatcher.card_id == card_id, CardWatcher.user_id == user_id)
    )
