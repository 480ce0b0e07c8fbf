"""Every route × every role: the permission table (tracker.web.access.ROUTES) covers the whole URL
map, and the app answers each person as the table and PERMISSIONS say.

The expected answers are derived from ROUTES and PERMISSIONS, so a new route needs only its
row. A few hand-written spot checks below catch a wrong table as well.
"""

from __future__ import annotations

import pytest
from werkzeug.routing import Rule

from tests.helpers import IDENTITIES, REQUEST, ROLES, Auth, build_world, expected, url_for_rule
from tests.helpers import app_config as config_for
from tracker import create_app
from tracker.domain.vocabulary import TokenScope
from tracker.extensions import db
from tracker.models import Board, User
from tracker.services import tokens
from tracker.web.access import ADMIN, BEARER, LOGIN, PERMISSIONS, PUBLIC, ROUTES

METHODS = ("GET", "POST")


def answer_matches(kind: str, response, htmx: bool, endpoint: str = "") -> bool:
    status = response.status_code
    if kind == "login" and endpoint.startswith("api."):
        # The API takes no session: anonymous callers get 401 with a JSON error.
        return status == 401 and response.json["error"] == "unauthorized"
    if kind == "allowed":
        # 422 (and 409) is "allowed, but that input does not do": the empty forms sent here.
        return 200 <= status < 400 or status in (409, 422)
    if kind == "forbidden":
        return status == 403
    if kind == "token":  # no bearer token sent: 401 in JSON, whoever is logged in
        return status == 401 and response.is_json
    if kind == "hidden":
        return status == 404
    if htmx:
        return status == 401 and response.headers.get("HX-Redirect", "").startswith("/login")
    return status == 302 and response.headers["Location"].startswith("/login")


def logged_in_clients(app) -> dict[str | None, object]:
    clients = {None: app.test_client()}
    for name in IDENTITIES:
        client = app.test_client()
        assert Auth(client).login(name).status_code == 302, name
        # The API (tracker.web.api) reads no session: each person calls it with a token of
        # their own (read-write, so only their role narrows what they may do).
        with app.app_context():
            user = db.session.execute(db.select(User).filter_by(username=name)).scalar_one()
            secret = tokens.create_token(user, "walk", TokenScope.READ_WRITE, None).secret
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
        clients[name] = client
    return clients


def targets(app) -> list[tuple[Rule, str]]:
    """Every (rule, method) to try; logging out last, since it ends the session."""
    pairs = [
        (rule, method)
        for rule in app.url_map.iter_rules()
        for method in METHODS
        if method in rule.methods
    ]
    return sorted(pairs, key=lambda pair: (pair[0].endpoint == "auth.logout", pair[0].rule))


