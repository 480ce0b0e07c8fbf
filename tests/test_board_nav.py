"""Every page of a board carries the board's navigation, the same links the board page has
for that person (their role decides which), with the page they are on marked; and every
page of the site has exactly one h1. Both walk the URL map, so a new page is checked too."""

from __future__ import annotations

import re

import pytest

from tests.helpers import PASSWORD, build_world, expected, url_for_rule
from tracker.web.access import ADMIN, NOT_PAGES, ROUTES

NAV = re.compile(r'<nav class="board-nav" aria-label="Board">.*?</nav>', re.S)
CURRENT = ' aria-current="page"'


def pages(app, world, *, board_only: bool):
    """(endpoint, url) of every GET page (no fragment, no file) outside the admin area."""
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in NOT_PAGES:
            continue
        if board_only and ("board_id" not in rule.arguments or ROUTES[rule.endpoint] == ADMIN):
            continue
        with app.app_context():
            yield rule.endpoint, url_for_rule(world, rule)


def whole_page(answer) -> bool:
    return answer.status_code == 200 and answer.text.lstrip().lower().startswith("<!doctype")


@pytest.fixture
def world(app):
    with app.app_context():
        return build_world()


@pytest.mark.parametrize("who", ["lead", "member", "support", "viewer", "admin"])
def test_every_board_page_has_the_board_pages_nav(app, world, who):
    client = app.test_client()
    client.post("/login", data={"username": who, "password": PASSWORD})
    board_nav = NAV.search(client.get(f"/b/{world.board_id}").text).group(0)
    assert board_nav.count(CURRENT) == 1  # Board, on the board page
    seen, wrong = [], []
    for endpoint, url in pages(app, world, board_only=True):
        if expected(endpoint, who) != "allowed":
            continue
        answer = client.get(url)
        if not whole_page(answer):
            continue  # a download (CSV)
        seen.append(endpoint)
        nav = NAV.findall(answer.text)
        if len(nav) != 1 or nav[0].replace(CURRENT, "") != board_nav.replace(CURRENT, ""):
            wrong.append(f"{endpoint} {url}: {nav}")
        elif f'href="{url.partition("?")[0]}"' in nav[0] and CURRENT not in nav[0]:
            wrong.append(f"{endpoint} {url}: its own link is not marked current")
    assert wrong == [], "\n".join(wrong)
    # The pages the issue named, at least, for whoever may open them.
    assert "board.show_card" in seen and "board.archive" in seen
    if who == "lead":
        assert {"settings.show", "reports.sprints", "reports.show", "audit.show_board"} <= set(seen)


def test_every_page_has_exactly_one_h1(app, world):
    """Walked as a lead (board pages) and an admin (admin pages), plain (not htmx)."""
    lead, admin = app.test_client(), app.test_client()
    for client, name in ((lead, "lead"), (admin, "admin")):
        client.post("/login", data={"username": name, "password": PASSWORD})
    wrong = []
    for endpoint, url in pages(app, world, board_only=False):
        client = admin if ROUTES[endpoint] == ADMIN else lead
        answer = client.get(url)
        if whole_page(answer) and len(re.findall(r"<h1[ >]", answer.text)) != 1:
            wrong.append(f"{endpoint} {url}: {len(re.findall(r'<h1[ >]', answer.text))} h1")
    assert wrong == [], "\n".join(wrong)
