"""How a count reads: "1 card", "2 cards" (pure functions, no framework). Every text that
shows a count with its noun goes through counted, templates too (the `counted` filter)."""

from __future__ import annotations


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """The count with its noun in the right number: counted(1, "card") is "1 card",
    counted(0, "card") "0 cards", counted(2, "try", "tries") "2 tries"."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"
