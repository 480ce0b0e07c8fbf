"""The board on a phone (390 × 844) and a tablet (768 × 1024): lanes stacked, one column at
a time (two on a tablet) chosen with a switcher that shows each column's count and keeps the
choice, cards full width, an open card as a sheet over the whole screen; on a desktop every
column and no switcher."""

from __future__ import annotations

import pytest

try:
    from playwright.sync_api import Page, expect
except ImportError:  # conftest's autouse fixture skips these (fails under TRACKER_REQUIRE_BROWSER)
    Page = expect = None

from tests.browser.helpers import cell, log_in, quiet
from tests.helpers import actor, make_board, make_card, make_user

pytestmark = pytest.mark.browser

PHONE, TABLET, DESKTOP = (390, 844), (768, 1024), (1440, 900)


@pytest.fixture
def team(live_db) -> dict:
    board = make_board("Platform")
    ann = make_user("ann", board=board, role="member")
    who = actor(ann)
    for kind, title, at in (
        ("feature", "Dark mode", None),
        ("feature", "Export to CSV", None),
        ("support", "Printer on fire", "In progress"),
        ("feature", "Search index", "Review"),
    ):
        make_card(board, who, kind, title, at=at)
    return {"board": board.id}


def sized(page: Page, size) -> None:
    page.set_viewport_size({"width": size[0], "height": size[1]})


def visible_columns(page: Page) -> list[str]:
    return page.eval_on_selector_all(
        "#board .colhead",
        "els => els.filter(e => e.offsetParent !== null).map(e => e.textContent.trim())",
    )


def test_a_phone_shows_one_column_at_a_time_with_counts(page: Page, live_server, team):
    sized(page, PHONE)
    log_in(page, live_server, "ann", team["board"])
    switch = page.locator(".colswitch")
    expect(switch).to_be_visible()
    # The first column of work shows first; each button counts its column's cards.
    expect(switch.get_by_role("button", name="In progress (1)")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(switch.get_by_role("button", name="Ready (2)")).to_be_visible()
    assert [name.split()[0] for name in visible_columns(page)] == ["In"]
    expect(cell(page, "Support", "In progress")).to_contain_text("Printer on fire")
    expect(cell(page, "Feature", "Ready")).to_be_hidden()
    switch.get_by_role("button", name="Ready (2)").click()
    expect(cell(page, "Feature", "Ready")).to_be_visible()
    expect(cell(page, "Support", "In progress")).to_be_hidden()
    # Cards are the width of the screen (less the cell's padding), lanes one under another.
    card = cell(page, "Feature", "Ready").locator(".card").first
    assert card.bounding_box()["width"] > PHONE[0] * 0.8
    # The choice stays through a pull (answered in parts) and a reload.
    page.get_by_role("button", name="Pull next").click()
    expect(page.locator("#notices")).to_contain_text("You pulled")
    expect(switch.get_by_role("button", name="Ready (1)")).to_have_attribute("aria-pressed", "true")
    quiet(page)
    page.reload()
    expect(page.locator(".colswitch").get_by_role("button", name="Ready (1)")).to_have_attribute(
        "aria-pressed", "true"
    )


def test_a_card_on_a_phone_opens_as_a_sheet_over_the_screen(page: Page, live_server, team):
    sized(page, PHONE)
    log_in(page, live_server, "ann", team["board"])
    page.locator(".colswitch").get_by_role("button", name="Ready (2)").click()
    cell(page, "Feature", "Ready").locator("a.ref").first.click()
    panel = page.locator("#panel")
    expect(panel.get_by_role("heading", name="FEAT-1 Dark mode")).to_be_visible()
    box = panel.bounding_box()
    assert box["x"] == 0 and box["y"] == 0
    assert box["width"] == PHONE[0] and box["height"] == PHONE[1]


def test_a_tablet_shows_two_columns(page: Page, live_server, team):
    sized(page, TABLET)
    log_in(page, live_server, "ann", team["board"])
    assert [name.split()[0] for name in visible_columns(page)] == ["In", "Review"]


def test_a_desktop_shows_every_column_and_no_switcher(page: Page, live_server, team):
    sized(page, DESKTOP)
    log_in(page, live_server, "ann", team["board"])
    expect(page.locator(".colswitch")).to_be_hidden()
    assert [name.split()[0] for name in visible_columns(page)] == ["Ready", "In", "Review", "Done"]


def test_touch_drags_wait_for_a_long_press(page: Page, live_server, team):
    """A swipe over the cards scrolls: SortableJS starts a touch drag only after 300 ms."""
    sized(page, PHONE)
    log_in(page, live_server, "ann", team["board"])
    options = page.evaluate(
        "() => { const s = Sortable.get(document.querySelector('ol.cell')).options;"
        " return [s.delay, s.delayOnTouchOnly]; }"
    )
    assert options == [300, True]
