"""An incident's whole path in a real browser: an S1 filed through intake, acknowledged,
logged, break-glass access recorded and ended, mitigated (the banner goes), resolved, the
review written, a follow-up opened and finished (its status live on the review)."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

try:
    from playwright.sync_api import Page, expect
except ImportError:  # conftest's autouse fixture skips these (fails under TRACKER_REQUIRE_BROWSER)
    Page = expect = None

from sqlalchemy import select

from tests.browser.helpers import close, quiet, submit_login
from tests.helpers import make_board, make_user
from tracker import clock
from tracker.extensions import db
from tracker.models import Board, Card

pytestmark = pytest.mark.browser


@pytest.fixture
def board_id(live_db) -> int:
    """A board with ann (member, responding), lee (lead, the ops buddy), sam (support)."""
    board = make_board("Platform")
    make_user("ann", board=board, role="member")
    make_user("lee", board=board, role="lead")
    make_user("sam", board=board, role="support")
    return board.id


def log_in(page: Page, base: str, username: str, then: str) -> None:
    page.goto(f"{base}/login")
    submit_login(page, username)
    page.goto(base + then)
    page.wait_for_load_state("load")
    page.wait_for_function("() => window.htmx !== undefined")


def test_the_whole_path_of_an_incident(browser, page: Page, live_server, board_id):
    # sam files the S1 through the intake form.
    other = browser.new_context()
    sam = other.new_page()
    log_in(sam, live_server, "sam", f"/b/{board_id}/intake")
    sam.get_by_label("Short summary").fill("Checkout is down")
    sam.get_by_label("What happened").fill("Every checkout fails since 10:02.")
    sam.get_by_label(re.compile(r"^S1 · Production down")).check()
    sam.get_by_label("Component").select_option("Other")
    sam.get_by_label("Requester's name").fill("Dana Customer")
    sam.get_by_role("button", name="File the request").click()
    expect(sam.get_by_role("heading", name=re.compile("EXP-1"))).to_be_visible()
    close(other)
    db.session.remove()  # a fresh read: the filing was the live server's
    card = db.session.execute(select(Card).where(Card.title == "Checkout is down")).scalar_one()
    card_id, timezone = card.id, db.session.get(Board, board_id).timezone
    db.session.remove()

    # ann acknowledges it: she pulls it; the banner stays, with the stage.
    log_in(page, live_server, "ann", f"/b/{board_id}")
    banner = page.locator("#emergency .emergency-banner")
    expect(banner).to_contain_text("Production emergency: EXP-1 — unassigned for")
    page.get_by_role("button", name="Pull next").click()
    expect(banner).to_contain_text("EXP-1 · acknowledged by Ann Person", timeout=5000)
    expect(banner).to_contain_text("not mitigated")

    # The card's panel on the board: the log, break-glass access recorded and ended.
    quiet(page)  # each page's polls stop before the next page: none is cut short
    page.goto(f"{live_server}/b/{board_id}?card={card_id}")
    section = page.locator(f"#incident-{card_id}")
    expect(section.locator(".stage-line")).to_contain_text("acknowledged by Ann Person")
    section.get_by_label("Log entry (internal)").fill("Checkout pods crash-loop on start")
    section.get_by_role("button", name="Add to the log").click()
    expect(section.locator(".timeline")).to_contain_text("Checkout pods crash-loop on start")

    section.get_by_text("Record break-glass access").click()
    section.get_by_label("Who holds it").select_option(label="Ann Person")
    section.get_by_label("On what").fill("orders-db primary, write")
    section.get_by_label("Why", exact=True).fill("unstick the pending orders")
    section.get_by_label("Operations buddy").select_option(label="Lee Person")
    end = (clock.now() + timedelta(hours=2)).astimezone(ZoneInfo(timezone))
    section.get_by_label("Expected end").fill(end.strftime("%Y-%m-%dT%H:%M"))
    section.get_by_role("button", name="Record access").click()
    expect(section.locator(".grant.open")).to_contain_text("orders-db primary, write")
    expect(section.locator(".grant.open")).to_contain_text("still open")
    section.get_by_role("button", name="Access revoked: end it").click()
    expect(section.locator(".grant.open")).to_have_count(0)
    expect(section.locator(".grant")).to_contain_text("revoked as confirmed by Ann Person")

    # Mitigated: the banner goes.
    section.get_by_label("What mitigated it").fill("rolled back to 4.2.1")
    section.get_by_role("button", name="Mitigated").click()
    expect(section.locator(".stage-line")).to_contain_text("mitigated by Ann Person")
    expect(page.locator("#emergency .emergency-banner")).to_have_count(0, timeout=5000)

    # Resolved: moved to Done from the panel.
    page.get_by_label("Move to").select_option(label="Expedite · Done")
    page.get_by_role("button", name="Move", exact=True).click()
    expect(page.locator(f"#incident-{card_id} .stage-line")).to_contain_text("resolved by Ann")

    # The review: one click, written in the template's sections.
    quiet(page)
    page.get_by_role("button", name="Write the post-incident review").click()
    expect(
        page.get_by_role("heading", name=re.compile("Post-incident review: EXP-1"))
    ).to_be_visible()
    answers = {
        "What happened": "Checkout answered 502 after the 4.3 deploy.",
        "Impact": "No orders for 40 minutes.",
        "Contributing factors": "The health check did not cover payments.",
        "What went well": "The rollback took two minutes.",
        "What to change": "Cover payments in the health check.",
    }
    for label, text in answers.items():
        page.get_by_label(label, exact=True).fill(text)
    quiet(page)
    page.get_by_role("button", name="Save the review").click()
    expect(page.locator(".review-page")).to_contain_text("Written ")

    # A follow-up: made permanent, then finished; its status is live on the review.
    follow = page.get_by_label("Follow-up card")
    expect(follow).to_have_value("Make the temporary fix permanent: rolled back to 4.2.1")
    quiet(page)
    page.get_by_role("button", name="Add the follow-up").click()
    items = page.locator(".follow-ups")
    expect(items).to_contain_text("Support · Ready")
    follow_up = items.get_by_role("link", name=re.compile("SUP-")).get_attribute("href")
    quiet(page)
    page.goto(f"{live_server}/b/{board_id}?card={follow_up.rsplit('/', 1)[1]}")
    expect(page.locator(".incident-link")).to_contain_text("A follow-up of EXP-1")
    page.get_by_label("Move to").select_option(label="Support · Done")
    with page.expect_response(re.compile(r"/move$")) as moved:
        page.get_by_role("button", name="Move", exact=True).click()
    assert moved.value.status == 200
    quiet(page)
    page.goto(f"{live_server}/b/{board_id}/incidents/{card_id}/review")
    expect(page.locator(".follow-ups")).to_contain_text("Done")
    quiet(page)  # the page's icons and polls finish before the page is closed
