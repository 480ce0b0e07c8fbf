"""The support rotation in a real browser: a lead sets it up and swaps two people, the
board's header says who is on duty, and Pull next follows the rotation for a person on
duty and one off duty."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

try:
    from playwright.sync_api import Page, expect
except ImportError:  # conftest's autouse fixture skips these (fails under TRACKER_REQUIRE_BROWSER)
    Page = expect = None

from tests.browser.helpers import card_place, close, log_in
from tests.helpers import actor, make_board, make_card, make_user
from tracker.extensions import db
from tracker.models import RotationTerm, User
from tracker.services import rotation

pytestmark = pytest.mark.browser


@dataclass
class Team:
    board_id: int
    support: int
    feature: int


@pytest.fixture
def team(live_db) -> Team:
    """lee leads; ann, mia and noor are members; a support and a feature card wait."""
    board = make_board("Rota")
    lee = make_user("lee", board=board, role="lead")
    for name in ("ann", "mia", "noor"):
        make_user(name, board=board, role="member")
    support = make_card(board, actor(lee, "lead"), "support", "Login fails")
    feature = make_card(board, actor(lee, "lead"), "feature", "Dark mode")
    team = Team(board.id, support.id, feature.id)
    db.session.remove()
    return team


def people_on_terms(board_id: int) -> list[str]:
    db.session.remove()
    rows = db.session.execute(
        select(User.username)
        .join(RotationTerm, RotationTerm.user_id == User.id)
        .where(RotationTerm.board_id == board_id)
        .order_by(RotationTerm.start_on, RotationTerm.seat)
    )
    return list(rows.scalars())


def test_a_lead_sets_up_the_rotation_swaps_two_people_and_the_board_says_who_is_on_duty(
    page: Page, live_server, team
):
    log_in(page, live_server, "lee", team.board_id)
    page.get_by_role("link", name="Rotation").click()
    expect(page.get_by_role("heading", name="Support rotation of Rota")).to_be_visible()
    page.get_by_label("Run a support rotation").check()
    page.get_by_label("On duty at once").fill("1")
    page.get_by_label("Term length").fill("1")
    for name in ("Ann Person", "Mia Person", "Noor Person"):
        page.get_by_label(name).check()
    page.get_by_role("button", name="Save rotation").click()
    expect(page.get_by_text("Rotation saved.")).to_be_visible()
    schedule = page.locator("table.rotation-terms")
    expect(schedule.locator("tbody tr").first).to_contain_text("Ann Person")
    assert people_on_terms(team.board_id)[:3] == ["ann", "mia", "noor"]

    page.get_by_label("Term", exact=True).select_option(index=0)
    page.get_by_label("with term").select_option(index=2)
    page.get_by_role("button", name="Swap").click()
    expect(page.get_by_text("Terms swapped.")).to_be_visible()
    assert people_on_terms(team.board_id)[:3] == ["noor", "mia", "ann"]

    page.get_by_role("link", name="Board", exact=True).click()
    expect(page.locator("p.duty")).to_contain_text("On support duty: Noor Person (until")
    expect(page.locator("p.duty")).to_contain_text("next: Mia Person from")


def test_pull_next_follows_the_rotation_on_and_off_duty(page: Page, browser, live_server, team):
    lee = db.session.execute(select(User).where(User.username == "lee")).scalar_one()
    noor = db.session.execute(select(User).where(User.username == "noor")).scalar_one()
    rotation.save_setup(
        team.board_id,
        actor(lee, "lead"),
        enabled=True,
        on_duty=1,
        term_periods=1,
        staggered=False,
        pool=[noor.id],
    )
    db.session.remove()

    # ann is off duty: she gets the feature card, and the support card stays in Ready.
    log_in(page, live_server, "ann", team.board_id)
    expect(page.locator("p.duty")).to_contain_text("On support duty: Noor Person")
    page.get_by_role("button", name="Pull next").click()
    expect(page.locator("#notices")).to_contain_text("You pulled FEAT-1")
    assert card_place(team.feature) == ("Feature", "In progress", "ann")
    assert card_place(team.support) == ("Support", "Ready", None)

    # noor is on duty: support first.
    other = browser.new_context()
    noor_page = other.new_page()
    log_in(noor_page, live_server, "noor", team.board_id)
    noor_page.get_by_role("button", name="Pull next").click()
    expect(noor_page.locator("#notices")).to_contain_text("You pulled SUP-1")
    assert card_place(team.support) == ("Support", "In progress", "noor")
    close(other)
