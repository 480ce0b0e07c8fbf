"""People management by admins, and a person changing their own password: every act works
through the pages, takes effect at once (sessions end), is audited, and deletes nothing."""

from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy import select

from tests.helpers import PASSWORD, actor, make_board, make_card, make_user
from tracker.domain.errors import InvalidRequest
from tracker.extensions import db
from tracker.models import AuditEvent, Card, CardEvent, Membership, User
from tracker.services import people, users

SHOWN = re.compile(r'id="temporary-password"[^>]*value="([^"]+)"')


@pytest.fixture
def site(app):
    """An admin, a lead of board Team, and a member of no board yet."""
    with app.app_context():
        team = make_board("Team")
        other = make_board("Other")
        ada = make_user("ada", admin=True)
        lee = make_user("lee", board=team, role="lead")
        bob = make_user("bob")
        ids = {"team": team.id, "other": other.id, "ada": ada.id, "lee": lee.id, "bob": bob.id}
        db.session.remove()
    return ids


def audit_rows(app, action=None) -> list[AuditEvent]:
    with app.app_context():
        query = select(AuditEvent).order_by(AuditEvent.id)
        if action:
            query = query.where(AuditEvent.action == action)
        rows = list(db.session.execute(query).scalars())
        for row in rows:
            db.session.expunge(row)
        db.session.remove()
        return rows


def user(app, user_id) -> User:
    with app.app_context():
        found = db.session.get(User, user_id)
        db.session.expunge(found)
        db.session.remove()
        return found


def test_only_admins_reach_the_admin_pages(app, client, auth, site):
    assert client.get("/admin/people").status_code == 302  # anonymous: to the login page
    auth.login("lee")
    for url in ("/admin/people", "/admin/people/new", f"/admin/people/{site['bob']}"):
        assert client.get(url).status_code == 403, url
    assert client.post("/admin/people", data={"name": "X", "username": "x"}).status_code == 403
    auth.logout()
    auth.login("ada")
    assert client.get("/admin/people").status_code == 200


def test_the_list_shows_people_with_their_boards_and_roles(client, auth, site):
    auth.login("ada")
    page = client.get("/admin/people").text
    row = page.split(f'id="person-{site["lee"]}"')[1].split("</tr>")[0]
    assert "Lee Person" in row and "lee" in row and "Team: lead" in row and "yes" in row
    ada = page.split(f'id="person-{site["ada"]}"')[1].split("</tr>")[0]
    assert "admin" in ada and "no board" in ada


def test_admin_creates_a_person_with_a_typed_password(app, client, auth, site):
    auth.login("ada")
    made = client.post(
        "/admin/people",
        data={
            "name": "Cleo Quinn",
            "username": "Cleo",
            "email": "cleo@example.com",
            "password": "a long temporary one",
        },
    )
    assert made.status_code == 303
    with app.app_context():
        cleo = db.session.execute(select(User).where(User.username == "cleo")).scalar_one()
        assert (cleo.name, cleo.email, cleo.is_admin, cleo.active) == (
            "Cleo Quinn",
            "cleo@example.com",
            False,
            True,
        )
        assert "a long temporary one" not in cleo.password_hash
        cleo_id = cleo.id
        db.session.remove()
    (row,) = audit_rows(app, "person.created")[-1:]
    assert (row.actor_id, row.target_id, row.ip) == (site["ada"], cleo_id, "127.0.0.1")
    auth.logout()
    assert auth.login("cleo", "a long temporary one").status_code == 302


def test_a_generated_password_is_shown_once_and_works(app, client, auth, site):
    auth.login("ada")
    page = client.post("/admin/people", data={"name": "Dee", "username": "dee", "password": ""})
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    password = SHOWN.search(page.text).group(1)
    assert len(password) >= users.MIN_PASSWORD_LENGTH
    dee = client.get("/admin/people").text
    assert password not in dee  # not shown again
    auth.logout()
    assert auth.login("dee", password).status_code == 302


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"password": "short"}, "at least 10 characters"),
        ({"username": "longusername", "password": "LongUserName"}, "cannot be the username"),
        ({"username": "lee"}, "The username lee is taken"),
        ({"username": "has space"}, "Letters, digits"),
        ({"name": ""}, "Give the person&#39;s name"),
        ({"email": "not-an-address"}, "not an email address"),
    ],
)
def test_creating_refuses_bad_input_and_keeps_the_form(app, client, auth, site, data, message):
    auth.login("ada")
    before = len(audit_rows(app, "person.created"))
    form = {"name": "Eve", "username": "eve", "password": "long enough password"} | data
    page = client.post("/admin/people", data=form)
    assert page.status_code == 422
    assert message in page.text
    assert 'value="Eve"' in page.text or not form["name"]
    assert len(audit_rows(app, "person.created")) == before


