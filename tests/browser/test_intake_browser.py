"""Support intake in a real browser: a support person files an S2 and finds it in My requests.

The form posts through htmx (hx-boost) with CSRF on, as people use it.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

try:
    from playwright.sync_api import Page, expect
except ImportError:  # conftest's autouse fixture skips these (fails under TRACKER_REQUIRE_BROWSER)
    Page = expect = None

from tests.browser.helpers import log_in
from tests.helpers import actor, make_board, make_card, make_user
from tracker.extensions import db
from tracker.models import Card, Component

pytestmark = pytest.mark.browser


@pytest.fixture
def board_id(live_db) -> int:
    """A board with a support person (sam), a member, a component and an S3 waiting."""
    board = make_board("Platform")
    ann = make_user("ann", board=board, role="member")
    make_user("sam", board=board, role="support")
    db.session.add(Component(board_id=board.id, name="Checkout"))
    db.session.commit()
    make_card(board, actor(ann), "support", "Slow search", severity="S3")
    return board.id


@pytest.mark.allow_status(422)  # sent empty first
def test_support_files_an_s2_and_sees_it_in_my_requests(page: Page, live_server, board_id):
    log_in(page, live_server, "sam", board_id)
    page.get_by_role("link", name="File a request").click()
    expect(page.get_by_role("heading", name="File a support request")).to_be_visible()

    # Sent empty first: every field says what is wrong, and nothing is filed.
    page.get_by_role("button", name="File the request").click()
    expect(page.get_by_text("Write a short summary, such as")).to_have_count(2)
    page.get_by_label("Short summary").fill("Checkout fails for card payments")
    page.get_by_label("What happened").fill("Pay shows an error page since 9:00.")
    page.get_by_label(re.compile(r"^S2 · Major")).check()
    page.get_by_label("Component").select_option("Checkout")
    page.get_by_label("Environment").fill("production")
    page.get_by_label("Requester's name").fill("Dana Customer")
    page.get_by_label("Requester's email").fill("dana@example.com")
    page.get_by_role("button", name="File the request").click()

    expect(page.get_by_role("heading", name=re.compile("SUP-2"))).to_be_visible()
    expect(page.locator("#flash")).to_contain_text("Filed SUP-2")
    expect(page.locator("#request .facts")).to_contain_text("received")
    expect(page.locator("#request .facts")).to_contain_text("Support · Ready")

    page.get_by_role("link", name="My requests").click()
    row = page.locator("tr", has_text="Checkout fails for card payments")
    expect(row).to_contain_text("SUP-2")
    expect(row).to_contain_text("received")
    expect(row).to_contain_text("nobody yet")

    db.session.remove()
    filed = db.session.execute(select(Card).where(Card.ref == "SUP-2")).scalar_one()
    assert (filed.severity, filed.component, filed.filed_by_id is not None) == (
        "S2",
        "Checkout",
        True,
    )
    ready = db.session.execute(
        select(Card.title)
        .where(Card.lane_id == filed.lane_id, Card.column_id == filed.column_id)
        .order_by(Card.rank)
    ).scalars()
    assert list(ready) == ["Checkout fails for card payments", "Slow search"]


def test_a_new_status_link_shows_once_and_the_address_bar_shows_the_request(
    page: Page, live_server, board_id
):
    log_in(page, live_server, "sam", board_id)
    page.get_by_role("link", name="File a request").click()
    page.get_by_label("Short summary").fill("Refunds are late")
    page.get_by_label("What happened").fill("Three refunds wait since Monday.")
    page.get_by_label(re.compile(r"^S3")).check()
    page.get_by_label("Component").select_option("Checkout")
    page.get_by_label("Environment").fill("production")
    page.get_by_label("Requester's name").fill("Dana Customer")
    page.get_by_role("button", name="File the request").click()
    expect(page.get_by_role("heading", name=re.compile("Refunds are late"))).to_be_visible()
    request_url = page.url

    page.get_by_role("button", name="Make a status link").click()
    link = page.locator("#new-link")
    expect(link).to_have_value(re.compile(r"/status/[A-Za-z0-9_-]{43}$"))
    assert page.url == request_url  # not the form's address: a reload shows no link
    page.reload()
    expect(page.get_by_role("heading", name=re.compile("Refunds are late"))).to_be_visible()
    expect(page.locator("#new-link")).to_have_count(0)
    expect(page.locator("#status-link")).to_contain_text("A status link is working")
