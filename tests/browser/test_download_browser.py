"""Download links in a real browser: each one downloads its file and the page stays.

htmx boosts every link of the page; a boosted link to a CSV would swap the file's text in
place of the page (tests/test_links.py checks the markup of every page; this checks what
Chromium does with it).
"""

from __future__ import annotations

import pytest

try:
    from playwright.sync_api import Page, expect
except ImportError:  # conftest's autouse fixture skips these (fails under TRACKER_REQUIRE_BROWSER)
    Page = expect = None

from tests.browser.helpers import log_in, mark_page, same_document
from tests.helpers import actor, make_board, make_card, make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def site(live_db) -> int:
    """A board with a lead, a site admin, and a card (so the audit log has rows)."""
    board = make_board("Platform")
    lee = make_user("lee", board=board, role="lead")
    make_user("ada", admin=True)
    make_card(board, actor(lee, "lead"), "feature", "Dark mode")
    return board.id


@pytest.mark.parametrize(
    ("username", "path", "heading", "link", "filename"),
    [
        ("lee", "/b/{board}/report", "Capacity report", "Download the table as CSV", ".csv"),
        ("lee", "/b/{board}/audit", "Audit log", "Download as CSV", ".csv"),
        ("ada", "/admin/audit", "Audit log", "Download as CSV", ".csv"),
    ],
)
def test_a_download_link_downloads_and_the_page_stays(
    page: Page, live_server, site, username, path, heading, link, filename
):
    log_in(page, live_server, username)
    url = live_server + path.format(board=site)
    page.goto(url)
    page.wait_for_function("() => window.htmx !== undefined")
    mark_page(page)

    with page.expect_download(timeout=5000) as downloading:
        page.get_by_role("link", name=link).click()

    assert downloading.value.suggested_filename.endswith(filename)
    assert page.url == url
    expect(page.get_by_role("heading", name=heading, exact=False).first).to_be_visible()
    assert same_document(page), "the page was replaced"
