"""The emergency banner in a real browser: it appears on an open board, says who took it
once pulled, and goes when the incident is mitigated.

A support person files the S1 through the intake form in a second browser while a
member's board is open in the first.
"""

from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import select

try:
    from playwright.sync_api import Page, expect
except ImportError:  # conftest's autouse fixture skips these (fails under TRACKER_REQUIRE_BROWSER)
    Page = expect = None

from tests.browser.helpers import card_place, cell, close, log_in, mark_page, same_document
from tests.helpers import actor, make_board, make_card, make_user
from tracker.extensions import db
from tracker.models import Card, User
from tracker.services import incidents

pytestmark = pytest.mark.browser


@pytest.fixture
def board_id(live_db) -> int:
    """A board with a member, ann (whose page is open), a support person, sam, and a card."""
    board = make_board("Platform")
    ann = make_user("ann", board=board, role="member")
    make_user("sam", board=board, role="support")
    make_card(board, actor(ann), "support", "Printer on fire")
    return board.id


def file_s1(browser, live_server: str, board_id: int, title: str) -> tuple[int, str]:
    """sam files an S1 through the intake form in a browser of his own."""
    context = browser.new_context()
    try:
        page = context.new_page()
        log_in(page, live_server, "sam", board_id)
        page.get_by_role("link", name="File a request").click()
        page.get_by_label("Short summary").fill(title)
        page.get_by_label("What happened").fill("Every checkout fails since 10:02.")
        page.get_by_label(re.compile(r"^S1 · Production down")).check()
        page.get_by_label("Component").select_option("Other")
        page.get_by_label("Requester's name").fill("Dana Customer")
        page.get_by_role("button", name="File the request").click()
        expect(page.get_by_role("heading", name=re.compile("EXP-1"))).to_be_visible()
    finally:
        close(context)
    db.session.remove()
    card = db.session.execute(select(Card).where(Card.title == title)).scalar_one()
    found = card.id, card.ref
    db.session.remove()
    return found


def test_an_s1_shows_on_an_open_board_and_goes_when_mitigated(
    browser, page: Page, live_server, board_id
):
    log_in(page, live_server, "ann", board_id)
    mark_page(page)
    banner = page.locator("#emergency [role=alert]")
    expect(banner).to_have_count(0)

    card_id, ref = file_s1(browser, live_server, board_id, "Checkout is down")
    filed = time.monotonic()
    expect(banner).to_contain_text(
        f"Production emergency: {ref} — unassigned for less than 1 min", timeout=5000
    )
    assert time.monotonic() - filed < 5
    expect(banner.get_by_role("link")).to_have_attribute("href", f"/b/{board_id}/cards/{card_id}")
    assert same_document(page), "the page was reloaded instead of polled"

    with page.expect_response(re.compile(r"/pull$")) as pulled:
        page.get_by_role("button", name="Pull next").click()
    assert pulled.value.status == 200
    expect(page.locator("#notices")).to_contain_text(f"You pulled {ref}: Checkout is down")
    expect(cell(page, "Expedite", "In progress")).to_contain_text("Checkout is down")
    shown = page.locator("#emergency .emergency-banner")
    expect(shown).to_contain_text(f"{ref} · acknowledged by Ann Person", timeout=5000)
    db.session.remove()
    ann = db.session.execute(select(User).where(User.username == "ann")).scalar_one()
    incidents.mitigate(board_id, actor(ann), card_id, "rolled back to 4.2.1")
    db.session.remove()
    expect(shown).to_have_count(0, timeout=5000)
    assert same_document(page)
    assert card_place(card_id) == ("Expedite", "In progress", "ann")