def test_roles_are_set_from_the_persons_page_and_audited(app, client, auth, site):
    auth.login("ada")
    set_role = {"user_id": site["bob"], "board_id": site["team"]}
    added = client.post("/admin/memberships", data=set_role | {"role": "viewer"})
    assert added.status_code == 303
    assert added.headers["Location"].endswith(f"/admin/people/{site['bob']}")
    page = client.get(f"/admin/people/{site['bob']}").text
    assert "Team" in page and '<option value="viewer" selected>' in page
    client.post("/admin/memberships", data=set_role | {"role": "member"})
    client.post("/admin/memberships", data=set_role | {"role": "member"})  # no change
    removed = client.post("/admin/memberships", data=set_role | {"role": "none"})
    assert removed.status_code == 303
    rows = [r for r in audit_rows(app) if r.action.startswith("membership.")]
    mine = [r for r in rows if r.target_id == site["bob"]]
    assert [(r.action, r.detail["role"], r.board_id, r.actor_id) for r in mine] == [
        ("membership.added", [None, "viewer"], site["team"], site["ada"]),
        ("membership.changed", ["viewer", "member"], site["team"], site["ada"]),
        ("membership.removed", ["member", None], site["team"], site["ada"]),
    ]


def test_a_role_takes_effect_at_once_and_removal_closes_the_board(app, client, auth, site):
    bob = app.test_client()
    bob.post("/login", data={"username": "bob", "password": PASSWORD})
    assert bob.get(f"/b/{site['team']}").status_code == 404
    auth.login("ada")
    base = {"user_id": site["bob"], "board_id": site["team"], "back": "board"}
    back = client.post("/admin/memberships", data=base | {"role": "member"})
    assert back.headers["Location"].endswith(f"/admin/boards/{site['team']}/people")
    assert bob.get(f"/b/{site['team']}").status_code == 200
    client.post("/admin/memberships", data=base | {"role": "none"})
    assert bob.get(f"/b/{site['team']}").status_code == 404


def test_the_boards_people_page_lists_members_and_adds_people(app, client, auth, site):
    auth.login("ada")
    page = client.get(f"/admin/boards/{site['team']}/people").text
    assert "Lee Person" in page and '<option value="lead" selected>' in page
    assert f'<option value="{site["bob"]}">Bob Person (bob)</option>' in page
    client.post(
        "/admin/memberships",
        data={"user_id": site["bob"], "board_id": site["team"], "role": "support", "back": "board"},
    )
    with app.app_context():
        role = db.session.execute(
            select(Membership.role).where(Membership.user_id == site["bob"])
        ).scalar_one()
        db.session.remove()
    assert role == "support"
    assert client.get("/admin/boards/999/people").status_code == 404


def test_bad_membership_input_changes_nothing(app, client, auth, site):
    auth.login("ada")
    before = audit_rows(app)
    for data in (
        {"user_id": site["bob"], "board_id": site["team"], "role": "owner"},
        {"user_id": site["bob"], "board_id": 999, "role": "member"},
        {"user_id": 999, "board_id": site["team"], "role": "member"},
        {"user_id": "x", "board_id": site["team"], "role": "member"},
    ):
        assert client.post("/admin/memberships", data=data).status_code in (404, 422), data
    assert [r.id for r in audit_rows(app)] == [r.id for r in before]
    with app.app_context():
        assert not db.session.execute(
            select(Membership).where(Membership.user_id == site["bob"])
        ).first()
        db.session.remove()


def test_make_and_unmake_an_admin_but_never_the_last(app, client, auth, site):
    auth.login("ada")
    refused = client.post(f"/admin/people/{site['ada']}/admin", data={"make_admin": "no"})
    assert refused.status_code == 422
    assert "last active admin" in refused.text
    assert user(app, site["ada"]).is_admin
    made = client.post(f"/admin/people/{site['bob']}/admin", data={"make_admin": "yes"})
    assert made.status_code == 303 and user(app, site["bob"]).is_admin
    # Now Ada may step down; Bob is an admin.
    client.post(f"/admin/people/{site['ada']}/admin", data={"make_admin": "no"})
    assert not user(app, site["ada"]).is_admin
    assert client.get("/admin/people").status_code == 403  # it takes effect at once
    actions = [(r.action, r.target_id) for r in audit_rows(app) if r.action.startswith("person.")]
    assert ("person.admin_granted", site["bob"]) in actions
    assert ("person.admin_revoked", site["ada"]) in actions


