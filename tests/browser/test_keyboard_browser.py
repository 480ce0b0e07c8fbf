"""The board from the keyboard (static/keys.js): the skip link, "?" for the shortcuts, "/"
for the filter, j/k and the arrows between cards, Enter and Esc for the panel, "p" to pull,
"n" for a new card, and the focus kept after an action in the panel."""

from __future__ import annotations

import pytest

try:
    from playwright.sync_api import Page, expect
except ImportError:  # conftest's autouse fixture skips these (fails under TRACKER_REQUIRE_BROWSER)
    Page = expect = None

from tests.browser.helpers import card_place, cell, log_in
from tests.helpers import actor, make_board, make_card, make_user

pytestmark = pytest.mark.browser

FOCUSED_CARD = "document.activeElement.closest('li.card')?.dataset.id ?? null"


@pytest.fixture
def team(live_db) -> dict:
    """A board with ann (a member) and cards: two in Feature Ready, one in Support Ready,
    one in Feature In progress."""
    board = make_board("Platform")
    ann = make_user("ann", board=board, role="member")
    who = actor(ann)
    cards = {
        title: make_card(board, who, kind, title, at=at).id
        for kind, title, at in (
            ("support", "Printer on fire", None),
            ("feature", "Dark mode", None),
            ("feature", "Export to CSV", None),
            ("feature", "Search index", "In progress"),
        )
    }
    return {"board": board.id, **cards}


def focused(page: Page) -> int | None:
    found = page.evaluate(FOCUSED_CARD)
    return int(found) if found else None


def test_the_skip_link_comes_first_and_leads_to_the_board(page: Page, live_server, team):
    log_in(page, live_server, "ann", team["board"])
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to the board")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server}/b/{team['board']}#board")


def test_question_mark_lists_the_shortcuts_and_escape_closes_them(page: Page, live_server, team):
    log_in(page, live_server, "ann", team["board"])
    dialog = page.locator("#shortcuts")
    page.keyboard.press("?")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("pull the next card")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    page.get_by_role("button", name="Keyboard shortcuts").click()
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()


def test_slash_goes_to_the_filter_and_typing_there_is_left_alone(page: Page, live_server, team):
    log_in(page, live_server, "ann", team["board"])
    page.keyboard.press("/")
    search = page.locator("#filter-q")
    expect(search).to_be_focused()
    page.keyboard.type("jk")  # letters typed into a field are not shortcuts
    expect(search).to_have_value("jk")
    expect(search).to_be_focused()


def test_j_k_and_the_arrows_move_between_cards(page: Page, live_server, team):
    log_in(page, live_server, "ann", team["board"])
    order = [  # the tiles in page order: lanes top to bottom, columns left to right
        int(x)
        for x in page.eval_on_selector_all("#board li.card", "els => els.map(e => e.dataset.id)")
    ]
    page.keyboard.press("j")
    assert focused(page) == order[0]
    page.keyboard.press("j")
    assert focused(page) == order[1]
    page.keyboard.press("ArrowDown")
    assert focused(page) == order[2]
    page.keyboard.press("k")
    page.keyboard.press("ArrowUp")
    assert focused(page) == order[0]
    # Feature's Ready cards, then sideways to its In progress card and back.
    cell(page, "Feature", "Ready").locator("a.ref").first.focus()
    page.keyboard.press("ArrowRight")
    assert focused(page) == team["Search index"]
    page.keyboard.press("ArrowLeft")
    assert focused(page) == team["Dark mode"]


def test_enter_opens_a_card_and_escape_closes_it_back_onto_the_card(page: Page, live_server, team):
    log_in(page, live_server, "ann", team["board"])
    link = (
        cell(page, "Feature", "Ready").locator(".card", has_text="Export to CSV").locator("a.ref")
    )
    link.focus()
    page.keyboard.press("Enter")
    panel = page.locator("#panel")
    expect(panel.get_by_role("heading", name="FEAT-2 Export to CSV")).to_be_focused()
    page.keyboard.press("Escape")
    expect(panel.locator(".card-detail")).to_have_count(0)
    assert focused(page) == team["Export to CSV"]
    expect(page).to_have_url(f"{live_server}/b/{team['board']}")


def test_an_action_in_the_panel_keeps_the_focus_in_the_panel(page: Page, live_server, team):
    log_in(page, live_server, "ann", team["board"])
    card_id = team["Dark mode"]
    cell(page, "Feature", "Ready").locator(".card", has_text="Dark mode").locator("a.ref").click()
    panel = page.locator("#panel")
    expect(panel.get_by_role("heading", name="FEAT-1 Dark mode")).to_be_visible()
    page.locator(f"#block-{card_id}").fill("waiting for the keys")
    page.locator(f"#block-{card_id}").press("Enter")
    expect(page.locator("#notices")).to_contain_text("is blocked")
    # The Block button is gone (the card is blocked): the focus returns to the card.
    page.wait_for_function(
        "id => document.activeElement.closest('li.card')?.dataset.id === String(id)", arg=card_id
    )
    # Move with the select and its button: the focus stays on the button.
    page.locator(f"#move-{card_id}").select_option(label="Feature · Review")
    move = panel.get_by_role("button", name="Move", exact=True)
    move.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#notices")).to_contain_text("Moved FEAT-1 to Feature · Review.")
    expect(panel.get_by_role("button", name="Move", exact=True)).to_be_focused()


def test_p_pulls_the_next_card(page: Page, live_server, team):
    log_in(page, live_server, "ann", team["board"])
    page.keyboard.press("p")
    expect(page.locator("#notices")).to_contain_text("You pulled SUP-1: Printer on fire")
    assert card_place(team["Printer on fire"]) == ("Support", "In progress", "ann")


def test_n_adds_a_card_to_the_focused_cards_lane(page: Page, live_server, team):
    log_in(page, live_server, "ann", team["board"])
    cell(page, "Support", "Ready").locator("a.ref").first.focus()
    page.keyboard.press("n")
    form = page.locator("#panel form#new-card")
    expect(form).to_be_visible()
    expect(form.locator("select[name=lane_id] option:checked")).to_have_text("Support")
