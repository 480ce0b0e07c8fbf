"""Where logging in leads: only to a page of this site. A hostile `next` (another site in
any spelling, a script URL, control characters) falls back to the home page, and a fragment
URL (the board's live poll, the emergency banner poll) never becomes the place a person
lands: a logged-out htmx request sends them back to the page they are on."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.helpers import PASSWORD, build_world, make_board, make_user, url_for_rule
from tracker.services import boards
from tracker.web.access import FRAGMENT_ONLY, NOT_PAGES, ROUTES
from tracker.web.auth import local_path

HX = {"HX-Request": "true"}
HOME = "/"

HOSTILE = [
    "/\\evil.example/",
    "/\\/evil.example/",
    "\\\\evil.example",
    "\\/evil.example",
    "/\\\\evil.example",
    "//evil.example",
    "///evil.example",
    "////evil.example/x",
    "/%5Cevil.example",
    "/%5C%5Cevil.example",
    "%5C%5Cevil.example",
    "/%2F/evil.example",
    "%2F%2Fevil.example",
    "javascript:alert(1)",
    "JavaScript:alert(document.cookie)",
    "/javascript:alert(1)#x\\",
    "data:text/html,<script>alert(1)</script>",
    "http://evil.example/",
    "https://evil.example/b/1",
    "http:/evil.example",
    "http:evil.example",
    "//evil.example@127.0.0.1/",
    "/\t/evil.example",
    "\t//evil.example",
    "/\r\nSet-Cookie: x=y",
    "/b/1\r\nLocation: http://evil.example",
    "/\n/evil.example",
    "/\x00/evil.example",
    "/%00/b/1",
    "/%0d%0aSet-Cookie:%20x=y",
    " //evil.example",
    " /\\evil.example",
    "\u3000//evil.example",
    "/\u2028/evil.example",
    "/" + "a" * 5000,
    "//" + "a" * 5000,
    "",
    "evil.example",
]

PAGES = ["/", "/b/1", "/b/1?q=export&mine=1", "/b/1/cards/2", "/b/1/report", "/b/1?q=a%20b"]


@pytest.mark.parametrize("target", PAGES)
def test_a_local_path_is_kept(target):
    assert local_path(target) == target


@pytest.mark.parametrize("target", HOSTILE)
def test_a_hostile_target_is_no_local_path(target):
    assert local_path(target) is None


@pytest.fixture
def ann(board):
    """The board ann is on, as a member (the conftest board, with lee, its lead)."""
    return board["board"]


def log_in(client, target, htmx):
    return client.post(
        "/login",
        query_string={"next": target},
        data={"username": "ann", "password": PASSWORD},
        headers=HX if htmx else {},
    )


def where_to(answer, htmx) -> str:
    assert answer.status_code < 500
    if htmx:
        assert answer.status_code == 200 and "Location" not in answer.headers
        return answer.headers["HX-Redirect"]
    assert answer.status_code == 302
    return answer.headers["Location"]


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize("target", HOSTILE)
def test_a_hostile_next_leads_home_never_off_site(app, ann, target, htmx):
    """Home for ann, on one board, is that board (see the landing tests below)."""
    answer = log_in(app.test_client(), target, htmx)
    assert where_to(answer, htmx) == f"/b/{ann}"


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_a_next_page_on_this_site_is_where_login_leads(app, ann, htmx):
    for target in (f"/b/{ann}", f"/b/{ann}?q=export%20bug&mine=1", f"/b/{ann}/report"):
        assert where_to(log_in(app.test_client(), target, htmx), htmx) == target


def test_the_not_pages_are_get_endpoints_and_fragments_are_board_pages(app):
    rules = {rule.endpoint: rule for rule in app.url_map.iter_rules()}
    for endpoint in NOT_PAGES:
        assert endpoint in ROUTES and "GET" in rules[endpoint].methods, endpoint
    for endpoint in FRAGMENT_ONLY:
        assert endpoint in NOT_PAGES and "board_id" in rules[endpoint].arguments, endpoint


def full_page(answer) -> bool:
    return (
        answer.status_code == 200
        and answer.mimetype == "text/html"
        and answer.text.lstrip().lower().startswith("<!doctype html")
    )


def downloaded(answer) -> bool:
    return answer.status_code == 200 and "attachment" in answer.headers.get(
        "Content-Disposition", ""
    )


def test_every_get_endpoint_is_a_page_or_listed_as_not_one(app):
    """Walk the URL map: every GET endpoint outside NOT_PAGES answers a whole page (or a
    download) without htmx, so the list of what is not a page is complete."""
    with app.app_context():
        world = build_world()
    lead, admin = app.test_client(), app.test_client()
    for client, name in ((lead, "lead"), (admin, "admin")):
        assert client.post("/login", data={"username": name, "password": PASSWORD}).status_code
    wrong = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "auth.logout":
            continue
        with app.app_context():
            url = url_for_rule(world, rule)
        client = admin if ROUTES[rule.endpoint] == "admin" else lead
        answer = client.get(url)
        answer.get_data()  # before closing: static files are streamed from an open file
        answer.close()
        is_page = full_page(answer) or downloaded(answer)
        if not is_page and rule.endpoint not in NOT_PAGES:
            wrong.append(f"{rule.endpoint} {url}: {answer.status_code}, page={is_page}")
    assert wrong == [], "\n".join(wrong)


def next_of(login_url: str) -> str | None:
    parts = urlsplit(login_url)
    assert parts.path == "/login" and not parts.netloc
    values = parse_qs(parts.query).get("next")
    return values[0] if values else None


def every_target(app, world):
    for rule in app.url_map.iter_rules():
        for method in ("GET", "POST"):
            # The API answers programs (401 JSON, see tests/test_api.py), not people.
            api = rule.endpoint.startswith("api.")
            if (
                method in rule.methods
                and ROUTES[rule.endpoint] not in ("public", "bearer")
                and not api
            ):
                with app.app_context():
                    url = url_for_rule(world, rule)
                yield rule, method, url  # outside the app context: requests push their own


def test_logged_out_htmx_requests_send_people_back_to_the_page_they_are_on(app):
    """Every route, asked by htmx after the session ended: the login's next is the page in
    HX-Current-URL, never the fragment URL asked for."""
    with app.app_context():
        world = build_world()
    page = f"/b/{world.board_id}?q=export"
    wrong = []
    for _rule, method, url in every_target(app, world):
        headers = {**HX, "HX-Current-URL": f"http://localhost{page}"}
        answer = app.test_client().open(url, method=method, headers=headers)
        if answer.status_code != 401 or next_of(answer.headers["HX-Redirect"]) != page:
            wrong.append(f"{method} {url}: {answer.status_code} {answer.headers}")
    assert wrong == [], "\n".join(wrong)


@pytest.mark.parametrize(
    "current", [None, "http://evil.example/b/1", "http://localhost/b/1/live?v=1", "not a url"]
)
def test_without_a_usable_current_page_the_next_is_still_a_page(app, current):
    """No HX-Current-URL, one of another site, or a fragment: next is the board page (for a
    board route) or left out, and logging in with it lands on a whole page."""
    with app.app_context():
        world = build_world()
    wrong = []
    for rule, method, url in every_target(app, world):
        headers = {**HX, "HX-Current-URL": current} if current else HX
        # htmx, and (once: it sends no current page) a plain request too
        for sent in (headers, {}) if current is None else (headers,):
            client = app.test_client()
            answer = client.open(url, method=method, headers=sent)
            login = answer.headers.get("HX-Redirect") or answer.headers.get("Location", "")
            assert login, f"{method} {url} {sent}: {answer.status_code}"
            next_of(login)  # a login URL of this site
            name = "admin" if ROUTES[rule.endpoint] == "admin" else "lead"
            landed = client.post(login, data={"username": name, "password": PASSWORD})
            final = client.get(landed.headers["Location"])
            if not (full_page(final) or downloaded(final)):
                wrong.append(f"{method} {url} ({sent}): lands on {landed.headers['Location']}")
    assert wrong == [], "\n".join(wrong)


@pytest.mark.parametrize("endpoint", sorted(FRAGMENT_ONLY))
@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_login_with_a_fragment_next_lands_on_its_board(app, ann, endpoint, htmx):
    with app.test_request_context():
        from flask import url_for

        fragment = url_for(endpoint, board_id=ann, v=3)
    client = app.test_client()
    assert where_to(log_in(client, fragment, htmx), htmx) == f"/b/{ann}"
    assert full_page(client.get(f"/b/{ann}"))


# --- Where logging in lands when no page was asked for -----------------------------------


def landing(app, username, target=None, htmx=False) -> str:
    client = app.test_client()
    query = {"next": target} if target is not None else {}
    answer = client.post(
        "/login",
        query_string=query,
        data={"username": username, "password": PASSWORD},
        headers=HX if htmx else {},
    )
    return where_to(answer, htmx)


@pytest.fixture
def people(app):
    """one: on one board (of two); both: on both; none: on no board; root: an admin on one."""
    with app.app_context():
        team, other = make_board("Team"), make_board("Other")
        make_user("one", board=team, role="viewer")
        boards.set_membership(other, make_user("both", board=team, role="support"), "member")
        make_user("none")
        make_user("root", board=team, role="lead", admin=True)
        return {"team": team.id, "other": other.id}


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize("target", [None, "", "/", "//evil.example"])
def test_someone_on_exactly_one_board_lands_on_it(app, people, target, htmx):
    assert landing(app, "one", target, htmx) == f"/b/{people['team']}"


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_the_page_asked_for_still_wins_over_the_one_board(app, people, htmx):
    for target in (f"/b/{people['team']}/done", f"/b/{people['team']}?q=x", "/account/password"):
        assert landing(app, "one", target, htmx) == target


@pytest.mark.parametrize("username", ["both", "none", "root"])
def test_several_boards_none_or_an_admin_land_on_the_list(app, people, username):
    """Several boards: which one is the person's to choose; none: the list says to ask an
    admin; an admin makes boards on that page."""
    assert landing(app, username) == HOME
    assert landing(app, username, "/") == HOME


def test_opening_the_site_and_logging_in_opens_the_one_board(app, people):
    """What a new user does: open the address, get the login form, log in."""
    client = app.test_client()
    asked = client.get("/")
    assert asked.status_code == 302 and next_of(asked.headers["Location"]) == HOME
    answer = client.post(asked.headers["Location"], data={"username": "one", "password": PASSWORD})
    assert answer.headers["Location"] == f"/b/{people['team']}"
    assert full_page(client.get(answer.headers["Location"]))
    # Logged in already, the login page sends them there too; the list is still reachable.
    assert client.get("/login").headers["Location"] == f"/b/{people['team']}"
    assert "Your boards" in client.get(HOME).text
