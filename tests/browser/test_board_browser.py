"""The board in a real browser: login, Pull next, drag and drop, a refused drag, the keyboard.

These need JavaScript (htmx swaps, SortableJS), so they drive Chromium; everything else
about the board is covered faster by the view tests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from sqlalchemy import select

try:
    from playwright.sync_api import Page, expect
except ImportError:  # conftest's autouse fixture skips these (fails under TRACKER_REQUIRE_BROWSER)
    Page = expect = None

from tests.browser.helpers import card_place, cell, drag, log_in, mark_page, quiet, same_document
from tests.helpers import actor, make_board, make_card, make_user
from tracker.extensions import db
from tracker.models import Board, User
from tracker.services import boards

pytestmark = pytest.mark.browser


@dataclass
class Setup:
    board_id: int
    cards: dict[str, int]  # title -> id


def with_role(username: str, board_id: int, role: str) -> None:
    db.session.remove()
    user = db.session.execute(select(User).where(User.username == username)).scalar_one()
    boards.set_membership(db.session.get(Board, board_id), user, role)
    db.session.commit()


@pytest.fixture
def team(live_db) -> Setup:
    """A fresh board with a member, ann, and a support and two feature cards in Ready."""
    board = make_board("Platform")
    ann = make_user("ann", board=board, role="member")
    who = actor(ann)
    ids = {
        title: make_card(board, who, kind, title).id
        for kind, title in (
            ("support", "Printer on fire"),
            ("feature", "Dark mode"),
            ("feature", "Export to CSV"),
        )
    }
    return Setup(board.id, ids)


def test_log_in_through_the_form_and_see_the_board(page: Page, live_server, team):
    log_in(page, live_server, "ann", team.board_id)

    expect(page).to_have_url(f"{live_server}/b/{team.board_id}")
    expect(page.get_by_role("heading", name="Platform")).to_be_visible()
    expect(page.get_by_role("button", name="Pull next")).to_be_visible()
    expect(cell(page, "Support", "Ready")).to_contain_text("Printer on fire")
    expect(cell(page, "Feature", "Ready")).to_contain_text("Dark mode")
    expect(page.locator(".who")).to_have_accessible_name("Ann Person")


def test_pull_next_shows_the_card_in_progress_without_a_reload(page: Page, live_server, team):
    log_in(page, live_server, "ann", team.board_id)
    mark_page(page)

    page.get_by_role("button", name="Pull next").click()

    expect(page.locator("#notices")).to_contain_text("You pulled SUP-1: Printer on fire")
    expect(cell(page, "Support", "In progress")).to_contain_text("Printer on fire")
    expect(cell(page, "Support", "Ready")).not_to_contain_text("Printer on fire")
    expect(page.locator("#lane-support .wip")).to_have_text("1 / 3")
    assert same_document(page), "the board was reloaded instead of swapped"
    assert card_place(team.cards["Printer on fire"]) == ("Support", "In progress", "ann")


def test_drag_a_card_to_another_column(page: Page, live_server, team):
    log_in(page, live_server, "ann", team.board_id)
    mark_page(page)
    source = cell(page, "Feature", "Ready").locator(".card", has_text="Export to CSV")
    target = cell(page, "Feature", "In progress")

    with page.expect_request(re.compile(r"/cards/\d+/move$")) as sent:
        drag(page, source.locator(".t"), target)

    # CSRF is on: the drop carries no csrf_token field, so the header alone got it accepted.
    request = sent.value
    assert request.headers.get("x-csrftoken"), "the drop was posted without the CSRF header"
    assert "csrf_token" not in (request.post_data or "")
    expect(page.locator("#notices")).to_contain_text("Moved FEAT-2 to Feature · In progress.")
    # Nobody held it: the person who dragged it into progress does now, and is told so.
    expect(page.locator("#notices")).to_contain_text("It is yours now")
    expect(target.locator(".card", has_text="Export to CSV").locator("abbr")).to_have_text("AP")
    expect(target).to_contain_text("Export to CSV")
    expect(cell(page, "Feature", "Ready")).not_to_contain_text("Export to CSV")
    expect(cell(page, "Feature", "Ready")).to_contain_text("Dark mode")
    assert same_document(page)
    assert card_place(team.cards["Export to CSV"]) == ("Feature", "In progress", "ann")
    assert card_place(team.cards["Dark mode"])[:2] == ("Feature", "Ready")


def test_drags_in_a_row_redraw_only_the_cells_they_change(page: Page, live_server, team):
    """A drop from a current page is answered with the cells it changed, swapped in out of
    band: the redrawn cells take the next drag, and the page's version moves on with them,
    so the live poll finds nothing new."""
    log_in(page, live_server, "ann", team.board_id)
    mark_page(page)
    steps = (("Ready", "In progress"), ("In progress", "Review"))
    for source_column, target_column in steps:
        source = cell(page, "Feature", source_column).locator(".card", has_text="Export to CSV")
        target = cell(page, "Feature", target_column)
        with page.expect_response(re.compile(r"/cards/\d+/move$")) as answered:
            drag(page, source.locator(".t"), target)
        answer = answered.value
        assert answer.request.headers.get("x-board-version"), "the page's version was not sent"
        assert answer.headers.get("hx-reswap") == "none", "the whole board came back"
        expect(page.locator("#notices")).to_contain_text(f"to Feature · {target_column}.")
        expect(target).to_contain_text("Export to CSV")
        expect(cell(page, "Feature", source_column)).not_to_contain_text("Export to CSV")
    expect(page.locator("#lane-feature .wip")).to_have_text("1 / 4")
    with page.expect_response(re.compile(r"/live\?v=\d+"), timeout=5000) as polled:
        pass
    assert polled.value.status == 204, "the live poll thought the page was behind"
    assert same_document(page)
    assert card_place(team.cards["Export to CSV"])[:2] == ("Feature", "Review")


CELL_ORDER = """() => [...document.querySelectorAll('ol.cell')].map(
    ol => ol.getAttribute('aria-label') + ': ' + [...ol.children].map(li => li.id).join(' '))"""


def served_order(page: Page, board_url: str) -> list[str]:
    """Each cell's tiles as a fresh read of the board gives them (CELL_ORDER's shape), asked
    with the page's cookies but outside the page: a reload would cut its live poll short."""
    html = page.request.get(board_url, headers={"HX-Request": "true"}).text()
    cells = re.findall(r'<ol class="cell"[^>]*aria-label="([^"]*)">(.*?)</ol>', html, re.S)
    return [
        f"{label}: " + " ".join(re.findall(r'<li class="card[^"]*" id="(card-\d+)"', body))
        for label, body in cells
    ]


