"""The Flow page in a real browser, on the demo board: every chart drawn, CSS applied
(no console error, nothing blocked by the content security policy), the lane filter."""

from __future__ import annotations

import os
import re

import pytest
from sqlalchemy import select

try:
    from playwright.sync_api import Page, expect
except ImportError:  # conftest's autouse fixture skips these (fails under TRACKER_REQUIRE_BROWSER)
    Page = expect = None

from tests.browser.helpers import submit_login
from tracker import demo
from tracker.extensions import db
from tracker.models import Board

pytestmark = pytest.mark.browser

CHARTS = ("cfd", "cycle", "throughput", "aging", "blocked", "pareto", "forecast")


@pytest.fixture
def demo_board(live_db) -> int:
    demo.seed()
    board_id = db.session.execute(select(Board.id)).scalar_one()
    db.session.remove()
    return board_id


def test_a_viewer_opens_flow_on_the_demo_and_sees_each_chart(page: Page, live_server, demo_board):
    page.goto(f"{live_server}/b/{demo_board}")
    submit_login(page, "vic", demo.DEMO_PASSWORD)  # the demo's viewer
    page.get_by_role("link", name="Flow", exact=True).click()

    expect(page.get_by_role("heading", name=re.compile("^Flow: "))).to_be_visible()
    for chart in CHARTS:
        svg = page.locator(f"#flow-{chart} figure.chart svg").first
        svg.scroll_into_view_if_needed()
        expect(svg).to_be_visible()
    # Drawn, with the lanes' colours from the stylesheet (not the browser's black default).
    expect(page.locator("#flow-cfd polygon.band")).to_have_count(4)
    assert page.locator("#flow-cycle circle.dot.support").count() > 0
    fill = page.locator("#flow-cycle circle.dot.support").first.evaluate(
        "el => getComputedStyle(el).fill"
    )
    assert fill not in ("rgb(0, 0, 0)", "")
    expect(page.locator("#pareto-sentence")).to_contain_text("behind 80%")
    expect(page.locator("#forecast-sentence")).to_contain_text("50% likely")
    if os.environ.get("TRACKER_FLOW_SCREENSHOT"):
        page.screenshot(path=os.environ["TRACKER_FLOW_SCREENSHOT"], full_page=True)

    page.get_by_label("Cumulative flow of").select_option("feature")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", name="Cumulative flow: Feature lane")).to_be_visible()
