"""The one shape of an email address: what the forms accept, what mail is sent to, what
error text masks, and how a typed address is kept.

Deliberately loose (RFC 5322 allows far more, and mail servers accept less): something,
an @, a domain with a dot, and none of the characters that end an address in text or
would break a mail header (space, <>, quotes, comma, semicolon).
"""

from __future__ import annotations

import re

MAX_LENGTH = 254  # RFC 5321: the longest address a mail server takes
_NOT_IN_ADDRESS = "@\\s<>\"',;"
# Inside running text an address also ends at these (a dict's repr, "(a@b.c)", "to: a@b.c").
_ENDS_IN_TEXT = "():\\[\\]"


def _shape(excluded: str) -> str:
    return rf"[^{excluded}]+@[^{excluded}]+\.[^{excluded}.]+"


# The shape as a regular expression, for a form validator (anchored) or a search.
EMAIL_SHAPE = _shape(_NOT_IN_ADDRESS)
EMAIL_FORM_PATTERN = rf"^{EMAIL_SHAPE}$"
_WHOLE = re.compile(EMAIL_SHAPE)
# Addresses as they appear inside error text (quoted, in angle brackets, in a dict's repr).
ADDRESS_IN_TEXT = re.compile(_shape(_NOT_IN_ADDRESS + _ENDS_IN_TEXT))


def normal_email(typed: str | None) -> str:
    """The address as kept: surrounding space stripped ("" for none)."""
    return (typed or "").strip()


def is_email(typed: str | None) -> bool:
    """Whether the typed text (after normal_email) has the shape of one email address."""
    address = normal_email(typed)
    return len(address) <= MAX_LENGTH and _WHOLE.fullmatch(address) is not None
