"""Account rules as plain functions: the one normal form of a username, and which new
passwords are refused and why."""

from __future__ import annotations

import pytest

from tracker.domain.accounts import normal_username, password_problem

COMMON = frozenset({"password12", "password", "qwerty", "dragon"})

# Every way of typing ann that the login treats as ann.
ANN_TYPED = [
    "ann",
    "ann\x00",
    "\x00ann",
    "a\x00n\x00n",
    "ann" + "\x00" * 50,
    "ann\x01",
    "ann\x1f\x7f",
    "  ann\t",
    "\nann\r\n",
    "ANN",
    "AnN",
    "\uff41\uff4e\uff4e",  # fullwidth ａｎｎ
    "\uff21\uff2e\uff2e",  # fullwidth ＡＮＮ
    "ann\u200b",  # zero-width space
    "\ufeffann",  # byte-order mark
    "\u00a0ann\u3000",  # no-break and ideographic spaces
]


@pytest.mark.parametrize("typed", ANN_TYPED)
def test_every_form_of_a_name_has_one_normal_form(typed):
    assert normal_username(typed) == "ann"


def test_composed_and_decomposed_accents_are_one_name():
    assert normal_username("Jose\u0301") == normal_username("jos\u00e9") == "jos\u00e9"


@pytest.mark.parametrize("other", ["anna", "an n", "bob", "", "ann.b"])
def test_different_names_stay_different(other):
    assert normal_username(other) != "ann"


@pytest.mark.parametrize(
    "password",
    [
        "aaaaaaaaaa",
        "AAAAAAAAAAAA",
        "1111111111",
        "abababababab",
        "abcabcabcabc",
        "xyz1xyz1xyz1",
        "abcdefghijkl",
        "0123456789",
        "9876543210",
        "aaaaaaaaab",
    ],
)
def test_repetitive_passwords_are_refused_with_what_to_do(password):
    problem = password_problem(password, "ann", COMMON)
    assert problem is not None
    assert "repeat" in problem or "sequence" in problem
    assert "Choose" in problem


@pytest.mark.parametrize("password", ["password12", "PASSWORD12", "Password12!", "dragon2026!!"])
def test_common_passwords_are_refused_with_what_to_do(password):
    problem = password_problem(password, "ann", COMMON)
    assert problem is not None and "common" in problem and "Choose" in problem


@pytest.mark.parametrize(
    "password, words",
    [
        ("short", "at least 10 characters"),
        ("x" * 257, "at most 256"),
        ("ann is here today", None),
        ("LongUserName", "cannot be the username"),
    ],
)
def test_length_and_username_rules_still_hold(password, words):
    problem = password_problem(password, "longusername", COMMON)
    if words is None:
        assert problem is None
    else:
        assert problem is not None and words in problem


@pytest.mark.parametrize(
    "password", ["correct horse battery", "weatherboard", "a fine password", "tr0ub4dor&3x"]
)
def test_passphrases_pass(password):
    assert password_problem(password, "ann", COMMON) is None