def test_the_last_active_admin_cannot_be_deactivated_either(app, ctx, site):
    with pytest.raises(InvalidRequest, match="last active admin"):
        people.set_active(site["ada"], False, actor=actor(db.session.get(User, site["lee"]), ""))
    db.session.rollback()
    assert db.session.get(User, site["ada"]).active


def test_deactivation_ends_an_open_session_at_once(app, client, auth, site):
    lee = app.test_client()
    lee.post("/login", data={"username": "lee", "password": PASSWORD})
    assert lee.get(f"/b/{site['team']}").status_code == 200
    auth.login("ada")
    done = client.post(f"/admin/people/{site['lee']}/deactivate")
    assert done.status_code == 303
    gone = lee.get(f"/b/{site['team']}")
    assert gone.status_code == 302 and "/login" in gone.headers["Location"]
    assert lee.post("/login", data={"username": "lee", "password": PASSWORD}).status_code == 422
    # Nothing is deleted: the person, their membership and their history stay.
    with app.app_context():
        kept = db.session.get(User, site["lee"])
        assert kept is not None and not kept.active
        assert db.session.execute(
            select(Membership).where(Membership.user_id == site["lee"])
        ).scalar_one()
        db.session.remove()
    client.post(f"/admin/people/{site['lee']}/reactivate")
    assert lee.post("/login", data={"username": "lee", "password": PASSWORD}).status_code == 302
    actions = [r.action for r in audit_rows(app) if r.target_id == site["lee"]]
    assert "person.deactivated" in actions and "person.reactivated" in actions


def test_an_admin_cannot_deactivate_themselves(app, client, auth, site):
    auth.login("ada")
    page = client.post(f"/admin/people/{site['ada']}/deactivate")
    assert page.status_code == 422 and "cannot deactivate yourself" in page.text
    assert user(app, site["ada"]).active


def test_a_deactivated_persons_cards_keep_their_name(app, ctx, site):
    team = db.session.get(User, site["lee"])
    board_id = site["team"]
    from tracker.models import Board

    card = make_card(db.session.get(Board, board_id), actor(team, "lead"), "feature", "Kept")
    people.set_active(site["lee"], False, actor=actor(db.session.get(User, site["ada"]), ""))
    assert db.session.get(Card, card.id).created_by_id == site["lee"]
    event = db.session.execute(select(CardEvent).where(CardEvent.card_id == card.id)).scalar()
    assert event.actor.name == "Lee Person"


def test_password_reset_ends_sessions_and_the_new_one_works(app, client, auth, site):
    lee = app.test_client()
    lee.post("/login", data={"username": "lee", "password": PASSWORD})
    auth.login("ada")
    short = client.post(f"/admin/people/{site['lee']}/password", data={"password": "short"})
    assert short.status_code == 422 and "at least 10" in short.text
    assert lee.get("/").status_code == 200  # a refused reset changes nothing
    page = client.post(f"/admin/people/{site['lee']}/password", data={"password": ""})
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    new = SHOWN.search(page.text).group(1)
    assert lee.get("/").status_code == 302  # the session ended
    assert lee.post("/login", data={"username": "lee", "password": PASSWORD}).status_code == 422
    assert lee.post("/login", data={"username": "lee", "password": new}).status_code == 302
    (row,) = audit_rows(app, "person.password_reset")
    assert (row.actor_id, row.target_id) == (site["ada"], site["lee"])
    assert new not in str(row.detail)


def test_a_typed_reset_password_cannot_be_the_username(app, client, auth, site):
    auth.login("ada")
    page = client.post(f"/admin/people/{site['lee']}/password", data={"password": "LEE"})
    assert page.status_code == 422
    page = client.post(f"/admin/people/{site['bob']}/password", data={"password": "bob"})
    assert "at least 10" in page.text
    with app.app_context():
        bobby = users.new_user("bobbybobby", "B", "a fine password")
        db.session.commit()
        bobby_id = bobby.id
        db.session.remove()
    page = client.post(f"/admin/people/{bobby_id}/password", data={"password": "BobbyBobby"})
    assert page.status_code == 422 and "cannot be the username" in page.text


