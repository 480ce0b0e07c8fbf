"""The capacity report in a real browser: the demo's report, its chart, and changing N."""

from __future__ import annotations

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
from tracker.services import reports
from tracker.web.presenters.report import fmt

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_board(live_db) -> int:
    """The demo board with its sixteen weeks of history and its sprints."""
    demo.seed()
    board_id = db.session.execute(select(Board.id)).scalar_one()
    db.session.remove()
    return board_id


def expected(board_id: int) -> tuple[str, str]:
    """The headline (the demo runs a support rotation: it holds back the larger of the
    rotation's cover and yesterday's weather) and the rotation box's comparison."""
    db.session.remove()
    report = reports.build_report(db.session.get(Board, board_id))
    headline = f"Hold back {fmt(report.headline.hold_back)} person-days for support next sprint"
    return headline, report.rotation.cover.sentence()


def test_the_lead_opens_the_demo_report_and_changes_n(page: Page, live_server, demo_board):
    page.goto(f"{live_server}/b/{demo_board}")
    submit_login(page, "lead", demo.DEMO_PASSWORD)
    expect(page.locator("#board")).to_be_visible()
    page.get_by_role("link", name="Report").click()

    expect(page.get_by_role("heading", name=re.compile("Capacity report"))).to_be_visible()
    chart = page.locator("figure.chart svg")
    expect(chart).to_be_visible()
    expect(chart.locator("rect.seg.support").first).to_be_visible()
    expect(chart.locator("line.allowance")).to_have_count(1)
    allowance = page.locator("#allowance .big")
    cover = page.locator("#rotation .big")
    before, weather_before = expected(demo_board)
    expect(allowance).to_contain_text(before)
    expect(allowance).to_contain_text("for features")
    expect(cover).to_contain_text(weather_before)

    page.get_by_label("Average over the last N finished periods").fill("1")
    page.get_by_role("button", name="Save report settings").click()

    expect(page.get_by_text("Report settings saved.")).to_be_visible()
    after, weather_after = expected(demo_board)
    assert weather_after != weather_before, "N = 1 should give another allowance on the demo"
    expect(allowance).to_contain_text(after)
    expect(cover).to_contain_text(weather_after)
    expect(page.locator("#allowance")).to_contain_text("over the last 1 finished sprint")
