"""Refusals become HTTP answers blueprint by blueprint: every kind of domain error answers the
status it means (404 not found, 403 not allowed, 409 a stale card, 422 any other refusal)
in every blueprint, with and without htmx. A blueprint with pages shows its own page again
with the message (422, 409); not found and not allowed are the plain message; a blueprint
without a handler of its own gets the app-wide plain message page.

Each case swaps one endpoint's view for one that raises the error, so the mapping is tested
on its own, whatever the services raise today; the last tests take real refusals through.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.helpers import actor, make_board, make_card, make_user
from tracker.domain.errors import (
    DomainError,
    InvalidRequest,
    NotAllowed,
    NotFound,
    StaleCard,
    WipLimitExceeded,
)
from tracker.domain.periods import BadSprint
from tracker.extensions import db
from tracker.web import errors

HX = {"HX-Request": "true"}
STALE = "Someone changed this card while you were editing it."
OVER = "To go over the limit anyway, write why."


@pytest.fixture
def ids(app):
    """A board with a card, and a person who may do everything: its lead and a site admin."""
    with app.app_context():
        board = make_board()
        boss = make_user("boss", board=board, role="lead", admin=True)
        card = make_card(board, actor(boss, "lead"), "feature", "A plain card")
        found = {"board": board.id, "card": card.id, "user": boss.id, "ref": card.ref}
        db.session.remove()
    return found


# Each kind of error, made inside the request (a stale card carries the card it is about),
# with the words its answer shows and the status it means.
ERRORS = {
    "DomainError": (lambda ids: DomainError("plain-domain-refusal"), "plain-domain-refusal", 422),
    "InvalidRequest": (lambda ids: InvalidRequest("invalid-refusal"), "invalid-refusal", 422),
    "BadSprint": (lambda ids: BadSprint("bad-sprint-refusal", "end_on"), "bad-sprint-refusal", 422),
    "WipLimitExceeded": (
        lambda ids: WipLimitExceeded([], overridable=True, reason_given=False),
        OVER,
        422,
    ),
    "StaleCard": (lambda ids: StaleCard(SimpleNamespace(id=ids["card"])), STALE, 409),
    "NotFound": (lambda ids: NotFound("not-found-refusal"), "not-found-refusal", 404),
    "NotAllowed": (lambda ids: NotAllowed("not-allowed-refusal"), "not-allowed-refusal", 403),
}

# endpoint -> (method, path, what only its own page shows again). None: no page of its own,
# the app-wide plain message answers every refusal.
ENDPOINTS = {
    "board.move_card": ("POST", "/b/{board}/cards/{card}/move", 'id="board"'),
    "intake.status_link": ("POST", "/b/{board}/requests/{card}/status-link", 'id="request"'),
    "settings.save": ("POST", "/b/{board}/settings", "<h1>Settings of Team</h1>"),
    "reports.add_sprint": ("POST", "/b/{board}/sprints", "<h1>Sprints of Team</h1>"),
    "admin.set_admin": ("POST", "/admin/people/{user}/admin", "<dt>Username</dt><dd>boss</dd>"),
    "account.change_password": ("POST", "/account/password", "<h2>Change your password</h2>"),
    "boards.create": ("POST", "/boards", "<h1>Your boards</h1>"),
    "audit.show_board": ("GET", "/b/{board}/audit", None),
    "emergency.check": ("GET", "/b/{board}/emergency", None),
    "auth.logout": ("POST", "/logout", None),
}


def test_every_kind_of_domain_error_has_a_status():
    """The table of statuses covers each kind this test raises, and nothing else answers a
    refusal than these four statuses."""
    for name, (_, _, status) in ERRORS.items():
        assert status in (*errors.STATUSES.values(), errors.REFUSED), name
    assert {NotFound: 404, NotAllowed: 403, StaleCard: 409} == errors.STATUSES


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_each_blueprint_maps_each_error(app, client, auth, ids, monkeypatch, endpoint):
    """Every kind of error, with and without htmx, through one endpoint of the blueprint."""
    method, path, own_page = ENDPOINTS[endpoint]
    raising = {}

    def refuse(**_view_args):
        raise raising["error"](ids)

    monkeypatch.setitem(app.view_functions, endpoint, refuse)
    auth.login("boss")
    for kind, (make_error, words, status) in ERRORS.items():
        raising["error"] = make_error
        for htmx in (False, True):
            case = (endpoint, kind, "htmx" if htmx else "page")
            answer = client.open(path.format(**ids), method=method, headers=HX if htmx else {})
            assert answer.status_code == status, (case, answer.text[:300])
            assert words in answer.text, case
            if own_page is None or status in (403, 404):
                # The plain message: a fragment for htmx, else the message page.
                assert ('class="message"' in answer.text) is not htmx, case
                for page in filter(None, (p for _, _, p in ENDPOINTS.values())):
                    assert page not in answer.text, (case, page)
            elif endpoint == "board.move_card" and kind == "StaleCard":
                # The card's panel with its current values, not the whole board.
                assert ids["ref"] in answer.text and 'id="board"' not in answer.text, case
            else:
                assert own_page in answer.text, case
            if own_page is not None and endpoint != "board.move_card":
                assert 'id="board"' not in answer.text, case


def test_a_bad_sprint_is_marked_at_its_field(app, client, auth, ids, monkeypatch):
    def refuse(**_view_args):
        raise BadSprint("ends-before-it-starts", "end_on")

    monkeypatch.setitem(app.view_functions, "reports.add_sprint", refuse)
    auth.login("boss")
    answer = client.post(f"/b/{ids['board']}/sprints", data={"name": "Sprint 9"})
    assert answer.status_code == 422
    # Once at the top, once at the field, and the typed name kept.
    assert answer.text.count("ends-before-it-starts") == 2
    assert 'value="Sprint 9"' in answer.text


def test_a_wip_refusal_a_lead_may_override_offers_the_same_move_again(
    app, client, auth, ids, monkeypatch
):
    def refuse(**_view_args):
        raise WipLimitExceeded([], overridable=True, reason_given=False)

    monkeypatch.setitem(app.view_functions, "board.move_card", refuse)
    auth.login("boss")
    move = f"/b/{ids['board']}/cards/{ids['card']}/move"
    answer = client.post(move, headers=HX, data={"lane_id": "7", "column_id": "8"})
    assert answer.status_code == 422
    assert 'class="override"' in answer.text and f'action="{move}"' in answer.text
    assert 'name="lane_id" value="7"' in answer.text


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_a_bogus_status_link_action_answers_the_request_not_the_board(app, client, auth, ids, htmx):
    auth.login("boss")
    answer = client.post(
        f"/b/{ids['board']}/requests/{ids['card']}/status-link",
        data={"action": "steal"},
        headers=HX if htmx else {},
    )
    assert answer.status_code == 422
    assert "Make or revoke a status link." in answer.text
    assert 'id="request"' in answer.text and ids["ref"] in answer.text
    assert 'id="board"' not in answer.text


def test_a_refused_component_shows_the_settings_not_the_board(app, client, auth, ids):
    auth.login("boss")
    settings = f"/b/{ids['board']}/settings"
    assert client.post(settings + "/components", data={"name": "Checkout"}).status_code == 303
    again = client.post(settings + "/components", data={"name": "checkout"})
    assert again.status_code == 422
    assert "<h1>Settings of Team</h1>" in again.text and 'id="board"' not in again.text
    assert 'value="checkout"' in again.text  # the name as typed, with the refusal by it


def test_a_refused_board_keeps_the_form_and_names_the_time_zone(app, client, auth, ids):
    auth.login("boss")
    answer = client.post("/boards", data={"name": "Elsewhere", "timezone": "Mars/Olympus"})
    assert answer.status_code == 422
    assert "<h1>Your boards</h1>" in answer.text and 'value="Elsewhere"' in answer.text
    assert "Team" in answer.text  # the boards are listed as on the home page
