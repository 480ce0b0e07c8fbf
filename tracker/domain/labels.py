"""A board's labels: a name and a colour from a fixed palette whose every colour carries its
text at WCAG AA contrast (4.5:1 at least, for small text), in light and dark themes alike
(the chip brings its own background)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tracker.domain.errors import InvalidRequest

NAME_LENGTH = 30
MAX_LABELS = 40
# WCAG 2.x AA for normal-size text.
AA_CONTRAST = 4.5


@dataclass(frozen=True)
class Colour:
    """One colour of the palette: its key (stored, and the chip's CSS class lc-<key>),
    its name in words, and its background and text colours."""

    key: str
    name: str
    background: str
    text: str


PALETTE: tuple[Colour, ...] = (
    Colour("red", "Red", "#b91c1c", "#ffffff"),
    Colour("orange", "Orange", "#9a3412", "#ffffff"),
    Colour("yellow", "Yellow", "#fde68a", "#422006"),
    Colour("green", "Green", "#166534", "#ffffff"),
    Colour("teal", "Teal", "#0f766e", "#ffffff"),
    Colour("blue", "Blue", "#1d4ed8", "#ffffff"),
    Colour("purple", "Purple", "#6b21a8", "#ffffff"),
    Colour("grey", "Grey", "#e5e7eb", "#1f2937"),
)
COLOURS = {colour.key: colour for colour in PALETTE}


def _linear(channel: int) -> float:
    c = channel / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(hex_colour: str) -> float:
    """A #rrggbb colour's relative luminance (WCAG 2.x)."""
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _linear(r) + 0.7152 * _linear(g) + 0.0722 * _linear(b)


def contrast(first: str, second: str) -> float:
    """The WCAG contrast ratio of two #rrggbb colours, 1 to 21."""
    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def clean_label(
    name: str, colour: str, existing: Sequence[str], *, renaming: str | None = None
) -> tuple[str, str]:
    """A label's name and colour as a lead gives them: a name not empty, not too long and
    not already on the board (case aside; `renaming` is the label's own current name), and
    a colour of the palette."""
    name = " ".join((name or "").split())
    if not name:
        raise InvalidRequest("Give the label a name.")
    if len(name) > NAME_LENGTH:
        raise InvalidRequest(f"A label name is at most {NAME_LENGTH} characters.")
    if colour not in COLOURS:
        raise InvalidRequest("Choose one of the colours offered.")
    others = [n for n in existing if renaming is None or n.casefold() != renaming.casefold()]
    for other in others:
        if other.casefold() == name.casefold():
            raise InvalidRequest(f"The board has a label {other} already.")
    if renaming is None and len(existing) >= MAX_LABELS:
        raise InvalidRequest(f"A board can have at most {MAX_LABELS} labels.")
    return name, colour


def label_change(before: Iterable[str], after: Iterable[str]) -> list[list[str]] | None:
    """A card's labels before and after an edit as its history records them ([old, new],
    each sorted by name), or None when they are the same."""
    old, new = sorted(set(before), key=str.casefold), sorted(set(after), key=str.casefold)
    return None if old == new else [old, new]
