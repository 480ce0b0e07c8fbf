"""The policy: who may do what on a board (tracker.domain.policy), as plain functions."""

from __future__ import annotations

import pytest

from tracker.domain import policy
from tracker.domain.errors import NotAllowed
from tracker.domain.policy import Action
from tracker.domain.vocabulary import Role

# Hand-written, independent of the table: a wrong GRANTS row fails here.
EXPECTED = {
    Action.VIEW_BOARD: {Role.LEAD, Role.MEMBER, Role.SUPPORT, Role.VIEWER},
    Action.CHANGE_CARDS: {Role.LEAD, Role.MEMBER},
    Action.CHANGE_SETTINGS: {Role.LEAD},
    Action.FILE_REQUEST: {Role.LEAD, Role.MEMBER, Role.SUPPORT},
    Action.COMMENT_ON_REQUEST: {Role.LEAD, Role.MEMBER, Role.SUPPORT},
    Action.SHARE_REQUEST: {Role.LEAD, Role.MEMBER, Role.SUPPORT},
    Action.VIEW_REPORT: {Role.LEAD, Role.MEMBER, Role.VIEWER},
    Action.MANAGE_SPRINTS: {Role.LEAD},
    Action.MANAGE_ROTATION: {Role.LEAD},
    Action.VIEW_AUDIT: {Role.LEAD},
    Action.MANAGE_INTEGRATIONS: {Role.LEAD},
    Action.VIEW_GRANTS: {Role.LEAD},
    Action.HOLD_CARDS: {Role.LEAD, Role.MEMBER},
    Action.OVERRIDE_LIMITS: {Role.LEAD},
    Action.RETRY_MAIL: {Role.LEAD},
    Action.ACT_ON_ANY_REQUEST: {Role.LEAD, Role.MEMBER},
    Action.VIEW_QUEUE: {Role.LEAD, Role.MEMBER, Role.SUPPORT},
    Action.WORK_REQUEST: {Role.LEAD, Role.MEMBER, Role.SUPPORT},
    Action.MANAGE_DESK: {Role.LEAD},
}


def test_every_action_has_a_row():
    assert set(policy.GRANTS) == set(Action) == set(EXPECTED)


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("role", list(Role))
def test_each_role_may_take_exactly_its_actions(role, action):
    assert policy.may(role, action) is (role in EXPECTED[action])


def test_plain_strings_from_the_database_and_the_route_table_work_alike():
    assert policy.may("lead", "board.settings")
    assert not policy.may("viewer", "card.change")


def test_no_role_may_do_nothing():
    assert not any(policy.may(None, action) for action in Action)
    assert not policy.may("owner", Action.VIEW_BOARD)  # not a role


def test_an_unknown_action_is_an_error_not_a_yes():
    with pytest.raises(KeyError):
        policy.may(Role.LEAD, "board.destroy")


def test_require_says_why():
    policy.require(Role.MEMBER, Action.CHANGE_CARDS)  # allowed: nothing happens
    with pytest.raises(NotAllowed, match="read-only"):
        policy.require(Role.VIEWER, Action.CHANGE_CARDS)
    with pytest.raises(NotAllowed, match="retry its mail"):
        policy.require(Role.MEMBER, Action.RETRY_MAIL)
    with pytest.raises(NotAllowed, match="change its settings"):
        policy.require(Role.MEMBER, Action.CHANGE_SETTINGS, "Only a lead can change its settings.")
    with pytest.raises(NotAllowed, match="does not allow"):
        policy.require(Role.SUPPORT, Action.VIEW_REPORT)


def test_a_site_admin_without_a_membership_reads_as_a_viewer():
    assert policy.board_role(None, is_admin=True) == Role.VIEWER
    assert policy.board_role(None, is_admin=False) is None
    assert policy.board_role(Role.LEAD, is_admin=True) == Role.LEAD  # a membership wins
    assert policy.board_role(Role.SUPPORT, is_admin=False) == Role.SUPPORT


@pytest.mark.parametrize(
    ("role", "own", "others"),
    [(Role.LEAD, True, True), (Role.MEMBER, True, True), (Role.SUPPORT, True, False)],
)
def test_support_staff_act_on_the_requests_they_filed(role, own, others):
    assert policy.may_act_on_request(role, 7, filed_by_id=7) is own
    assert policy.may_act_on_request(role, 7, filed_by_id=8) is others
    assert policy.may_act_on_request(role, 7, filed_by_id=None) is others
