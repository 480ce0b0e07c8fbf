"""The support desk in a real browser: a support person works from the Requests queue:
filters it, opens a request, answers with a canned reply, sets it to wait for the
requester; the requester answers on the status page and the request is back in the queue
as received."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

try:
    from playwright.sync_api import Page, expect
except ImportError:  # conftest's autouse fixture skips these (fails under TRACKER_REQUIRE_BROWSER)
    Page = expect = None

from tests.browser.helpers import close, log_in
from tests.helpers import REQUEST, actor, make_board, make_user
from tracker.extensions import db
from tracker.models import Comment
from tracker.services import desk, intake

pytestmark = pytest.mark.browser


@pytest.fixture
def desk_board(live_db) -> dict:
    """A board with a lead (lee) who keeps a canned reply, and support staff (sam) who
    filed three requests."""
    board = make_board("Platform")
    lee = actor(make_user("lee", board=board, role="lead"), "lead")
    sam = actor(make_user("sam", board=board, role="support"), "support")
    desk.add_canned_reply(board.id, lee, "Need the browser", "Which browser do you use?")
    ids = {"board": board.id}
    for title, severity in (("Checkout fails", "S2"), ("Typo in footer", "S4"), ("Slow", "S3")):
        values = REQUEST | {"title": title, "severity": severity}
        ids[title] = intake.file_request(board.id, sam, values, intake.new_intake_key()).card.id
    ids["token"] = intake.create_status_link(board.id, sam, ids["Checkout fails"]).token
    return ids


def test_support_works_a_request_from_the_queue(page: Page, live_server, desk_board):
    log_in(page, live_server, "sam", desk_board["board"])
    page.get_by_role("link", name="Requests", exact=True).click()
    expect(page.get_by_role("heading", name="Requests on Platform")).to_be_visible()
    expect(page.locator("tbody tr")).to_have_count(3)

    # Filter: only the S2s.
    page.get_by_label("Severity").select_option("S2")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"severity=S2"))

    # Open it and answer with the canned reply: it fills the reply box (and makes it a reply).
    page.get_by_role("link", name=re.compile("Checkout fails")).click()
    expect(page.get_by_role("heading", name=re.compile("Checkout fails"))).to_be_visible()
    page.get_by_label("Canned reply").select_option(label="Need the browser")
    box = page.get_by_role("textbox", name="Comment")
    expect(box).to_have_value("Which browser do you use?")
    expect(page.get_by_label(re.compile("Reply to the requester"))).to_be_checked()
    page.get_by_role("button", name="Add comment").click()
    expect(page.locator("#request .notice")).to_contain_text("Reply added")
    expect(page.locator("#request .targets")).to_contain_text("First response: met")

    # It waits for the requester now.
    page.get_by_role("button", name="Wait for the requester").click()
    expect(page.locator("#request .status")).to_have_text("waiting for the requester")

    # The requester answers on the status page (no login).
    requester = page.context.browser.new_context().new_page()
    requester.goto(f"{live_server}/status/{desk_board['token']}")
    expect(requester.get_by_text("The team is waiting for your answer")).to_be_visible()
    expect(requester.locator(".comment")).to_contain_text("Which browser do you use?")
    requester.get_by_label("Your reply").fill("Firefox 140 on Windows.")
    requester.get_by_role("button", name="Send the reply").click()
    expect(requester.locator(".comment.from-requester")).to_contain_text("Firefox 140")
    close(requester.context)

    # Back in the queue: received again, and the requester's words are in the thread.
    page.goto(f"{live_server}/b/{desk_board['board']}/queue?status=received")
    row = page.locator("tbody tr", has_text="Checkout fails")
    expect(row).to_contain_text("received")
    db.session.remove()
    mine = db.session.execute(select(Comment).where(Comment.from_requester)).scalar_one()
    assert mine.body == "Firefox 140 on Windows."
