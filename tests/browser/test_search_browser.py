"""The board's search box and filter chips in Chromium: typing filters the board as the
person types (the last word a prefix) and puts the filter in the address; a chip narrows
it; a reload and the back button keep what the address says."""

from __future__ import annotations

import re

import pytest

try:
    from playwright.sync_api import Page, expect
except ImportError:  # conftest's autouse fixture skips these (fails under TRACKER_REQUIRE_BROWSER)
    Page = expect = None

from tests.browser.helpers import log_in, mark_page, quiet, same_document
from tests.helpers import actor, make_board, make_card, make_user
from tracker.services import cards, labels

pytestmark = pytest.mark.browser


@pytest.fixture
def team(live_db) -> dict:
    """A board with lee (a lead) and four cards, one of them labelled Bug."""
    board = make_board("Platform")
    lee = actor(make_user("lee", board=board, role="lead"), "lead")
    made = {
        title: make_card(board, lee, kind, title, **fields)
        for kind, title, fields in (
            ("support", "Printer on fire", {"severity": "S1"}),
            ("support", "Printout is blank", {"severity": "S3"}),
            ("feature", "Print preview", {}),
            ("feature", "Dark mode", {}),
        )
    }
    bug = labels.add_label(board.id, lee, "Bug", "red")
    preview = made["Print preview"]
    cards.edit_card(board.id, lee, preview.id, preview.version, {"labels": [bug.id]})
    return {"board": board.id, "bug": bug.id, **{t: c.id for t, c in made.items()}}


def shown(page: Page):
    return page.locator("#board li.card .t")


def test_typing_and_a_chip_filter_the_board_and_a_reload_keeps_it(page: Page, live_server, team):
    log_in(page, live_server, "lee", team["board"])
    expect(shown(page)).to_have_count(4)
    mark_page(page)
    page.locator("#filter-q").press_sequentially("prin", delay=40)
    expect(shown(page)).to_have_text(
        ["Printer on fire", "Printout is blank", "Print preview"], use_inner_text=True
    )
    expect(page).to_have_url(re.compile(r"\?q=prin$"))
    page.get_by_text("Filters", exact=True).click()  # the chips fold away until asked for
    page.get_by_label("S1").check()
    expect(shown(page)).to_have_text(["Printer on fire"])
    expect(page).to_have_url(re.compile(r"q=prin&.*sev=S1"))
    assert same_document(page)  # htmx swapped the board; no page load
    quiet(page)
    page.reload()
    expect(shown(page)).to_have_text(["Printer on fire"])
    expect(page.locator("#filter-q")).to_have_value("prin")
    expect(page.get_by_label("S1")).to_be_checked()
    expect(page.get_by_role("link", name="Clear the filter")).to_be_visible()


def test_a_label_chip_and_the_back_button(page: Page, live_server, team):
    log_in(page, live_server, "lee", team["board"])
    tile = page.locator(f"#card-{team['Print preview']}")
    expect(tile.locator(".lb.lc-red")).to_have_text("Bug")
    page.locator("#filter-menu > summary").click()
    page.locator("#filter-chips").get_by_label("Bug").check()
    expect(shown(page)).to_have_text(["Print preview"])
    expect(page).to_have_url(re.compile(rf"label={team['bug']}$"))
    quiet(page)
    page.go_back()
    expect(shown(page)).to_have_count(4)
    expect(page.locator("#filter-chips").get_by_label("Bug")).not_to_be_checked()