def test_drops_between_cards_leave_every_cell_as_a_fresh_read_shows_it(
    page: Page, live_server, team
):
    """A drop's answer deletes the card's tile and puts it back after the card above it
    (or first in its cell): the tile ends where the server put it, not where it fell."""
    with_role("ann", team.board_id, "member")
    db.session.remove()
    board = db.session.get(Board, team.board_id)
    who = actor(db.session.execute(select(User).filter_by(username="ann")).scalar_one())
    for title in ("Audit log", "Search index"):
        make_card(board, who, "feature", title, at="In progress")
    log_in(page, live_server, "ann", team.board_id)
    mark_page(page)
    board_url = f"{live_server}/b/{team.board_id}"
    progress = cell(page, "Feature", "In progress")
    moves = (
        # Ready's last card onto the last of In progress: it goes after a card.
        (cell(page, "Feature", "Ready"), "Export to CSV", progress.locator(".card").last),
        # In progress's second card to the top of its own cell.
        (progress, "Search index", progress.locator(".card").first),
    )
    places = []
    for source_cell, title, onto in moves:
        source = source_cell.locator(".card", has_text=title)
        with page.expect_response(re.compile(r"/cards/\d+/move$")) as answered:
            drag(page, source.locator(".t"), onto)
        assert answered.value.headers.get("hx-reswap") == "none", "the whole board came back"
        places += re.findall(r'hx-swap-oob="(after\w+):', answered.value.text())
        expect(page.locator("#notices")).to_contain_text("Moved FEAT-")
        page.wait_for_function("() => !document.querySelector('.sortable-chosen')")
        assert page.evaluate(CELL_ORDER) == served_order(page, board_url)
        assert same_document(page)
    assert places == ["afterend", "afterbegin"]  # after a card, then first in its cell


