"""A person's avatar colour: the same person gets the same colour on every page, on every
server and after every restart, from a fixed palette (static/app.css's --av0 ... tokens,
each checked for contrast with the avatar's white initials by tests/test_palette.py)."""

from __future__ import annotations

import zlib

# How many colours the palette has: app.css defines --av0 to --av<N-1> and .av0 ... classes.
AVATAR_COLOURS = 8


def avatar_colour(username: str) -> int:
    """The palette index of a person's avatar, from their username (case-insensitive).

    A checksum, not hash(): Python salts str hashes per process, and two workers must
    paint the same person alike. Its high bits: they spread short names better."""
    return (zlib.crc32(username.casefold().encode()) >> 16) % AVATAR_COLOURS