def test_a_person_changes_their_own_password(app, client, auth, site):
    elsewhere = app.test_client()
    elsewhere.post("/login", data={"username": "lee", "password": PASSWORD})
    auth.login("lee")
    assert client.get("/account/password").status_code == 200
    new = "a new and longer password"
    for data, message in (
        ({"current": "wrong password", "new": new, "confirm": new}, "not your current password"),
        ({"current": PASSWORD, "new": "short", "confirm": "short"}, "at least 10"),
        ({"current": PASSWORD, "new": new, "confirm": new + "x"}, "do not match"),
        ({"current": PASSWORD, "new": PASSWORD, "confirm": PASSWORD}, "different from"),
    ):
        page = client.post("/account/password", data=data)
        assert page.status_code == 422 and message in page.text, message
    assert elsewhere.get("/").status_code == 200  # nothing changed yet
    done = client.post("/account/password", data={"current": PASSWORD, "new": new, "confirm": new})
    assert done.status_code == 302
    assert client.get("/").status_code == 200  # this session carries on
    assert elsewhere.get("/").status_code == 302  # the other one ended
    auth.logout()
    assert auth.login("lee").status_code == 422
    assert auth.login("lee", new).status_code == 302
    (row,) = audit_rows(app, "person.password_changed")
    assert (row.actor_id, row.target_id) == (site["lee"], site["lee"])


def test_anonymous_cannot_change_a_password(client, site):
    page = client.post("/account/password", data={"current": "x", "new": "y", "confirm": "y"})
    assert page.status_code == 302 and "/login" in page.headers["Location"]


def test_no_password_or_token_is_ever_logged(app, client, auth, site, caplog):
    caplog.set_level(logging.DEBUG)
    auth.login("ada")
    page = client.post("/admin/people", data={"name": "Fay", "username": "fay", "password": ""})
    generated = SHOWN.search(page.text).group(1)
    reset = client.post(f"/admin/people/{site['lee']}/password", data={"password": ""})
    temporary = SHOWN.search(reset.text).group(1)
    other = app.test_client()
    other.post("/login", data={"username": "lee", "password": "not the password at all"})
    other.post("/login", data={"username": "lee", "password": temporary})
    other.post(
        "/account/password",
        data={"current": temporary, "new": "lee's chosen secret", "confirm": "lee's chosen secret"},
    )
    with app.app_context():
        tokens = list(db.session.execute(select(User.session_token)).scalars())
        db.session.remove()
    logged = "\n".join(
        f"{record.getMessage()} {record.__dict__}" for record in caplog.records
    ).lower()
    assert "auth.login" in logged  # the logs were captured
    for secret in (
        PASSWORD,
        generated,
        temporary,
        "not the password at all",
        "lee's chosen secret",
        *tokens,
    ):
        assert secret.lower() not in logged, secret


WEAK = [
    ("password12", "on a list of common passwords"),
    ("Password12", "on a list of common passwords"),
    ("aaaaaaaaaa", "repeated character, pattern or sequence"),
    ("abcabcabcabc", "repeated character, pattern or sequence"),
]
TO_DO = "Choose another: three or four unrelated words make a strong one."


@pytest.mark.parametrize(("weak", "message"), WEAK)
def test_the_service_refuses_common_and_repetitive_passwords(app, ctx, weak, message):
    with pytest.raises(InvalidRequest, match=message) as refused:
        users.check_password(weak, "eve")
    assert TO_DO in refused.value.message
    with pytest.raises(InvalidRequest, match=message):
        users.create_user("eve", "Eve", weak)


@pytest.mark.parametrize(("weak", "message"), WEAK)
def test_every_page_that_sets_a_password_refuses_weak_ones(app, client, auth, site, weak, message):
    """The admin's new person and reset forms, and the person's own change form, each say
    why and what to do, and change nothing."""
    auth.login("ada")
    made = client.post("/admin/people", data={"name": "Eve", "username": "eve", "password": weak})
    reset = client.post(f"/admin/people/{site['lee']}/password", data={"password": weak})
    auth.logout()
    auth.login("lee")
    changed = client.post(
        "/account/password", data={"current": PASSWORD, "new": weak, "confirm": weak}
    )
    for page in (made, reset, changed):
        assert page.status_code == 422, page.request.path
        assert message in page.text and TO_DO in page.text, page.request.path
    auth.logout()
    assert auth.login("eve", weak).status_code == 422  # nobody was made
    assert auth.login("lee").status_code == 302  # the password is unchanged


def test_the_create_user_command_refuses_a_common_password(app):
    result = app.test_cli_runner().invoke(args=["create-user", "eve", "--password", "password12"])
    assert result.exit_code != 0
    assert "common passwords" in result.output


def test_the_demo_and_test_passwords_pass(ctx):
    from tracker.demo import DEMO_PASSWORD

    users.check_password(DEMO_PASSWORD, "lead")
    users.check_password(PASSWORD, "ann")
