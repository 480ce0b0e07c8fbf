"""Personal access tokens' rules (tracker.domain.tokens), as plain functions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.domain import policy, tokens
from tracker.domain.errors import InvalidRequest
from tracker.domain.policy import Action
from tracker.domain.vocabulary import Role, TokenScope

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
TODAY = NOW.date()


@given(
    scope=st.sampled_from(list(TokenScope)),
    role=st.one_of(st.none(), st.sampled_from(list(Role))),
    action=st.sampled_from(list(Action)),
)
def test_a_token_never_exceeds_its_person_and_a_read_token_only_reads(scope, role, action):
    if tokens.may(scope, role, action):
        assert policy.may(role, action)
        assert scope == TokenScope.READ_WRITE or action in tokens.READ_ACTIONS
    elif scope == TokenScope.READ_WRITE:
        assert not policy.may(role, action)  # read-write: exactly the person's role


def test_a_read_token_reads_the_board_but_changes_no_card():
    assert tokens.may(TokenScope.READ, Role.LEAD, Action.VIEW_BOARD)
    assert not tokens.may(TokenScope.READ, Role.LEAD, Action.CHANGE_CARDS)
    assert not tokens.may(TokenScope.READ, Role.SUPPORT, Action.FILE_REQUEST)
    assert tokens.may(TokenScope.READ_WRITE, Role.SUPPORT, Action.FILE_REQUEST)
    assert not tokens.may(TokenScope.READ_WRITE, Role.VIEWER, Action.CHANGE_CARDS)
    assert not tokens.may(TokenScope.READ_WRITE, None, Action.VIEW_BOARD)


def test_a_token_works_until_revoked_or_expired():
    assert tokens.usable(None, None, NOW)
    assert tokens.usable(NOW + timedelta(seconds=1), None, NOW)
    assert not tokens.usable(NOW, None, NOW)  # expired at that very moment
    assert not tokens.usable(None, NOW - timedelta(days=1), NOW)


def test_only_the_token_shape_is_looked_up_and_only_its_digest_kept():
    secret = tokens.PREFIX + "a" * 43
    assert tokens.well_formed(secret)
    for bad in ("", "a" * 49, tokens.PREFIX + "short", secret + " ", secret + "\n", "x" + secret):
        assert not tokens.well_formed(bad), bad
    assert tokens.digest(secret) != secret and len(tokens.digest(secret)) == 64
    assert tokens.digest(secret) == tokens.digest(secret)


def test_a_new_token_needs_a_name_a_scope_and_an_expiry_ahead():
    assert tokens.check_new("  deploy   script ", TokenScope.READ, None, TODAY) == "deploy script"
    assert tokens.check_new("ci", TokenScope.READ_WRITE, TODAY + timedelta(days=1), TODAY) == "ci"
    for name, scope, expires in (
        ("", TokenScope.READ, None),
        ("x" * (tokens.MAX_NAME + 1), TokenScope.READ, None),
        ("ci", "admin", None),
        ("ci", TokenScope.READ, TODAY),
        ("ci", TokenScope.READ, TODAY + timedelta(days=tokens.MAX_DAYS + 1)),
    ):
        with pytest.raises(InvalidRequest):
            tokens.check_new(name, scope, expires, TODAY)
    assert tokens.check_new("ci", TokenScope.READ, date(2027, 1, 1), TODAY) == "ci"
