"""Account rules: the one normal form of a typed username, and which new passwords are
refused (and what to tell the person instead)."""

from __future__ import annotations

import string
import unicodedata
from collections.abc import Container

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256
_INVISIBLE = {"Cc", "Cf"}  # control characters (NUL, tab, ...) and format ones (zero-width)
TRY_INSTEAD = "Choose another: three or four unrelated words make a strong one."
COMMON_PASSWORD = (  # noqa: S105 - a message
    "That password is on a list of common passwords that attackers try first. " + TRY_INSTEAD
)
REPETITIVE_PASSWORD = (  # noqa: S105 - a message
    "That password is a repeated character, pattern or sequence, which is easy to guess. "
    + TRY_INSTEAD
)


def normal_username(typed: str) -> str:
    """The name a typed username stands for: Unicode compatibility forms folded (NFKC, so
    fullwidth and composed/decomposed letters agree), control and invisible format
    characters dropped, surrounding space stripped, lower case. Logging in, creating a
    person and the per-account login limit all use this, so they cannot disagree."""
    folded = unicodedata.normalize("NFKC", typed)
    visible = "".join(ch for ch in folded if unicodedata.category(ch) not in _INVISIBLE)
    return visible.strip().lower()


def is_repetitive(password: str) -> bool:
    """A password made of one or two characters, one short unit repeated ("abcabc"), or a
    run with a constant step ("abcdef", "9876543210")."""
    text = password.lower()
    if len(set(text)) <= 2:
        return True
    for size in range(1, len(text) // 2 + 1):
        if len(text) % size == 0 and text[:size] * (len(text) // size) == text:
            return True
    steps = {ord(b) - ord(a) for a, b in zip(text, text[1:], strict=False)}
    return len(steps) == 1


def is_common(password: str, common: Container[str]) -> bool:
    """On the list of common passwords, ignoring case and any digits or punctuation added
    at the end ("Password12!" is "password" with a suffix)."""
    text = password.lower()
    bare = text.rstrip(string.digits + string.punctuation + " ")
    return text in common or (bool(bare) and bare in common)


def password_problem(password: str, username: str, common: Container[str]) -> str | None:
    """Why a new password is refused, as a message saying what to do, or None when it is
    fine. `common` is a kept list of common and breached passwords, lower case."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return (
            f"A password needs at least {MIN_PASSWORD_LENGTH} characters: "
            "three or four unrelated words make a strong one."
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"A password has at most {MAX_PASSWORD_LENGTH} characters."
    if normal_username(password) == normal_username(username):
        return "A password cannot be the username. Choose something else."
    if is_repetitive(password):
        return REPETITIVE_PASSWORD
    if is_common(password, common):
        return COMMON_PASSWORD
    return None
