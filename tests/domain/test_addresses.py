"""One email shape (tracker.domain.addresses): forms, mail and masking agree on it."""

from __future__ import annotations

import re

import pytest

from tracker.domain import addresses, text

GOOD = ["ana@example.com", "a.b+tag@mail.example.co.uk", "x@y.io", "  pad@example.org  "]
BAD = [
    "",
    None,
    "ana",
    "ana@example",  # no dot in the domain
    "ana@example.",  # nothing after the dot
    "@example.com",
    "ana@@example.com",
    "ana smith@example.com",
    "<ana@example.com>",
    'ana"@example.com',
    "ana@example.com, bo@example.com",
    "ana;bo@example.com",
    "a@" + "b" * 250 + ".com",  # longer than a mail server takes
]


@pytest.mark.parametrize("typed", GOOD)
def test_an_address_has_the_shape(typed):
    assert addresses.is_email(typed)


@pytest.mark.parametrize("typed", BAD)
def test_not_an_address(typed):
    assert not addresses.is_email(typed)


def test_the_form_pattern_is_the_same_shape():
    pattern = re.compile(addresses.EMAIL_FORM_PATTERN)
    for typed in GOOD:
        assert pattern.match(addresses.normal_email(typed))
    for typed in BAD[2:-1]:
        assert not pattern.match(typed)


def test_normal_email_strips_space_only():
    assert addresses.normal_email("  Ana@Example.com ") == "Ana@Example.com"
    assert addresses.normal_email(None) == ""


def test_masking_finds_the_same_addresses_in_text():
    said = "550 <ana@example.com>: no such user (bo@example.org); ['cy@example.net']"
    assert text.mask_addresses(said) == (
        "550 <a***@example.com>: no such user (b***@example.org); ['c***@example.net']"
    )
