"""The theme choice in the header (static/theme.js): the system's theme by default; Light or
Dark switch at once, are remembered across a reload, a boosted page change and a new page
of the site; "The system's theme" goes back to following the system. At desktop and phone
sizes; any console error fails the test (tests/browser/conftest.py)."""

from __future__ import annotations

import pytest

try:
    from playwright.sync_api import Page, expect
except ImportError:  # conftest's autouse fixture skips these (fails under TRACKER_REQUIRE_BROWSER)
    Page = expect = None

from tests.browser.helpers import log_in, quiet
from tests.helpers import actor, make_board, make_card, make_user

pytestmark = pytest.mark.browser

SIZES = {"desktop": (1440, 900), "phone": (390, 844)}
CHOICES = {"light": "Light theme", "dark": "Dark theme", "system": "The system's theme"}


@pytest.fixture
def team(live_db) -> dict:
    board = make_board("Platform")
    ann = make_user("ann", board=board, role="lead")
    make_card(board, actor(ann), "support", "Printer on fire", severity="S2")
    return {"board": board.id}


def background(page: Page) -> str:
    return page.evaluate("getComputedStyle(document.body).backgroundColor")


def card_colours(page: Page) -> tuple[str, str]:
    return page.evaluate(
        "(() => { const s = getComputedStyle(document.querySelector('#board .card'));"
        " return [s.backgroundColor, s.color]; })()"
    )


def theme_attribute(page: Page) -> str | None:
    return page.evaluate("document.documentElement.getAttribute('data-theme')")


def expect_pressed(page: Page, choice: str) -> None:
    group = page.get_by_role("group", name="Theme")
    expect(group).to_be_visible()
    for key, name in CHOICES.items():
        expect(group.get_by_role("button", name=name)).to_have_attribute(
            "aria-pressed", "true" if key == choice else "false"
        )


def choose(page: Page, choice: str) -> None:
    page.get_by_role("group", name="Theme").get_by_role("button", name=CHOICES[choice]).click()


@pytest.mark.parametrize("size", SIZES, ids=list(SIZES))
def test_the_theme_switches_and_is_remembered(page: Page, live_server, team, size):
    page.set_viewport_size(dict(zip(("width", "height"), SIZES[size], strict=True)))
    page.emulate_media(color_scheme="light")
    log_in(page, live_server, "ann", team["board"])

    # By default the page follows the system, both ways.
    expect_pressed(page, "system")
    assert theme_attribute(page) is None
    light = background(page), card_colours(page)
    page.emulate_media(color_scheme="dark")
    dark = background(page), card_colours(page)
    assert light != dark and light[1][0] != dark[1][0] and light[1][1] != dark[1][1]

    # Light, chosen while the system is dark, wins over it.
    choose(page, "light")
    expect_pressed(page, "light")
    assert theme_attribute(page) == "light"
    assert (background(page), card_colours(page)) == light

    # Dark, chosen while the system is light, wins too, and stays through a reload.
    page.emulate_media(color_scheme="light")
    choose(page, "dark")
    expect_pressed(page, "dark")
    assert theme_attribute(page) == "dark"
    assert (background(page), card_colours(page)) == dark
    quiet(page)
    page.reload()
    expect(page.locator("#board")).to_be_visible()
    assert theme_attribute(page) == "dark"
    assert (background(page), card_colours(page)) == dark
    expect_pressed(page, "dark")

    # A boosted page change brings a new header: it shows the choice too.
    page.get_by_role("navigation", name="Board").get_by_role("link", name="Report").click()
    expect(page.get_by_role("heading", name="Capacity report: Platform")).to_be_visible()
    expect_pressed(page, "dark")
    assert background(page) == dark[0]

    # Back to the system's theme: the choice is forgotten, the page follows the system.
    choose(page, "system")
    expect_pressed(page, "system")
    assert theme_attribute(page) is None
    assert background(page) == light[0]
    quiet(page)
    page.reload()
    expect_pressed(page, "system")
    assert theme_attribute(page) is None
    assert page.evaluate("localStorage.length") == 0


def test_the_choice_holds_on_a_new_page_before_login(page: Page, live_server, team):
    """A new tab of the site (here the login page, after logging out) starts in the theme
    chosen earlier, set on <html> by the script in <head>, before the body is parsed."""
    page.emulate_media(color_scheme="light")
    log_in(page, live_server, "ann", team["board"])
    choose(page, "dark")
    expect_pressed(page, "dark")
    fresh = page.context.new_page()
    # What <html> carries when the body starts: the first paint's theme.
    fresh.add_init_script(
        "new MutationObserver((changes, seen) => { if (document.body) {"
        " window.__atStart = document.documentElement.getAttribute('data-theme') || 'none';"
        " seen.disconnect(); } }).observe(document, {childList: true, subtree: true});"
    )
    fresh.goto(f"{live_server}/login")
    expect_pressed(fresh, "dark")
    assert fresh.evaluate("window.__atStart") == "dark"
    quiet(page)
    quiet(fresh)