@pytest.fixture
def full_lane(live_db) -> Setup:
    """Feature lane at its strict limit of 1 (one card in progress), one more card in Ready."""
    board = make_board("Platform", feature=1)
    bea = make_user("bea", board=board, role="member")
    who = actor(bea)
    busy = make_card(board, who, "feature", "Search index", at="In progress")
    waiting = make_card(board, who, "feature", "Audit log")
    return Setup(board.id, {busy.title: busy.id, waiting.title: waiting.id})


@pytest.mark.allow_status(422)  # the refused drop
def test_a_drag_into_a_full_lane_is_refused_and_the_card_goes_back(
    page: Page, live_server, full_lane
):
    log_in(page, live_server, "bea", full_lane.board_id)
    expect(page.locator("#lane-feature .wip")).to_have_text("1 / 1")
    source = cell(page, "Feature", "Ready").locator(".card", has_text="Audit log")
    target = cell(page, "Feature", "In progress")

    with page.expect_response(re.compile(r"/cards/\d+/move$")) as answered:
        drag(page, source.locator(".t"), target)

    assert answered.value.status == 422
    alert = page.locator("#notices [role=alert]")
    expect(alert).to_contain_text("Feature is at its WIP limit, 1 of 1")
    expect(alert).to_contain_text("Only a lead can override this limit.")
    expect(alert.locator("form.override")).to_have_count(0)  # strict, and bea is no lead
    expect(cell(page, "Feature", "Ready")).to_contain_text("Audit log")
    expect(target.locator(".card")).to_have_count(1)
    expect(target).to_contain_text("Search index")
    assert card_place(full_lane.cards["Audit log"])[:2] == ("Feature", "Ready")


@pytest.mark.allow_status(403)  # demoted while the page was open
def test_a_drop_the_server_rejects_puts_the_card_back_with_a_message(page: Page, live_server, team):
    log_in(page, live_server, "ann", team.board_id)
    with_role("ann", team.board_id, "viewer")  # demoted while the page was open
    source = cell(page, "Feature", "Ready").locator(".card", has_text="Dark mode")

    with page.expect_response(re.compile(r"/cards/\d+/move$")) as answered:
        drag(page, source.locator(".t"), cell(page, "Feature", "In progress"))

    assert answered.value.status == 403
    expect(page.locator("#notices [role=alert]")).to_contain_text(
        "Your role on this board does not allow that. The card is back where it was."
    )
    expect(cell(page, "Feature", "Ready").locator(".card .t")).to_have_text(
        ["Dark mode", "Export to CSV"]
    )
    expect(cell(page, "Feature", "In progress").locator(".card")).to_have_count(0)
    assert card_place(team.cards["Dark mode"])[:2] == ("Feature", "Ready")


