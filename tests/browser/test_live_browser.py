"""Two people on one board: each sees the other's change within three seconds, no reload."""

from __future__ import annotations

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # conftest skips these (fails under TRACKER_REQUIRE_BROWSER)
    expect = None

from tests.browser.helpers import cell, log_in, mark_page, same_document
from tests.helpers import actor, make_board, make_card, make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def two_people(browser, live_server, live_db):
    """ann and bob, members of one board with one ready card, each in a browser of their own."""
    board = make_board("Shared")
    make_user("ann", board=board, role="member")
    bob = make_user("bob", board=board, role="member")
    make_card(board, actor(bob), "feature", "Shared work")
    pages = [browser.new_context().new_page() for _ in range(2)]
    try:
        for page, name in zip(pages, ("ann", "bob"), strict=True):
            log_in(page, live_server, name, board.id)
        yield pages
    finally:
        for page in pages:
            page.context.close()


def test_another_persons_move_shows_up_within_three_seconds(two_people):
    ann_page, bob_page = two_people
    mark_page(ann_page)
    expect(cell(ann_page, "Feature", "Ready")).to_contain_text("Shared work")

    bob_page.get_by_role("button", name="Pull next").click()
    expect(cell(bob_page, "Feature", "In progress")).to_contain_text("Shared work")

    expect(cell(ann_page, "Feature", "In progress")).to_contain_text("Shared work", timeout=3000)
    expect(cell(ann_page, "Feature", "Ready")).not_to_contain_text("Shared work")
    assert same_document(ann_page), "ann's board was reloaded instead of updated in place"


@pytest.mark.allow_status(409)  # the late save
def test_a_card_being_edited_stays_and_a_late_save_shows_the_conflict(two_people):
    ann_page, bob_page = two_people
    ann_page.locator("#board a.ref", has_text="FEAT-1").click()
    ann_page.locator(".card-detail summary", has_text="Edit").click()
    title = ann_page.locator(".card-detail input[name=title]")
    title.fill("Ann's better title")

    bob_page.get_by_role("button", name="Pull next").click()
    expect(cell(ann_page, "Feature", "In progress")).to_contain_text("Shared work", timeout=3000)
    # The live update replaced the board, not the panel Ann is typing in.
    expect(title).to_have_value("Ann's better title")

    ann_page.locator(".card-detail button", has_text="Save").click()
    expect(ann_page.locator(".card-detail")).to_contain_text(
        "Someone changed this card while you were editing it"
    )
    expect(ann_page.locator(".card-detail")).to_contain_text("Ann's better title")
    expect(ann_page.locator(".card-detail input[name=title]")).to_have_value("Shared work")
