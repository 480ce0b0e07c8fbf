"""Helpers the browser tests share: logging in through the form, finding a board cell,
telling a same-document change from a page load, and where the server says a card is."""

from __future__ import annotations

try:
    from playwright.sync_api import Page, expect
except ImportError:  # tests/conftest.py deselects the browser tests (or fails them when required)
    Page = expect = None

from tests.helpers import PASSWORD
from tracker.extensions import db
from tracker.models import Card


def log_in(page: Page, base: str, username: str, board_id: int | None = None) -> None:
    """Log in through the form: opening the board when `board_id` is given (the login form
    comes first and leads back to it), else the login page."""
    if board_id is not None:
        page.goto(f"{base}/b/{board_id}")
        expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    else:
        page.goto(f"{base}/login")
    submit_login(page, username)
    if board_id is not None:
        expect(page.locator("#board")).to_be_visible()
    # htmx starts on DOMContentLoaded; a click before that would post the plain form.
    page.wait_for_function("() => window.htmx !== undefined")


def submit_login(page: Page, username: str, password: str = PASSWORD) -> None:
    """Fill in and send the login form on the page, and wait until the page it leads to has
    loaded: a click or a goto before its scripts have come cuts their requests short (the
    page errors check counts them) and would not be boosted."""
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Log in")).to_have_count(0)
    page.wait_for_load_state("load")


def cell(page: Page, lane: str, column: str):
    return page.locator(f'ol.cell[aria-label="{lane} · {column}"]')


def mark_page(page: Page) -> None:
    """Leave a mark on window; a full page load would lose it."""
    page.evaluate("window.__sameDocument = true")


def same_document(page: Page) -> bool:
    return page.evaluate("window.__sameDocument === true")


def card_place(card_id: int) -> tuple[str, str, str | None]:
    """Where the server says a card is: (lane, column, assignee username)."""
    db.session.remove()
    card = db.session.get(Card, card_id)
    return card.lane.name, card.column.name, card.assignee.username if card.assignee else None


def quiet(page: Page) -> None:
    """Stop the page's polls (the live board, the emergency banner) and let what is in
    flight finish: a reload or a history step next cuts no request short (the page errors
    check counts one)."""
    page.evaluate(
        "() => document.querySelectorAll('[hx-trigger*=\"every\"]').forEach(e => e.remove())"
    )
    page.wait_for_load_state("networkidle")


def close(context) -> None:
    """Close a browser context the way a person leaves: once each of its pages is quiet.
    Closing it with a page still loading (its scripts, the icon sprite) aborts those
    requests, and the page errors check rightly counts them."""
    for page in context.pages:
        quiet(page)
    context.close()


def drag(page: Page, source, target) -> None:
    """Drag with the mouse as a person would: press, glide over, rest a moment, let go.

    Gliding across other cards starts SortableJS's 120 ms swap animation, during which it
    ignores the pointer; a hand rests longer than that over the target, a script must wait.
    The board scrolls inside its own box: a person first scrolls the card into sight, and
    lets go near the top of the target (a tall cell's middle may be out of sight).
    """
    source.scroll_into_view_if_needed()
    start = source.bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    end = target.bounding_box()  # read once the drag began: a notice may have come or gone
    x, y = end["x"] + 40, end["y"] + min(end["height"] / 2, 40)
    page.mouse.move(x, y, steps=20)
    page.wait_for_function("() => ![...document.querySelectorAll('.card')].some(c => c.animated)")
    end = target.bounding_box()
    x, y = end["x"] + 40, end["y"] + min(end["height"] / 2, 40)
    page.mouse.move(x + 10, y, steps=5)
    page.mouse.up()
