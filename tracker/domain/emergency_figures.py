"""The emergency figures: when each expedite card opened, was pulled and was done, and per
period how many opened and how long they waited.

The rule (emergency): an emergency *opens* when the card is first escalated into the
Expedite lane, or when it is created, for a card filed there; it is *pulled* at its first
entry into an active column after it opened (at once, when it was escalated while someone
was already on it); it is *done* at its done time, while it is done. An emergency counts
in the period it opened in. Since it never opens before it was created, the emergencies of
a span are among the expedite cards created in the span and the cards escalated in it:
nothing older needs reading.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tracker.domain.flow import quantile
from tracker.domain.periods import Period, period_index
from tracker.domain.vocabulary import CardStatus, EventKind


@dataclass(frozen=True)
class Step:
    """One event of an expedite card's history, oldest first: its kind, when, and the
    column it put the card in (None for an event that moved it nowhere)."""

    kind: str
    at: datetime
    to_column: int | None


@dataclass(frozen=True)
class Emergency:
    """An expedite card: when it entered the lane, was first worked on, and was done."""

    card_id: int
    opened_at: datetime
    pulled_at: datetime | None
    done_at: datetime | None


def emergency(
    card_id: int,
    created_at: datetime,
    status: str,
    done_at: datetime | None,
    history: Sequence[Step],
    active_columns: Collection[int],
) -> Emergency:
    """An expedite card's emergency figures from its history (see the module docstring)."""
    escalations = [step.at for step in history if step.kind == EventKind.ESCALATED]
    opened = escalations[0] if escalations else created_at
    column = None
    pulled = None
    for step in history:
        if step.at >= opened and column in active_columns and step.kind == EventKind.ESCALATED:
            pulled = step.at  # escalated while someone was on it
            break
        if step.to_column is not None:
            column = step.to_column
            if step.at >= opened and column in active_columns:
                pulled = step.at
                break
    return Emergency(card_id, opened, pulled, done_at if status == CardStatus.DONE else None)


@dataclass(frozen=True)
class ExpediteRow:
    period: Period
    count: int
    pulled_median: timedelta | None
    pulled_p85: timedelta | None
    done_median: timedelta | None
    done_p85: timedelta | None


def percentile(values: Sequence[timedelta], q: float) -> timedelta | None:
    """The q-th quantile (0..1) by linear interpolation between closest ranks."""
    return quantile(values, q)


def expedite_summary(
    periods: Sequence[Period], tz: ZoneInfo, emergencies: Iterable[Emergency]
) -> list[ExpediteRow]:
    """Per period, the emergencies opened in it and their times until pulled and until done
    (wall-clock time: emergencies do not wait for office hours)."""
    bounds = [p.bounds(tz) for p in periods]
    starts = [b[0] for b in bounds]
    pulled: list[list[timedelta]] = [[] for _ in periods]
    done: list[list[timedelta]] = [[] for _ in periods]
    counts = [0] * len(periods)
    for card in emergencies:
        i = period_index(card.opened_at, starts, bounds)
        if i is None:
            continue
        counts[i] += 1
        if card.pulled_at is not None:
            pulled[i].append(max(card.pulled_at - card.opened_at, timedelta()))
        if card.done_at is not None:
            done[i].append(max(card.done_at - card.opened_at, timedelta()))
    return [
        ExpediteRow(
            p,
            counts[i],
            percentile(pulled[i], 0.5),
            percentile(pulled[i], 0.85),
            percentile(done[i], 0.5),
            percentile(done[i], 0.85),
        )
        for i, p in enumerate(periods)
    ]
