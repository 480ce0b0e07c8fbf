"""A board left open while the person's session ends (logged out elsewhere, deactivated,
password reset): its live poll sends them to the login page, and logging back in brings
them to the board page, not to the poll's empty answer."""

from __future__ import annotations

import re

import pytest

try:
    from playwright.sync_api import Page, expect
except ImportError:  # conftest skips these (fails under TRACKER_REQUIRE_BROWSER)
    Page = expect = None

from tests.browser.helpers import log_in
from tests.helpers import PASSWORD, actor, make_board, make_card, make_user
from tracker.extensions import db
from tracker.models import User
from tracker.services import users

pytestmark = pytest.mark.browser


# The poll answers 401 on purpose: that is how htmx learns to go to the login page.
@pytest.mark.allow_status(401)
def test_logging_back_in_after_the_session_ended_lands_on_the_board(
    page: Page, live_server, live_db
):
    board = make_board("Platform")
    ann = make_user("ann", board=board, role="member")
    make_card(board, actor(ann), "feature", "Dark mode")
    board_id, ann_id = board.id, ann.id
    log_in(page, live_server, "ann", board_id)
    board_url = f"{live_server}/b/{board_id}"
    assert page.url == board_url

    db.session.remove()
    users.end_sessions(db.session.get(User, ann_id))  # e.g. logged out on another device
    db.session.remove()

    # The next live poll (every two seconds) finds the session gone.
    expect(page.get_by_role("heading", name="Log in")).to_be_visible(timeout=6000)
    assert "/live" not in page.url
    page.get_by_label("Username").fill("ann")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page).to_have_url(re.compile(re.escape(board_url) + r"$"))
    expect(page.locator("#board")).to_contain_text("Dark mode")