def test_every_endpoint_has_a_row_and_every_row_an_endpoint(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert sorted(endpoints - ROUTES.keys()) == [], "add them to web.access.ROUTES"
    assert sorted(ROUTES.keys() - endpoints) == [], "ROUTES names endpoints that do not exist"
    bad = {e: r for e, r in ROUTES.items() if r not in (PUBLIC, LOGIN, ADMIN, BEARER, *PERMISSIONS)}
    assert bad == {}, "a rule must be public, login, admin or a PERMISSIONS name"


@pytest.mark.slow("postgres")
def test_every_route_answers_every_identity_as_the_table_says(app):
    with app.app_context():
        world = build_world()
    clients = logged_in_clients(app)
    wrong, tried = [], 0
    for rule, method in targets(app):
        for identity, client in clients.items():
            with app.app_context():
                url = url_for_rule(world, rule)
            kind = expected(rule.endpoint, identity)
            # Anonymous people are tried as htmx too (401 + HX-Redirect instead of 302).
            for htmx in (False, True) if identity is None else (False,):
                headers = {"HX-Request": "true"} if htmx else {}
                response = client.open(url, method=method, data={}, headers=headers)
                response.close()  # static files are streamed from an open file
                tried += 1
                matches = answer_matches(kind, response, htmx, rule.endpoint)
                if response.status_code >= 500 or not matches:
                    who = identity or ("anonymous htmx" if htmx else "anonymous")
                    wrong.append(
                        f"{method} {url} ({rule.endpoint}) as {who}: "
                        f"expected {kind}, got {response.status_code}"
                    )
    assert wrong == [], "\n".join(wrong)
    assert tried >= len(ROUTES) * len(clients)


def test_an_endpoint_without_a_row_is_refused_and_unknown_urls_stay_404(app_session):
    app = create_app(config_for(app_session.config["SQLALCHEMY_DATABASE_URI"]))

    @app.get("/_unlisted")
    def unlisted():
        return "should never be served"

    client = app.test_client()
    response = client.get("/_unlisted")
    assert response.status_code == 403 and "never" not in response.text
    assert client.get("/no/such/page").status_code == 404
    assert client.get("/logout").status_code == 405  # a rule matched, the method did not


# Hand-written facts, independent of the table: a wrong ROUTES or PERMISSIONS fails here.


@pytest.fixture
def world(app):
    with app.app_context():
        return build_world()


def as_(app, name):
    client = app.test_client()
    assert Auth(client).login(name).status_code == 302
    return client


def test_viewer_cannot_move_a_card_but_a_member_can(app, world):
    with app.app_context():
        card_id = world.file_request()
    url = f"/b/{world.board_id}/cards/{card_id}/move"
    assert as_(app, "viewer").post(url, data={"target": ""}).status_code == 403
    assert as_(app, "member").post(url, data={"target": ""}).status_code in (303, 422)


def test_support_can_file_a_request_but_not_move_or_edit_cards(app, world):
    support = as_(app, "support")
    form = support.get(f"/b/{world.board_id}/intake")
    assert form.status_code == 200
    key = form.text.split('name="intake_key"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
    filed = support.post(
        f"/b/{world.board_id}/intake", data=REQUEST | {"intake_key": key, "component": "Other"}
    )
    assert filed.status_code == 303, filed.text
    card_id = int(filed.headers["Location"].rsplit("/", 1)[1])
    base = f"/b/{world.board_id}/cards/{card_id}"
    assert support.post(base + "/move", data={"target": ""}).status_code == 403
    assert support.post(base + "/edit", data={"title": "x"}).status_code == 403
    assert support.post(f"/b/{world.board_id}/pull").status_code == 403
    assert support.get(f"/b/{world.board_id}").status_code == 200  # reads the board


def test_only_leads_reach_settings(app, world):
    url = f"/b/{world.board_id}/settings"
    assert as_(app, "lead").get(url).status_code == 200
    for name in ("member", "support", "viewer", "admin"):
        assert as_(app, name).get(url).status_code == 403, name
    assert as_(app, "outsider").get(url).status_code == 404
    assert as_(app, "member").post(url + "/mail/retry").status_code == 403


def test_only_admins_create_boards(app, world):
    for name in ROLES:
        assert as_(app, name).post("/boards", data={"name": "Mine"}).status_code == 403, name
    made = as_(app, "admin").post("/boards", data={"name": "Mine", "timezone": "UTC"})
    assert made.status_code == 303
    with app.app_context():
        names = set(db.session.execute(db.select(Board.name)).scalars())
    assert "Mine" in names


def test_viewers_and_members_cannot_manage_sprints_and_support_sees_no_reports(app, world):
    url = f"/b/{world.board_id}/sprints"
    assert as_(app, "lead").get(url).status_code == 200
    assert as_(app, "member").get(url).status_code == 403
    assert as_(app, "viewer").get(f"/b/{world.board_id}/report").status_code == 200
    assert as_(app, "support").get(f"/b/{world.board_id}/report").status_code == 403


def test_the_card_page_without_htmx_shows_the_panel_as_markup(app, world):
    """The full card page (no JavaScript) includes the panel: real forms, not escaped text."""
    with app.app_context():
        card_id = world.file_request()
    page = as_(app, "member").get(f"/b/{world.board_id}/cards/{card_id}")
    assert f'action="/b/{world.board_id}/cards/{card_id}/move"' in page.text
    assert "&lt;form" not in page.text
