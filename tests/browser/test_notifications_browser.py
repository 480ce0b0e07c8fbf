"""The bell on an open board: another person assigns a card to you, and your bell's count
goes up within the board's poll, no reload; the list then marks it read, and the count
goes back down."""

from __future__ import annotations

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # conftest skips these (fails under TRACKER_REQUIRE_BROWSER)
    expect = None

from tests.browser.helpers import log_in, mark_page, same_document
from tests.helpers import actor, make_board, make_card, make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def ann_and_lee(browser, live_server, live_db):
    """ann (a member) and lee (a lead) on one board with one ready card, each in a browser
    of their own, on the board."""
    board = make_board("Shared")
    make_user("ann", board=board, role="member")
    lee = make_user("lee", board=board, role="lead")
    make_card(board, actor(lee, "lead"), "feature", "Fix the export")
    pages = [browser.new_context().new_page() for _ in range(2)]
    try:
        for page, name in zip(pages, ("ann", "lee"), strict=True):
            log_in(page, live_server, name, board.id)
        yield pages
    finally:
        for page in pages:
            page.context.close()


def test_the_bell_counts_an_assignment_live_and_the_list_marks_it_read(ann_and_lee):
    ann_page, lee_page = ann_and_lee
    bell = ann_page.locator("#bell")
    expect(bell).to_have_text("Notifications")
    mark_page(ann_page)

    lee_page.locator("#board a.ref", has_text="FEAT-1").click()
    lee_page.locator(".card-detail select[name=assignee]").select_option(label="Ann Person")
    lee_page.locator(".card-detail button", has_text="Assign").click()
    expect(lee_page.locator("#notices")).to_contain_text("assigned to Ann Person")

    expect(bell.locator(".count")).to_have_text("1 unread", timeout=3500)
    assert same_document(ann_page), "ann's page was reloaded instead of updated in place"
    expect(lee_page.locator("#bell .count")).to_have_count(0)  # the actor hears nothing

    bell.get_by_role("link").click()
    item = ann_page.locator(".notification", has_text="Lee Person assigned you FEAT-1")
    expect(item).to_have_class("notification unread")
    item.get_by_role("button", name="Mark read").click()
    expect(item).to_have_class("notification")
    expect(ann_page.locator("#bell .count")).to_have_count(0)
    item.get_by_role("link").click()
    expect(ann_page.locator("#panel")).to_contain_text("Fix the export")
