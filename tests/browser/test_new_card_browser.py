"""Adding a card in a real browser: the form closes and clears, the new card is shown.

Found as a new user: after "Add to Ready" the form stayed open with the title still in it
(and an earlier error still shown) while the new card landed out of view, so a second
press filed a duplicate.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

try:
    from playwright.sync_api import Page, expect
except ImportError:  # conftest's autouse fixture skips these (fails under TRACKER_REQUIRE_BROWSER)
    Page = expect = None

from tests.browser.helpers import cell, log_in, mark_page, same_document
from tests.helpers import actor, make_board, make_card, make_user
from tracker.extensions import db
from tracker.models import Card

pytestmark = pytest.mark.browser
QUEUED = 14  # feature cards already waiting: the next one lands below the fold


@pytest.fixture
def crowded(live_db) -> int:
    """A board whose Feature · Ready queue is longer than the window is high."""
    board = make_board("Platform")
    ann = make_user("ann", board=board, role="member")
    for n in range(QUEUED):
        make_card(board, actor(ann), "feature", f"Queued feature {n + 1}")
    return board.id


def cards_titled(title: str) -> int:
    db.session.remove()
    return db.session.execute(select(func.count()).where(Card.title == title)).scalar_one()


@pytest.mark.allow_status(422)  # the empty first try
def test_adding_a_card_closes_the_form_and_shows_the_new_card(page: Page, live_server, crowded):
    log_in(page, live_server, "ann", crowded)
    mark_page(page)
    ready = cell(page, "Feature", "Ready")
    page.locator(f"#cell-{feature_cell_id(page)} a.add").click()
    form = page.locator("#panel #new-card")
    expect(form).to_be_visible()

    form.get_by_role("button", name="Add to Ready").click()  # no title: refused, form kept
    expect(form.locator(".error")).to_contain_text("Give the card a title.")
    form.get_by_label("Title").fill("Export to PDF")
    form.get_by_role("button", name="Add to Ready").click()

    tile = ready.locator(".card", has_text="Export to PDF")
    expect(tile).to_be_visible()
    expect(page.locator("#panel #new-card")).to_have_count(0)  # closed, its error with it
    expect(page.locator("#panel .error")).to_have_count(0)
    expect(tile).to_be_in_viewport()
    expect(tile).to_have_class(re.compile(r"(^|\s)added(\s|$)"))
    expect(tile.locator("a.ref")).to_be_focused()  # the keyboard goes on from the new card
    assert same_document(page)

    page.locator(f"#cell-{feature_cell_id(page)} a.add").click()  # a fresh, empty form
    expect(page.locator("#panel #new-card").get_by_label("Title")).to_have_value("")
    assert cards_titled("Export to PDF") == 1


def test_a_double_click_on_add_files_one_card(page: Page, live_server, crowded):
    log_in(page, live_server, "ann", crowded)
    page.locator(f"#cell-{feature_cell_id(page)} a.add").click()
    form = page.locator("#panel #new-card")
    form.get_by_label("Title").fill("Clicked twice")
    form.get_by_role("button", name="Add to Ready").dblclick()
    expect(cell(page, "Feature", "Ready").locator(".card", has_text="Clicked twice")).to_have_count(
        1
    )
    page.wait_for_load_state("networkidle")
    assert cards_titled("Clicked twice") == 1


def feature_cell_id(page: Page) -> str:
    """The Feature · Ready cell's lane-column id, as the page shows it."""
    wrap = cell(page, "Feature", "Ready").locator("xpath=..")
    return wrap.get_attribute("id").removeprefix("cell-")


def test_the_new_card_page_opened_on_its_own_adds_a_card(page: Page, live_server, crowded):
    """The form's page (a new tab, or a bookmark) has no board to swap into: its form posts
    as a page does and lands on the board."""
    log_in(page, live_server, "ann", crowded)
    page.goto(f"{live_server}/b/{crowded}/cards/new?lane={feature_cell_id(page).split('-')[0]}")
    page.wait_for_function("() => window.htmx !== undefined")
    page.get_by_label("Title").fill("From its own page")
    page.get_by_role("button", name="Add to Ready").click()
    expect(page.locator("#flash")).to_contain_text("Added FEAT-15: From its own page")
    expect(cell(page, "Feature", "Ready")).to_contain_text("From its own page")
    assert cards_titled("From its own page") == 1
