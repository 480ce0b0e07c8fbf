"""Order of cards within a column: float ranks, so a move rewrites one card only."""

from __future__ import annotations

STEP = 1024.0
MIN_GAP = 1e-6


def rank_between(before: float | None, after: float | None) -> float:
    """A rank strictly between the card above (before) and the card below (after)."""
    if before is None and after is None:
        return STEP
    if before is None:
        return after - STEP
    if after is None:
        return before + STEP
    return (before + after) / 2


def needs_respacing(before: float | None, after: float | None) -> bool:
    """True when two neighbours are too close for another card to fit between them."""
    return before is not None and after is not None and after - before < MIN_GAP


def spaced(count: int) -> list[float]:
    """Evenly spaced ranks for a whole column, top to bottom."""
    return [STEP * (i + 1) for i in range(count)]
