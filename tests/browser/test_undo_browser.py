"""Undo from the notice in a real browser: a dragged card comes back with the notice's Undo
button (reached and pressed from the keyboard), and the notice goes once the undo window
is over (UNDO_SECONDS, shortened here: the server and the notice's timer both read it)."""

from __future__ import annotations

import time

import pytest

try:
    from playwright.sync_api import Page, expect
except ImportError:  # conftest's autouse fixture skips these (fails under TRACKER_REQUIRE_BROWSER)
    Page = expect = None

from tests.browser.helpers import card_place, cell, drag, log_in, mark_page, same_document
from tests.helpers import actor, make_board, make_card, make_user

pytestmark = pytest.mark.browser

WINDOW = 3  # seconds


@pytest.fixture
def board(live_db, live_app, monkeypatch) -> tuple[int, dict[str, int]]:
    """A board with a member, ann, and three feature cards in Ready; a short undo window."""
    monkeypatch.setitem(live_app.config, "UNDO_SECONDS", WINDOW)
    made = make_board("Platform")
    who = actor(make_user("ann", board=made, role="member"))
    titles = ("Dark mode", "Export to CSV", "Search")
    return made.id, {title: make_card(made, who, "feature", title).id for title in titles}


def test_undo_a_drag_from_the_notice_and_the_notice_goes(page: Page, live_server, board):
    board_id, ids = board
    log_in(page, live_server, "ann", board_id)
    mark_page(page)
    ready, doing = cell(page, "Feature", "Ready"), cell(page, "Feature", "In progress")
    before = ready.locator(".card .t").all_inner_texts()

    drag(page, ready.locator(".card", has_text="Export to CSV").locator(".t"), doing)
    notice = page.locator("#notices .notice.undo")
    expect(notice).to_contain_text("Moved FEAT-2 to Feature · In progress.")
    expect(doing).to_contain_text("Export to CSV")
    assert card_place(ids["Export to CSV"]) == ("Feature", "In progress", "ann")

    # The Undo button is a few Tab stops after the search box (past the filter chips'
    # summary), and Enter presses it.
    page.locator("#filter-q").focus()
    undo = notice.get_by_role("button", name="Undo")
    for _ in range(5):
        page.keyboard.press("Tab")
        if undo.evaluate("button => button === document.activeElement"):
            break
    expect(undo).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.locator("#notices")).to_contain_text("Undone: FEAT-2 is back in Feature · Ready.")
    expect(ready.locator(".card .t")).to_have_text(before)  # in its old place again
    expect(doing).not_to_contain_text("Export to CSV")
    # The button is gone: the keyboard is on the card, not at the top of the page.
    expect(ready.locator(".card", has_text="Export to CSV").locator("a.ref")).to_be_focused()
    assert card_place(ids["Export to CSV"]) == ("Feature", "Ready", None)
    assert same_document(page)

    # Another move: its notice stays for the window, then goes; the focus on its Undo
    # button goes back to the card.
    drag(page, ready.locator(".card", has_text="Search").locator(".t"), doing)
    expect(notice).to_contain_text("Moved FEAT-3 to Feature · In progress.")
    shown = time.monotonic()
    notice.get_by_role("button", name="Undo").focus()
    expect(notice).to_have_count(0, timeout=(WINDOW + 3) * 1000)
    assert time.monotonic() - shown >= WINDOW - 1
    expect(doing.locator(".card", has_text="Search").locator("a.ref")).to_be_focused()
    assert card_place(ids["Search"]) == ("Feature", "In progress", "ann")
