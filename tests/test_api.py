"""The JSON API (tracker.web.api): tokens, every route by role and scope, the domain's
refusals as structured errors, pagination, ETags, and the OpenAPI document."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine

from tests.helpers import (
    PASSWORD,
    REQUEST,
    ROLES,
    Auth,
    BoardSpec,
    CardSpec,
    actor,
    app_config,
    column,
    make_card,
    new_app,
)
from tracker import clock
from tracker.domain.vocabulary import TokenScope
from tracker.extensions import db
from tracker.models import ApiToken, AuditEvent, User
from tracker.services import tokens
from tracker.web.access import ROUTES
from tracker.web.api.spec import REGISTRY

API = "/api/v1"


@pytest.fixture
def board_spec():
    people = {role: role for role in ROLES} | {"outsider": None}
    return BoardSpec(
        limits={"feature": 1},
        people=people,
        cards=(
            CardSpec("ready", "feature", "Export to CSV", by="member"),
            CardSpec("doing", "feature", "Import from CSV", at="In progress", by="member"),
            CardSpec("other", "support", "Printer on fire", by="member"),
        ),
    )


def token_for(app, username: str, scope: str = TokenScope.READ_WRITE, expires=None) -> str:
    with app.app_context():
        user = db.session.execute(db.select(User).filter_by(username=username)).scalar_one()
        return tokens.create_token(user, f"{username} script", scope, expires).secret


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def call(app, client, board):
    """call(username, method, path, json=..., scope=...): the API as that person."""
    made: dict = {}

    def go(username, method, path, *, scope=TokenScope.READ_WRITE, headers=None, **kwargs):
        key = (username, scope)
        if key not in made:
            made[key] = token_for(app, username, scope)
        url = path if path.startswith("/") else f"{API}/boards/{board['board']}/{path}"
        return client.open(
            url, method=method, headers=bearer(made[key]) | (headers or {}), **kwargs
        )

    return go


# Tokens -----------------------------------------------------------------------------------


def test_a_token_is_shown_once_stored_hashed_and_audited(app, client, board):
    Auth(client).login("member")
    page = client.post("/account/tokens", data={"name": "ci", "scope": TokenScope.READ})
    assert page.status_code == 201
    secret = page.text.split('id="new-token">', 1)[1].split("<", 1)[0]
    assert secret.startswith("wbpat_") and len(secret) > 40
    again = client.get("/account/password")
    assert secret not in again.text and secret[:12] in again.text
    with app.app_context():
        row = db.session.execute(db.select(ApiToken)).scalar_one()
        assert row.token_hash != secret and secret not in row.token_hash
        audit = db.session.execute(db.select(AuditEvent.action, AuditEvent.detail)).all()
    assert [a for a, _ in audit if a.startswith("token.")] == ["token.created"]
    assert secret not in str(audit)
    answer = client.get(f"{API}/boards", headers=bearer(secret))
    assert answer.status_code == 200 and answer.json["items"][0]["role"] == "member"


def test_a_bad_token_form_is_422_with_the_field(app, client, board):
    Auth(client).login("member")
    assert client.post("/account/tokens", data={"name": "", "scope": "read"}).status_code == 422
    past = (date.today() - timedelta(days=1)).isoformat()
    refused = client.post(
        "/account/tokens", data={"name": "x", "scope": "read", "expires_on": past}
    )
    assert refused.status_code == 422 and "after today" in refused.text


def test_revoked_expired_unknown_and_malformed_tokens_get_401(app, client, board):
    secret = token_for(app, "member")
    url = f"{API}/boards"
    assert client.get(url, headers=bearer(secret)).status_code == 200
    for bad in ("", "Bearer", "Bearer nope", f"Basic {secret}", f"Bearer {secret}x"):
        answer = client.get(url, headers={"Authorization": bad})
        assert answer.status_code == 401, bad
        assert answer.json["error"] == "unauthorized"
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    Auth(client).login("member")
    with app.app_context():
        token_id = db.session.execute(db.select(ApiToken.id)).scalar_one()
    client.post(f"/account/tokens/{token_id}/revoke")
    assert client.get(url, headers=bearer(secret)).status_code == 401
    with app.app_context():
        actions = db.session.execute(db.select(AuditEvent.action)).scalars().all()
    assert "token.revoked" in actions
    soon = token_for(app, "member", expires=date.today() + timedelta(days=1))
    assert client.get(url, headers=bearer(soon)).status_code == 200
    with time_machine.travel(clock.now() + timedelta(days=2)):
        assert client.get(url, headers=bearer(soon)).status_code == 401


def test_nobody_revokes_another_persons_token(app, client, board):
    token_for(app, "lead")
    with app.app_context():
        token_id = db.session.execute(db.select(ApiToken.id)).scalar_one()
    Auth(client).login("member")
    answer = client.post(f"/account/tokens/{token_id}/revoke", follow_redirects=True)
    assert "There is no such token." in answer.text
    with app.app_context():
        assert db.session.get(ApiToken, token_id).revoked_at is None


def test_a_deactivated_person_s_token_stops_working(app, client, board):
    secret = token_for(app, "member")
    with app.app_context():
        user = db.session.execute(db.select(User).filter_by(username="member")).scalar_one()
        user.active = False
        db.session.commit()
    assert client.get(f"{API}/boards", headers=bearer(secret)).status_code == 401


def test_the_session_cookie_never_authenticates_the_api(app, client, board):
    """A logged-in browser (cookie) gets 401 from the API, reads and writes alike: no
    cross-site form can act through it, so the API needs no CSRF token."""
    Auth(client).login("lead")
    assert client.get(f"{API}/boards").status_code == 401
    url = f"{API}/boards/{board['board']}/pull"
    assert client.post(url).status_code == 401


def test_the_last_use_is_noted_at_most_once_a_minute(app, client, board):
    secret = token_for(app, "member")
    client.get(f"{API}/boards", headers=bearer(secret))
    with app.app_context():
        first = db.session.execute(db.select(ApiToken.last_used_at)).scalar_one()
    assert first is not None
    client.get(f"{API}/boards", headers=bearer(secret))
    with app.app_context():
        assert db.session.execute(db.select(ApiToken.last_used_at)).scalar_one() == first


def test_each_token_is_rate_limited(app, board):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    limited_app = new_app(app_config(url, RATELIMIT_ENABLED=True, API_RATE_PER_TOKEN="3/minute"))
    client = limited_app.test_client()
    one, other = token_for(app, "member"), token_for(app, "lead")
    answers = [client.get(f"{API}/boards", headers=bearer(one)).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    limited = client.get(f"{API}/boards", headers=bearer(one))
    assert limited.json["error"] == "rate_limited"
    assert client.get(f"{API}/boards", headers=bearer(other)).status_code == 200


# Every route, by role and scope -----------------------------------------------------------

# A valid body for each write (the walk checks the guard, not the rule: 409/422 are allowed).
BODIES = {
    "api.create_card": lambda ids: {"lane_id": ids["feature_lane"], "title": "From a script"},
    "api.edit_card": lambda ids: {"version": 1, "title": "Renamed"},
    "api.move_card": lambda ids: {"lane_id": ids["support_lane"], "column_id": ids["Ready"]},
    "api.assign_card": lambda ids: {"assignee_id": None},
    "api.block_card": lambda ids: {"blocked": True, "reason": "waiting"},
    "api.close_card": lambda ids: {"why": "duplicate", "note": "twice"},
    "api.reopen_card": lambda ids: {"why": "again"},
    "api.comment_card": lambda ids: {"body": "Noted."},
    "api.file_request": lambda ids: dict(REQUEST, severity="S3"),
    "api.reply_request": lambda ids: {"body": "On it."},
}


def api_targets(app) -> list[tuple[str, str, str]]:
    """(endpoint, method, rule) of every API route."""
    return sorted(
        (rule.endpoint, method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    )


def test_every_api_route_answers_each_role_and_scope_as_the_policy_says(app, call, board):
    from tracker.domain import tokens as rules

    with app.app_context():
        request_id = _file(app, board, "S1")  # an incident too (Expedite)
    ids = board | {"card": request_id}
    wrong = []
    for endpoint, method, rule in api_targets(app):
        permission = ROUTES[endpoint]
        for username in (*ROLES, "outsider"):
            for scope in TokenScope:
                url = rule.replace("<int:board_id>", str(ids["board"]))
                url = url.replace("<int:card_id>", str(ids["card"]))
                url = url.replace("<int:incident_id>", str(ids["card"]))
                body = BODIES.get(endpoint, lambda _ids: None)(ids)
                answer = call(username, method, url, scope=scope, json=body)
                if permission in ("public", "login"):
                    ok = answer.status_code < 400
                elif username == "outsider":
                    ok = answer.status_code == 404
                elif rules.may(scope, username, permission):
                    ok = answer.status_code < 400 or answer.status_code in (409, 422)
                else:
                    ok = answer.status_code == 403 and answer.json["error"] == "forbidden"
                if not ok or answer.status_code >= 500:
                    wrong.append(f"{method} {url} as {username}/{scope}: {answer.status_code}")
    assert wrong == []


def _file(app, board, severity: str = "S3") -> int:
    from tracker.services import intake

    support = db.session.get(User, board["support"])
    key = intake.new_intake_key()
    filed = dict(REQUEST, severity=severity)
    return intake.file_request(board["board"], actor(support, "support"), filed, key).card.id


def test_a_read_token_reads_but_never_writes(call, board):
    assert call("lead", "GET", "cards", scope=TokenScope.READ).status_code == 200
    refused = call("lead", "POST", "pull", scope=TokenScope.READ)
    assert refused.status_code == 403 and refused.json["error"] == "forbidden"
    assert call("lead", "POST", "pull").status_code == 200


def test_a_token_never_exceeds_its_person_s_role(call, board):
    assert call("viewer", "POST", "pull").status_code == 403
    assert (
        call(
            "support",
            "POST",
            f"cards/{board['ready']}/move",
            json={"lane_id": board["feature_lane"], "column_id": board["Review"]},
        ).status_code
        == 403
    )
    assert call("support", "POST", "requests", json=dict(REQUEST, severity="S3")).status_code == 201


# Reads ------------------------------------------------------------------------------------


def test_boards_lanes_columns_and_a_card_with_history_and_comments(call, board):
    boards = call("member", "GET", f"{API}/boards").json["items"]
    assert [(b["id"], b["role"]) for b in boards] == [(board["board"], "member")]
    shown = (
        call("member", "GET", "").json
        if False
        else call("member", "GET", f"{API}/boards/{board['board']}").json
    )
    assert [lane["kind"] for lane in shown["lanes"]] == ["expedite", "support", "feature"]
    assert call("member", "GET", "lanes").json["items"] == shown["lanes"]
    assert call("member", "GET", "columns").json["items"] == shown["columns"]
    call("member", "POST", f"cards/{board['ready']}/comments", json={"body": "Looks small."})
    card = call("member", "GET", f"cards/{board['ready']}").json
    assert card["title"] == "Export to CSV" and card["created_at"].endswith("Z")
    assert [e["kind"] for e in card["history"]][0] == "created"
    assert [c["body"] for c in card["comments"]] == ["Looks small."]


def test_cards_are_listed_with_the_board_s_filters_a_page_at_a_time(call, board):
    everything = call("member", "GET", "cards").json
    assert {c["title"] for c in everything["items"]} == {
        "Export to CSV",
        "Import from CSV",
        "Printer on fire",
    }
    assert everything["next_cursor"] is None
    support = call("member", "GET", "cards?lane=support").json["items"]
    assert [c["title"] for c in support] == ["Printer on fire"]
    found = call("member", "GET", "cards?q=csv").json["items"]
    assert {c["title"] for c in found} == {"Export to CSV", "Import from CSV"}
    assert call("member", "GET", "cards?who=me").json["items"] == []
    call("member", "POST", f"cards/{board['doing']}/assign", json={"assignee_id": board["member"]})
    mine = call("member", "GET", "cards?who=me").json["items"]
    assert [c["title"] for c in mine] == ["Import from CSV"]
    first = call("member", "GET", "cards?limit=2").json
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = call("member", "GET", f"cards?limit=2&cursor={first['next_cursor']}").json
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    seen = [c["id"] for c in first["items"] + rest["items"]]
    assert seen == sorted(seen) and len(set(seen)) == 3
    # a filtered list pages the same way
    feature = call("member", "GET", "cards?lane=feature&limit=1").json
    assert len(feature["items"]) == 1 and feature["next_cursor"]
    cursor = feature["next_cursor"]
    last = call("member", "GET", f"cards?lane=feature&limit=1&cursor={cursor}").json
    assert last["next_cursor"] is None
    both = {c["title"] for c in feature["items"] + last["items"]}
    assert both == {"Export to CSV", "Import from CSV"}
    bad = call("member", "GET", "cards?cursor=nonsense")
    assert bad.status_code == 422 and "cursor" in bad.json["fields"]
    assert call("member", "GET", "cards?limit=0").status_code == 422


def test_reads_carry_an_etag_and_answer_304_until_something_changes(call, board):
    first = call("member", "GET", "cards")
    tag = first.headers["ETag"]
    again = call("member", "GET", "cards", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.data == b""
    call("member", "POST", f"cards/{board['ready']}/block", json={"blocked": True, "reason": "x"})
    assert call("member", "GET", "cards", headers={"If-None-Match": tag}).status_code == 200


# Writes and refusals ----------------------------------------------------------------------


def test_create_edit_move_assign_block_close_reopen(call, board):
    made = call("member", "POST", "cards", json={"lane_id": board["feature_lane"], "title": "T"})
    assert made.status_code == 201
    card = made.json
    edited = call(
        "member",
        "PATCH",
        f"cards/{card['id']}",
        json={"version": card["version"], "title": "Better", "estimate": 3},
    )
    assert edited.status_code == 200 and edited.json["title"] == "Better"
    moved = call(
        "member",
        "POST",
        f"cards/{card['id']}/move",
        json={"lane_id": board["support_lane"], "column_id": board["Review"]},
    )
    assert moved.status_code == 200, moved.json
    assert (
        moved.json["column_id"] == board["Review"]
        and moved.json["assignee"]["username"] == "member"
    )
    shown = call("member", "GET", f"cards/{card['id']}").json
    assert {k: v for k, v in shown.items() if k not in ("history", "comments")} == moved.json
    assigned = call(
        "member", "POST", f"cards/{card['id']}/assign", json={"assignee_id": board["lead"]}
    )
    assert assigned.json["assignee"]["username"] == "lead"
    blocked = call(
        "member", "POST", f"cards/{card['id']}/block", json={"blocked": True, "reason": "API"}
    )
    assert blocked.json["blocked"] is True
    closed = call(
        "member", "POST", f"cards/{card['id']}/close", json={"why": "wont_do", "note": "no"}
    )
    assert closed.json["status"] == "closed"
    reopened = call("member", "POST", f"cards/{card['id']}/reopen", json={"why": "yes after all"})
    assert reopened.json["status"] == "open" and reopened.json["column_id"] == board["Ready"]


def test_a_move_over_a_wip_limit_is_409_with_the_limits(call, board):
    refused = call(
        "member",
        "POST",
        f"cards/{board['ready']}/move",
        json={"lane_id": board["feature_lane"], "column_id": board["In progress"]},
    )
    assert refused.status_code == 409
    body = refused.json
    assert body["error"] == "wip_limit" and "Feature" in body["message"]
    assert body["limits"] == [
        {"scope": "lane", "name": "Feature", "count": 1, "limit": 1, "mode": "strict"}
    ]
    assert body["overridable"] is False
    card = call("member", "GET", f"cards/{board['ready']}").json
    assert card["column_id"] == board["Ready"]  # nothing changed
    over = call(
        "lead",
        "POST",
        f"cards/{board['ready']}/move",
        json={
            "lane_id": board["feature_lane"],
            "column_id": board["In progress"],
            "reason": "hotfix",
        },
    )
    assert over.status_code == 200


def test_an_edit_of_a_stale_version_is_409_with_the_current_card(call, board):
    card = call("member", "GET", f"cards/{board['ready']}").json
    call("lead", "PATCH", f"cards/{card['id']}", json={"version": card["version"], "title": "A"})
    stale = call(
        "member", "PATCH", f"cards/{card['id']}", json={"version": card["version"], "title": "B"}
    )
    assert stale.status_code == 409
    assert stale.json["error"] == "stale_version"
    assert stale.json["card"]["title"] == "A" and stale.json["card"]["version"] > card["version"]


def test_bad_input_is_422_with_a_message_per_field(call, board):
    answer = call("member", "POST", "cards", json={"lane_id": "x", "title": "", "colour": 1})
    assert answer.status_code == 422 and answer.json["error"] == "invalid"
    assert {"lane_id", "title", "colour"} <= set(answer.json["fields"])
    not_json = call("member", "POST", "cards", data="title=x")
    assert not_json.status_code == 422 and "" in not_json.json["fields"]
    refused = call("member", "POST", f"cards/{board['ready']}/block", json={"blocked": True})
    assert refused.status_code == 422 and refused.json["error"] == "refused"


def test_unknown_and_foreign_ids_are_404(app, call, board):
    with app.app_context():
        other = make_board_elsewhere()
    for path in (
        f"{API}/boards/{other['board']}",
        f"{API}/boards/{other['board']}/cards",
        f"cards/{other['card']}",
        "cards/999999",
        f"requests/{board['ready']}",  # a card, not a request
        f"requests/{other['card']}",
    ):
        answer = call("lead", "GET", path)
        assert answer.status_code == 404 and answer.json["error"] == "not_found", path
    moved = call(
        "lead",
        "POST",
        f"cards/{other['card']}/move",
        json={"lane_id": board["feature_lane"], "column_id": board["Ready"]},
    )
    assert moved.status_code == 404
    foreign_lane = call("lead", "POST", "cards", json={"lane_id": other["lane"], "title": "x"})
    assert foreign_lane.status_code in (404, 422)
    assert call("lead", "GET", f"{API}/nowhere").json["error"] == "not_found"
    wrong_method = call("lead", "DELETE", f"{API}/boards")
    assert wrong_method.status_code == 405 and wrong_method.json["error"] == "method_not_allowed"
    assert "GET" in wrong_method.headers["Allow"]


def make_board_elsewhere() -> dict:
    from tests.helpers import make_board, make_card, make_user

    other = make_board("Elsewhere")
    owner = make_user("owner", board=other, role="member")
    card = make_card(other, actor(owner), "support", "Theirs")
    return {"board": other.id, "card": card.id, "lane": other.lanes[0].id}


def test_pull_next_gives_a_card_or_says_why(call, board):
    pulled = call("lead", "POST", "pull").json
    assert pulled["card"]["title"] == "Printer on fire"
    assert pulled["card"]["assignee"]["username"] == "lead"
    nothing = call("lead", "POST", "pull").json
    assert nothing["card"] is None and nothing["reasons"]


def test_file_a_request_once_read_it_and_reply(call, board):
    body = dict(REQUEST, severity="S1", key="k" * 40)
    filed = call("support", "POST", "requests", json=body)
    assert filed.status_code == 201 and filed.json["created"] is True
    assert filed.json["card"]["ref"].startswith("EXP-")
    again = call("support", "POST", "requests", json=body)
    assert again.status_code == 200 and again.json["card"]["id"] == filed.json["card"]["id"]
    card_id = filed.json["card"]["id"]
    replied = call("member", "POST", f"requests/{card_id}/replies", json={"body": "Looking."})
    assert replied.status_code == 201 and replied.json["visibility"] == "reply"
    shown = call("support", "GET", f"requests/{card_id}").json
    assert shown["status"] == "received" and shown["card"]["comments"][0]["body"] == "Looking."


def test_the_rotation_read_out(app, call, board):
    from tracker.services import rotation

    assert call("viewer", "GET", "rotation").json == {
        "enabled": False,
        "on_duty": [],
        "next": [],
        "terms": [],
    }
    with app.app_context():
        lead = actor(db.session.get(User, board["lead"]), "lead")
        rotation.save_setup(
            board["board"],
            lead,
            enabled=True,
            on_duty=1,
            term_periods=1,
            staggered=False,
            pool=[board["lead"], board["member"]],
        )
    shown = call("viewer", "GET", "rotation").json
    assert shown["enabled"] is True and len(shown["on_duty"]) == 1 and shown["terms"]


def _an_incident(app, board) -> int:
    """An S1 in Expedite that the member pulls, holds break-glass access for, mitigates and
    resolves, with a follow-up card; its id."""
    from tracker.models import Board
    from tracker.services import cards, incidents, reviews

    with app.app_context():
        member = actor(db.session.get(User, board["member"]))
        row = db.session.get(Board, board["board"])
        s1 = make_card(row, member, "expedite", "Checkout down", severity="S1")
        cards.pull_next(row.id, member)
        now = clock.now()
        given = incidents.GrantInput(
            holder_id=member.id,
            target="orders-db primary, write",
            why="fix the stuck orders",
            buddy_id=None,
            buddy_name="Ops Olga",
            granted_at=now,
            expected_end=now + timedelta(hours=2),
        )
        grant = incidents.record_grant(row.id, member, s1.id, given)
        incidents.end_grant(row.id, member, grant.id)
        incidents.mitigate(row.id, member, s1.id, "rolled back to 4.2.1")
        cards.move_card(row.id, member, s1.id, lane_id=s1.lane_id, column_id=column(row, "Done").id)
        reviews.add_follow_up(row.id, member, s1.id, "Make the fix permanent", "support")
        card_id = s1.id
        db.session.remove()
    return card_id


def test_the_incident_read_outs(app, call, board):
    assert call("viewer", "GET", "incidents").json == {"items": [], "next_cursor": None}
    card_id = _an_incident(app, board)
    shown = call("viewer", "GET", f"incidents/{card_id}")
    assert shown.status_code == 200
    found = shown.json
    assert found["card"]["id"] == card_id and found["stage"] == "resolved"
    assert [s["stage"] for s in found["stages"]] == [
        "opened",
        "acknowledged",
        "mitigated",
        "resolved",
    ]
    assert found["stages"][2]["note"] == "rolled back to 4.2.1"
    assert found["stages"][1]["by_id"] == board["member"]
    (grant,) = found["grants"]
    assert grant["target"] == "orders-db primary, write" and grant["buddy"] == "Ops Olga"
    assert grant["open"] is False and grant["ended_at"] and grant["confirmed_revoked_by"]
    assert found["review"] is None and found["drill"] is False
    assert [f["title"] for f in found["follow_ups"]] == ["Make the fix permanent"]
    listed = call("viewer", "GET", "incidents").json
    assert [(i["card_id"], i["stage"], i["open_grants"]) for i in listed["items"]] == [
        (card_id, "resolved", 0)
    ]
    assert listed["items"][0]["mitigated_at"] and listed["next_cursor"] is None
    # A card that never was an incident, another board's card, an unknown id: 404.
    for other in (board["ready"], 2_147_483_647):
        missing = call("viewer", "GET", f"incidents/{other}")
        assert missing.status_code == 404 and missing.json["error"] == "not_found"
    # The span is checked: the wrong way round, or longer than a year, is 422 on `since`.
    today = date.today()
    for since, until in ((today, today - timedelta(days=1)), (today - timedelta(days=400), today)):
        refused = call("viewer", "GET", f"incidents?since={since}&until={until}")
        assert refused.status_code == 422 and "since" in refused.json["fields"]
    for edge in ("since=0001-01-01", "until=9999-12-31", "until=0001-03-01", "since=1999-12-31"):
        refused = call("viewer", "GET", f"incidents?{edge}")
        assert refused.status_code == 422 and edge.split("=")[0] in refused.json["fields"]
    long_ago = call("viewer", "GET", f"incidents?until={today - timedelta(days=200)}")
    assert long_ago.json["items"] == []


def test_incidents_are_listed_newest_first_a_page_at_a_time(app, call, board):
    made = [_an_incident(app, board) for _ in range(3)]
    seen, cursor = [], None
    for _ in range(4):
        page = call("viewer", "GET", "incidents?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        seen += [i["card_id"] for i in page.json["items"]]
        cursor = page.json["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(made, reverse=True)
    bad = call("viewer", "GET", "incidents?cursor=nope")
    assert bad.status_code == 422 and "cursor" in bad.json["fields"]


# The document -----------------------------------------------------------------------------


def test_every_api_route_is_in_the_openapi_document(app, client):
    document = client.get(f"{API}/openapi.json").json
    assert document["openapi"].startswith("3.1")
    documented = {
        (path, method.upper())
        for path, operations in document["paths"].items()
        for method in operations
    }
    import re

    routed = {
        (re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(API + "/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routed and routed == documented
    assert {rule.endpoint for rule in app.url_map.iter_rules() if rule.rule.startswith(API)} <= set(
        REGISTRY
    )


def test_with_csrf_on_a_bearer_call_needs_no_csrf_token_and_a_cookie_still_gets_nothing(app, board):
    """The one app with CSRF on: the API's writes work with a token alone (the blueprint is
    exempt), and a logged-in browser's cookie does not reach them."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    strict = new_app(app_config(url, WTF_CSRF_ENABLED=True))
    secret = token_for(app, "member")
    client = strict.test_client()
    pulled = client.post(f"{API}/boards/{board['board']}/pull", headers=bearer(secret))
    assert pulled.status_code == 200 and pulled.json["card"] is not None
    browser = strict.test_client()
    form = browser.get("/login").text
    csrf = form.split('name="csrf_token"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
    login = {"username": "member", "password": PASSWORD, "csrf_token": csrf}
    assert browser.post("/login", data=login).status_code == 302
    assert browser.post(f"{API}/boards/{board['board']}/pull").status_code == 401
    assert browser.post("/account/tokens", data={"name": "x", "scope": "read"}).status_code == 400