def test_move_a_card_with_the_keyboard(page: Page, live_server, team):
    log_in(page, live_server, "ann", team.board_id)
    card_id = team.cards["Dark mode"]
    link = cell(page, "Feature", "Ready").locator(".card", has_text="Dark mode").locator("a.ref")

    link.focus()
    page.keyboard.press("Enter")
    panel = page.locator("#panel")
    expect(panel.get_by_role("heading", name="FEAT-1 Dark mode")).to_be_visible()

    select = page.locator(f"#move-{card_id}")
    for _ in range(80):  # Tab along until the "Move to" select has the focus
        if page.evaluate("document.activeElement.id") == f"move-{card_id}":
            break
        page.keyboard.press("Tab")
    expect(select).to_be_focused()
    expect(select.locator("option:checked")).to_have_text("Feature · Ready")
    page.keyboard.press("ArrowDown")
    expect(select.locator("option:checked")).to_have_text("Feature · In progress")
    page.keyboard.press("Tab")
    expect(panel.get_by_role("button", name="Move", exact=True)).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.locator("#notices")).to_contain_text("Moved FEAT-1 to Feature · In progress.")
    expect(cell(page, "Feature", "In progress")).to_contain_text("Dark mode")
    expect(cell(page, "Feature", "Ready")).not_to_contain_text("Dark mode")
    expect(panel).to_contain_text("Feature · In progress")
    assert card_place(card_id)[:2] == ("Feature", "In progress")


def test_the_panel_forms_work_the_moment_the_panel_appears(page: Page, live_server, team):
    """A quick hand submits before any settle delay: the move must still be an htmx request.

    htmx wires up swapped-in forms when the swap settles (20 ms later by default); a form
    submitted in between would post as a plain form and leave the board for the card page.
    """
    log_in(page, live_server, "ann", team.board_id)
    card_id = team.cards["Dark mode"]
    mark_page(page)
    cell(page, "Feature", "Ready").locator(".card", has_text="Dark mode").locator("a.ref").click()
    # Submit in the same frame the select first shows up, as fast as any person could.
    page.wait_for_function(
        """id => {
            const select = document.getElementById(id);
            if (!select) return false;
            select.value = select.querySelector('option:nth-child(10)').value;
            select.form.requestSubmit();
            return true;
        }""",
        arg=f"move-{card_id}",
        polling="raf",
    )
    expect(page.locator("#notices")).to_contain_text("Moved FEAT-1 to Feature · In progress.")
    expect(cell(page, "Feature", "In progress")).to_contain_text("Dark mode")
    assert same_document(page)


def test_the_board_runs_under_the_content_security_policy(page: Page, live_server, team):
    """No inline script or style: the strict CSP blocks nothing the board needs."""
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    log_in(page, live_server, "ann", team.board_id)
    page.get_by_role("button", name="Pull next").click()
    expect(page.locator("#notices")).to_contain_text("You pulled")
    page.locator("#board a.ref").first.click()
    expect(page.locator(".card-detail")).to_be_visible()
    assert violations == []


def test_an_open_card_has_its_own_address_and_back_closes_it(page: Page, live_server, team):
    log_in(page, live_server, "ann", team.board_id)
    card_id = team.cards["Dark mode"]
    board_url = f"{live_server}/b/{team.board_id}"
    heading = page.locator("#panel").get_by_role("heading", name="FEAT-1 Dark mode")
    cell(page, "Feature", "Ready").locator(".card", has_text="Dark mode").locator("a.ref").click()
    expect(heading).to_be_visible()
    expect(page).to_have_url(f"{board_url}?card={card_id}")
    # Back and forth within the page: htmx asks the server for each address again.
    mark_page(page)
    page.go_back()
    expect(page).to_have_url(board_url)
    expect(page.locator("#panel .card-detail")).to_have_count(0)
    page.go_forward()
    expect(heading).to_be_visible()
    assert same_document(page)
    quiet(page)
    page.reload()  # the address, loaded afresh: the board with the card open
    expect(heading).to_be_visible()
    quiet(page)
    page.go_back()
    expect(page).to_have_url(board_url)
    expect(page.locator("#panel .card-detail")).to_have_count(0)
    expect(cell(page, "Feature", "Ready")).to_contain_text("Dark mode")
    quiet(page)
    page.go_forward()
    expect(page).to_have_url(f"{board_url}?card={card_id}")
    expect(heading).to_be_visible()
