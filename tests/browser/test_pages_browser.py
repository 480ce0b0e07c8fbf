"""Every kind of page in a real browser, with no console error, failed request or error answer.

The check itself is conftest's autouse `_no_page_errors`; this test only opens each page
(as a lead who is also a site admin, and the public status page signed out) and lets htmx
start on it, so an error that only a browser sees (a CSP refusal, htmx refusing an
attribute, a missing file) fails here.
"""

from __future__ import annotations

import pytest

try:
    from playwright.sync_api import Page, expect
except ImportError:  # conftest's autouse fixture skips these (fails under TRACKER_REQUIRE_BROWSER)
    Page = expect = None

from tests.browser.helpers import log_in
from tests.helpers import REQUEST, actor, make_board, make_card, make_user
from tracker.services import intake, reports
from tracker.services.reports import SprintInput

pytestmark = pytest.mark.browser


@pytest.fixture
def world(live_db) -> dict:
    """A board with a card, a filed request with a status link, a sprint; lee leads the
    board and is a site admin."""
    from datetime import date, timedelta

    board = make_board("Platform")
    lee = make_user("lee", board=board, role="lead", admin=True)
    lead = actor(lee, "lead")
    card = make_card(board, lead, "feature", "Dark mode")
    filed = intake.file_request(board.id, lead, REQUEST, intake.new_intake_key()).card
    token = intake.create_status_link(board.id, lead, filed.id).token
    today = date.today()
    reports.add_sprint(
        board.id, lead, SprintInput("Sprint 1", today, today + timedelta(days=13), 10, None)
    )
    return {
        "board": board.id,
        "card": card.id,
        "request": filed.id,
        "token": token,
        "user": lee.id,
    }


PAGES = (
    "/",
    "/b/{board}",
    "/b/{board}/cards/{card}",
    "/b/{board}/cards/new",
    "/b/{board}/done",
    "/b/{board}/settings",
    "/b/{board}/report",
    "/b/{board}/sprints",
    "/b/{board}/intake",
    "/b/{board}/requests",
    "/b/{board}/requests/{request}",
    "/b/{board}/audit",
    "/admin/people",
    "/admin/people/new",
    "/admin/people/{user}",
    "/admin/boards/{board}/people",
    "/admin/erasure",
    "/admin/audit",
    "/account/password",
)


def visit(page: Page, url: str) -> None:
    answer = page.goto(url)
    assert answer is not None and answer.status == 200, f"{url}: {answer and answer.status}"
    page.wait_for_load_state("load")
    if page.locator("script[src*=htmx]").count():  # the public status page has no script
        page.wait_for_function("() => window.htmx !== undefined")
        page.wait_for_timeout(300)  # htmx processes the page and starts its requests


def test_every_page_opens_without_an_error(page: Page, live_server, world):
    log_in(page, live_server, "lee")
    for path in PAGES:
        visit(page, live_server + path.format(**world))
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    visit(page, f"{live_server}/status/{world['token']}")
    visit(page, f"{live_server}/login")
