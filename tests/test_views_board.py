"""The board as people meet it: pages and htmx fragments, refusals, bad input."""

import html
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from tests.helpers import BoardSpec, CardSpec, actor, column, lane, make_board, make_card, make_user
from tests.html_tree import parse
from tracker.domain.avatars import avatar_colour
from tracker.extensions import db
from tracker.models import Board, Card, CardEvent, User
from tracker.services import boards, cards

HX = {"HX-Request": "true"}


@pytest.fixture
def board_spec():
    """A board (Support limit 2) with a member, a lead, a viewer and a support person."""
    return BoardSpec(
        limits={"support": 2},
        people={"ann": "member", "lee": "lead", "vic": "viewer", "sam": "support"}
        | {"out": None},  # on no board
        cards=(
            CardSpec("doing0", "support", "Doing 0", at="In progress"),
            CardSpec("doing1", "support", "Doing 1", at="In progress"),
            CardSpec("ready", "support", "Waiting <b>bold</b>"),
            CardSpec("feature", "feature", "Feature one"),
        ),
    )


def card_state(app, card_id):
    with app.app_context():
        card = db.session.get(Card, card_id)
        state = (card.lane_id, card.column_id, card.assignee_id, card.title, card.status)
        db.session.remove()
        return state


def url(ids, path=""):
    return f"/b/{ids['board']}{path}"


def test_anonymous_is_sent_to_login_and_htmx_gets_401(client, board):
    page = client.get(url(board))
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    fragment = client.post(url(board, "/pull"), headers=HX)
    assert fragment.status_code == 401
    assert fragment.headers["HX-Redirect"].startswith("/login")


def test_board_page_and_fragment(client, auth, board):
    auth.login("ann")
    page = client.get(url(board))
    assert page.status_code == 200
    assert "<html" in page.text and 'id="board"' in page.text
    assert "Pull next" in page.text
    assert "HX-Request" in page.headers["Vary"]
    fragment = client.get(url(board), headers=HX)
    assert "<html" not in fragment.text and fragment.text.lstrip().startswith('<section id="board"')
    # Lane counters and the full state; user text escaped.
    support = re.search(r'id="lane-support".*?</div>', page.text, re.S).group(0)
    assert "full" in support and "2 / 2" in support
    assert "Waiting &lt;b&gt;bold&lt;/b&gt;" in page.text


def test_filters_hide_cards_but_not_counts(client, auth, board):
    auth.login("ann")
    page = client.get(url(board, "?q=feature"), headers=HX)
    assert "Feature one" in page.text and "Doing 0" not in page.text
    assert "2 / 2" in page.text


def test_people_outside_the_board_get_404(client, auth, board):
    auth.login("out")
    assert client.get(url(board)).status_code == 404
    assert client.get(url(board, f"/cards/{board['ready']}")).status_code == 404


@pytest.mark.parametrize("who", ["vic", "sam"])
def test_read_only_roles_see_the_board_but_cannot_change_it(app, client, auth, board, who):
    auth.login(who)
    page = client.get(url(board))
    assert page.status_code == 200 and "Pull next" not in page.text and "Read only" in page.text
    before = card_state(app, board["feature"])
    moved = client.post(
        url(board, f"/cards/{board['feature']}/move"),
        data={"lane_id": board["feature_lane"], "column_id": board["Review"]},
    )
    assert moved.status_code == 403
    assert client.post(url(board, "/pull")).status_code == 403
    assert card_state(app, board["feature"]) == before


def test_move_with_htmx_returns_the_board(app, client, auth, board):
    auth.login("ann")
    response = client.post(
        url(board, f"/cards/{board['feature']}/move"),
        headers=HX,
        data={"lane_id": board["feature_lane"], "column_id": board["Review"]},
    )
    assert response.status_code == 200
    assert "Moved FEAT-1 to Feature · Review." in response.text
    assert card_state(app, board["feature"])[1] == board["Review"]


def test_move_without_javascript_redirects(app, client, auth, board):
    auth.login("ann")
    response = client.post(
        url(board, f"/cards/{board['feature']}/move"),
        data={"target": f"{board['feature_lane']}:{board['In progress']}"},
    )
    assert response.status_code == 303
    assert "Moved FEAT-1" in client.get(response.headers["Location"]).text


def test_refused_move_is_422_with_a_message_and_nothing_changes(app, client, auth, board):
    auth.login("ann")
    before = card_state(app, board["ready"])
    for headers in (HX, {}):
        response = client.post(
            url(board, f"/cards/{board['ready']}/move"),
            headers=headers,
            data={"lane_id": board["support_lane"], "column_id": board["In progress"]},
        )
        assert response.status_code == 422
        assert "Support is at its WIP limit, 2 of 2: finish or move something first." in (
            response.text
        )
        assert "Only a lead can override" in response.text
        assert "Go over the limit" not in response.text
    assert card_state(app, board["ready"]) == before
    # The card is still drawn in Ready.
    ready_cell = re.search(
        rf'data-lane="{board["support_lane"]}" data-column="{board["Ready"]}".*?</ol>',
        response.text,
        re.S,
    ).group(0)
    assert f'id="card-{board["ready"]}"' in ready_cell


def test_lead_gets_an_override_form_and_the_override_is_recorded(app, client, auth, board):
    auth.login("lee")
    path = url(board, f"/cards/{board['ready']}/move")
    data = {"lane_id": board["support_lane"], "column_id": board["In progress"]}
    refused = client.post(path, headers=HX, data=data)
    assert refused.status_code == 422 and "Go over the limit" in refused.text
    done = client.post(path, headers=HX, data={**data, "reason": "Customer is down"})
    assert done.status_code == 200
    assert "3 / 2" in done.text and "over the limit" in done.text
    with app.app_context():
        kinds = (
            db.session.execute(select(CardEvent.kind).where(CardEvent.card_id == board["ready"]))
            .scalars()
            .all()
        )
        assert kinds[-1] == "wip_override"


@pytest.mark.parametrize(
    "data",
    [
        {"target": "abc"},
        {"target": ""},
        {"lane_id": "x", "column_id": "y"},
        {"lane_id": "1"},
    ],
)
def test_tampered_move_fields_are_refused(app, client, auth, board, data):
    auth.login("ann")
    before = card_state(app, board["feature"])
    response = client.post(url(board, f"/cards/{board['feature']}/move"), headers=HX, data=data)
    assert response.status_code == 422
    assert card_state(app, board["feature"]) == before


def test_foreign_ids_are_404_and_change_nothing(app, client, auth, board):
    with app.app_context():
        other = make_board("Other")
        ann = db.session.get(User, board["ann"])
        from tracker.services.boards import set_membership

        set_membership(other, ann, "member")
        foreign_card = make_card(other, actor(ann), "feature").id
        foreign_column = column(other, "Review").id
        foreign_lane = lane(other, "feature").id
        db.session.remove()
    auth.login("ann")
    before = card_state(app, board["feature"])
    assert (
        client.post(
            url(board, f"/cards/{foreign_card}/move"),
            data={"lane_id": board["feature_lane"], "column_id": board["Review"]},
        ).status_code
        == 404
    )
    assert (
        client.post(
            url(board, f"/cards/{board['feature']}/move"),
            data={"lane_id": board["feature_lane"], "column_id": foreign_column},
        ).status_code
        == 404
    )
    assert (
        client.post(
            url(board, f"/cards/{board['feature']}/move"),
            data={"lane_id": foreign_lane, "column_id": board["Review"]},
        ).status_code
        == 404
    )
    assert client.get(url(board, "/cards/999999")).status_code == 404
    assert card_state(app, board["feature"]) == before


def test_create_card_and_bad_input_keeps_what_was_typed(app, client, auth, board):
    auth.login("ann")
    form = client.get(url(board, f"/cards/new?lane={board['feature_lane']}"), headers=HX)
    assert form.status_code == 200 and 'id="new-card"' in form.text
    empty = client.post(
        url(board, "/cards/new"),
        headers=HX,
        data={"lane_id": board["feature_lane"], "title": "  ", "description": "keep me"},
    )
    assert empty.status_code == 422
    assert "Give the card a title." in empty.text and "keep me" in empty.text
    assert empty.headers["HX-Retarget"] == "#new-card"
    long = client.post(
        url(board, "/cards/new"), data={"lane_id": board["feature_lane"], "title": "x" * 201}
    )
    assert long.status_code == 422 and "200 characters" in long.text
    bad_lane = client.post(url(board, "/cards/new"), data={"lane_id": 999999, "title": "ok"})
    assert bad_lane.status_code == 404
    made = client.post(
        url(board, "/cards/new"),
        headers=HX,
        data={"lane_id": board["feature_lane"], "title": "New thing", "estimate": "3"},
    )
    assert made.status_code == 200 and "Added FEAT-2: New thing" in made.text
    plain = client.post(
        url(board, "/cards/new"), data={"lane_id": board["feature_lane"], "title": "Another"}
    )
    assert plain.status_code == 303


def history_lines(page: str) -> list[str]:
    """Each line of the card's history as its text (tags out, entities read, space single)."""
    block = page[page.index('<ol class="history">') :]
    block = block[: block.index("</ol>")]
    return [
        " ".join(html.unescape(re.sub(r"<[^>]+>", " ", li)).split())
        for li in block.split("<li")[1:]
    ]


def test_card_panel_history_and_actions(app, client, auth, board):
    auth.login("ann")
    panel = client.get(url(board, f"/cards/{board['feature']}"), headers=HX)
    assert panel.status_code == 200 and "<html" not in panel.text
    assert "Move to" in panel.text and "History" in panel.text and "created" in panel.text
    page = client.get(url(board, f"/cards/{board['feature']}"))
    assert "<html" in page.text
    blocked = client.post(
        url(board, f"/cards/{board['feature']}/block"),
        headers=HX,
        data={"reason": "waiting for the API key", "panel": "1"},
    )
    assert blocked.status_code == 200
    assert 'hx-swap-oob="true"' in blocked.text and "Blocked: waiting for the API key" in (
        blocked.text
    )
    no_reason = client.post(
        url(board, f"/cards/{board['feature']}/block"), headers=HX, data={"reason": ""}
    )
    assert no_reason.status_code == 422
    assert (
        client.post(url(board, f"/cards/{board['feature']}/unblock"), headers=HX).status_code == 200
    )
    assigned = client.post(
        url(board, f"/cards/{board['feature']}/assign"),
        headers=HX,
        data={"assignee": str(board["ann"])},
    )
    assert "is assigned to Ann Person" in assigned.text
    assert (
        client.post(
            url(board, f"/cards/{board['feature']}/assign"), headers=HX, data={"assignee": "nobody"}
        ).status_code
        == 422
    )
    up = client.post(
        url(board, f"/cards/{board['feature']}/reorder"), headers=HX, data={"direction": "sideways"}
    )
    assert up.status_code == 422
    closed = client.post(
        url(board, f"/cards/{board['feature']}/close"),
        headers=HX,
        data={"why": "wont_do", "note": "Not needed any more"},
    )
    assert closed.status_code == 200 and "Closed FEAT-1" in closed.text
    assert card_state(app, board["feature"])[4] == "closed"
    lines = history_lines(client.get(url(board, f"/cards/{board['feature']}"), headers=HX).text)
    assert any("Ann Person blocked it: waiting for the API key" in line for line in lines)
    assert any("Ann Person unblocked it" in line for line in lines)
    assert any("Ann Person closed it: Won't do: Not needed any more" in line for line in lines)
    assert not any(re.search(r"True|False|→|_id\b", line) for line in lines)


def test_stale_edit_shows_current_values_and_keeps_the_text(app, client, auth, board):
    with app.app_context():
        version = db.session.get(Card, board["feature"]).version
    auth.login("ann")
    path = url(board, f"/cards/{board['feature']}/edit")
    first = client.post(
        path, headers=HX, data={"title": "Theirs", "version": version, "panel": "1"}
    )
    assert first.status_code == 200
    second = client.post(path, headers=HX, data={"title": "Mine", "version": version, "panel": "1"})
    assert second.status_code == 409
    assert "Someone changed this card" in second.text
    assert 'value="Theirs"' in second.text and "Mine" in second.text
    assert card_state(app, board["feature"])[3] == "Theirs"
    missing = client.post(path, headers=HX, data={"title": "", "version": version})
    assert missing.status_code == 422


def test_pull_with_htmx_and_nothing_left(app, client, auth, board):
    auth.login("ann")
    first = client.post(url(board, "/pull"), headers=HX)
    assert "You pulled FEAT-1: Feature one" in first.text  # Support is full, so Feature
    assert "Support is at its WIP limit" not in first.text
    second = client.post(url(board, "/pull"), headers=HX)
    assert "Nothing to pull right now." in second.text
    assert "Support: Support is at its WIP limit, 2 of 2" in second.text
    assert "Feature: nothing is ready." in second.text
    plain = client.post(url(board, "/pull"))
    assert plain.status_code == 303


def test_done_shows_this_week_with_a_count_and_an_archive(app, client, auth, board):
    with app.app_context():
        b_id = board["board"]
        from tracker.models import Board

        b = db.session.get(Board, b_id)
        ann = actor(db.session.get(User, board["ann"]), "lead")
        with time_machine.travel("2026-11-02 10:00:00+00:00", tick=False):
            old_ref = make_card(b, ann, "feature", "Old work", at="Done").ref
        with time_machine.travel("2026-11-25 10:00:00+00:00", tick=False):
            for i in range(7):
                make_card(b, ann, "feature", f"Shipped {i}", at="Done")
        db.session.remove()
    with time_machine.travel("2026-11-26 10:00:00+00:00", tick=False):
        auth.login("ann")
        page = client.get(url(board)).text
    assert "Old work" not in page
    assert page.count("Shipped") == 3 and "+ 4 more done this week" in page
    archive = client.get(url(board, "/done?q=old")).text
    assert "Old work" in archive and "1 card matching" in archive
    assert old_ref in archive
    paged = client.get(url(board, "/done?page=999")).text  # past the end: the last page
    assert "Page 1 of 1" in paged and "Old work" in paged


def test_logout_ends_the_session_everywhere(app, client, auth, board):
    auth.login("ann")
    other = app.test_client()
    cookie = client.get_cookie("session")
    other.set_cookie("session", cookie.value)
    assert other.get(url(board)).status_code == 200
    auth.logout()
    assert other.get(url(board)).status_code == 302


def test_deactivated_person_is_out_at_once(app, client, auth, board):
    auth.login("ann")
    with app.app_context():
        from tracker.services.users import deactivate

        deactivate(db.session.get(User, board["ann"]))
    assert client.get(url(board)).status_code == 302
    assert auth.login("ann").status_code == 422


def test_wrong_password_and_safe_next(client, auth, board):
    bad = auth.login("ann", "wrong password!")
    assert bad.status_code == 422 and "do not match" in bad.text
    ok = client.post(
        "/login?next=//evil.example/x",
        data={"username": "ann", "password": "correct horse battery"},
    )
    assert ok.headers["Location"] == url(board)  # ann's one board, never the other site
    assert "Platform" not in client.get("/").text and "Team" in client.get("/").text


def test_admin_creates_boards_and_others_cannot(app, client, auth):
    with app.app_context():
        make_user("root", admin=True)
        make_user("joe")
    auth.login("joe")
    assert client.post("/boards", data={"name": "X", "timezone": "UTC"}).status_code == 403
    auth.logout()
    auth.login("root")
    bad = client.post("/boards", data={"name": "Ops", "timezone": "Mars/Base"})
    assert bad.status_code == 422 and "not a time zone" in bad.text
    made = client.post("/boards", data={"name": "Ops", "timezone": "Europe/Berlin"})
    assert made.status_code == 303
    board_page = client.get(made.headers["Location"]).text
    for name in ("Expedite", "Support", "Feature", "Ready", "In progress", "Review", "Done"):
        assert name in board_page


def test_htmx_with_csrf_header(app_session, board):
    """CSRF stays on here: a form post without the token is refused, the htmx header passes."""
    from tests.helpers import app_config
    from tracker import create_app

    strict = create_app(
        app_config(app_session.config["SQLALCHEMY_DATABASE_URI"], WTF_CSRF_ENABLED=True)
    )
    client = strict.test_client()
    login_page = client.get("/login").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    assert (
        client.post(
            "/login", data={"username": "ann", "password": "correct horse battery"}
        ).status_code
        == 400
    )
    client.post(
        "/login", data={"username": "ann", "password": "correct horse battery", "csrf_token": token}
    )
    page = client.get(url(board)).text
    header_token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    refused = client.post(url(board, "/pull"), headers=HX)
    assert refused.status_code == 400 and "expired" in refused.text
    # The card actions' forms leave the token to CSRFProtect: it refuses each without one.
    review = {"lane_id": board["feature_lane"], "column_id": board["Review"]}
    for path, data in (
        (f"/cards/{board['feature']}/move", review),
        (f"/cards/{board['feature']}/block", {"reason": "waiting"}),
        (f"/cards/{board['feature']}/assign", {"assignee": ""}),
    ):
        refused = client.post(url(board, path), data=data, headers=HX)
        assert refused.status_code == 400 and "expired" in refused.text, path
    with strict.app_context():
        feature = db.session.get(Card, board["feature"])
        assert (feature.column_id, feature.blocked) == (board["Ready"], False)
        db.session.remove()
    pulled = client.post(url(board, "/pull"), headers={**HX, "X-CSRFToken": header_token})
    assert pulled.status_code == 200 and "You pulled" in pulled.text
    with strict.app_context():
        db.session.remove()
        db.engine.dispose()


def test_card_service_and_view_agree_on_wip(app, client, auth, board):
    with app.app_context():
        b_id = board["board"]
        cards.move_card(
            b_id,
            actor(db.session.get(User, board["ann"])),
            board["doing0"],
            lane_id=board["support_lane"],
            column_id=board["Done"],
        )
        db.session.remove()
    auth.login("ann")
    assert "1 / 2" in client.get(url(board)).text


def test_live_poll_answers_204_until_the_board_changes(app, client, auth, board):
    auth.login("vic")
    page = client.get(url(board)).text
    version = int(re.search(r'/live\?v=(\d+)"', page).group(1))
    assert client.get(url(board, f"/live?v={version}"), headers=HX).status_code == 204
    with app.app_context():
        cards.move_card(
            board["board"],
            actor(db.session.get(User, board["ann"])),
            board["feature"],
            lane_id=board["feature_lane"],
            column_id=board["Review"],
        )
        db.session.remove()
    fresh = client.get(url(board, f"/live?v={version}"), headers=HX)
    assert fresh.status_code == 200 and fresh.text.lstrip().startswith('<section id="board"')
    assert f"/live?v={version + 1}" in fresh.text
    assert client.get(url(board, f"/live?v={version + 1}"), headers=HX).status_code == 204


def test_a_running_sprint_is_this_period(app, client, auth, board):
    from datetime import date

    from tracker.services import reports

    with app.app_context():
        from tracker.models import Board

        b = db.session.get(Board, board["board"])
        lead = actor(db.session.get(User, board["ann"]), "lead")
        with time_machine.travel("2026-11-10 10:00:00+00:00", tick=False):
            make_card(b, lead, "feature", "Early in the sprint", at="Done")
        with time_machine.travel("2026-11-02 10:00:00+00:00", tick=False):
            make_card(b, lead, "feature", "Before the sprint", at="Done")
        reports.add_sprint(
            b.id,
            lead,
            reports.SprintInput("Sprint 23", date(2026, 11, 9), date(2026, 11, 27), 30.0, None),
        )
        db.session.remove()
    with time_machine.travel("2026-11-26 10:00:00+00:00", tick=False):
        auth.login("ann")
        page = client.get(url(board)).text
    assert "Sprint 23 · 2 days left" in page
    assert "Early in the sprint" in page and "Before the sprint" not in page


def tile(page: str, card_id: int) -> str:
    return re.search(rf'<li class="card[^"]*" id="card-{card_id}".*?</li>', page, re.S).group(0)


def test_a_tile_shows_every_change_although_its_markup_is_kept(app, client, auth, board):
    """The board keeps each tile's markup (presenters.kept_markup): every change of what a
    tile shows must still reach the page, on the same worker, and stay escaped."""
    card_id = board["feature"]
    with time_machine.travel(datetime.now(UTC), tick=False) as traveller:
        auth.login("ann")
        first = tile(client.get(url(board)).text, card_id)
        assert "Feature one" in first and "0d" in first and "blocked" not in first
        assert tile(client.get(url(board)).text, card_id) == first  # kept, and the same
        with app.app_context():
            ann = actor(db.session.get(User, board["ann"]))
            version = db.session.get(Card, card_id).version
            cards.edit_card(board["board"], ann, card_id, version, {"title": "Renamed <i>it</i>"})
            cards.set_blocked(board["board"], ann, card_id, True, "Waiting for <legal>")
            cards.assign_card(board["board"], ann, card_id, board["ann"])
            db.session.remove()
        changed = tile(client.get(url(board)).text, card_id)
        assert "Renamed &lt;i&gt;it&lt;/i&gt;" in changed and "Feature one" not in changed
        assert 'class="card lane-feature blocked"' in changed
        assert "Waiting for &lt;legal&gt;" in changed
        assert f'<abbr class="a{avatar_colour("ann")}" title="Ann Person">AP</abbr>' in changed
        traveller.shift(timedelta(days=3))
        assert "3d" in tile(client.get(url(board)).text, card_id)


def new_card_key(client, board) -> str:
    """The one-time key of a freshly served new-card form."""
    form = client.get(url(board, f"/cards/new?lane={board['feature_lane']}"), headers=HX)
    found = re.search(r'name="form_key"[^>]*value="([^"]+)"', form.text) or re.search(
        r'value="([^"]+)"[^>]*name="form_key"', form.text
    )
    assert found, "the new-card form carries no one-time key"
    return found.group(1)


def test_adding_a_card_closes_the_form_and_points_at_the_new_card(app, client, auth, board):
    """The answer empties the panel the form was in (title, errors and all) and tells the
    page which tile is new, so it can show and focus it."""
    auth.login("ann")
    data = {"lane_id": board["feature_lane"], "title": "New thing"}
    made = client.post(
        url(board, "/cards/new"), headers=HX, data=data | {"form_key": new_card_key(client, board)}
    )
    assert made.status_code == 200
    with app.app_context():
        card_id = db.session.execute(select(Card.id).filter_by(title="New thing")).scalar_one()
    assert re.search(r'<aside id="panel"[^>]*hx-swap-oob="innerHTML"[^>]*>\s*</aside>', made.text)
    assert 'id="new-card"' not in made.text
    assert f'id="card-{card_id}"' in made.text
    assert json.loads(made.headers["HX-Trigger-After-Settle"]) == {"card-added": {"id": card_id}}


def test_the_same_new_card_form_sent_twice_files_one_card(app, client, auth, board):
    """A double click or a resend of one form files one card; a new form gets a new key."""
    auth.login("ann")
    key = new_card_key(client, board)
    assert new_card_key(client, board) != key
    data = {"lane_id": board["feature_lane"], "title": "Only once", "form_key": key}
    first = client.post(url(board, "/cards/new"), headers=HX, data=data)
    again = client.post(url(board, "/cards/new"), headers=HX, data=data)
    plain = client.post(url(board, "/cards/new"), data=data)
    assert (first.status_code, again.status_code, plain.status_code) == (200, 200, 303)
    assert "Added FEAT-2: Only once" in first.text and "Added FEAT-2: Only once" in again.text
    with app.app_context():
        titles = db.session.execute(select(Card.title).filter_by(title="Only once")).all()
    assert len(titles) == 1


def test_the_new_card_form_is_disabled_while_it_is_sent(client, auth, board):
    auth.login("ann")
    form = client.get(url(board, f"/cards/new?lane={board['feature_lane']}"), headers=HX)
    assert re.search(r'<form id="new-card"[^>]*hx-disabled-elt="find button"', form.text)


def test_the_new_card_page_of_its_own_posts_as_a_page(client, auth, board):
    """Opened on its own (no board around it), the form has no board to swap into: no
    hx-post of its own (the page's hx-boost sends it), and a refusal is the whole page."""
    auth.login("ann")
    page = client.get(url(board, f"/cards/new?lane={board['feature_lane']}"))
    form = re.search(r'<form id="new-card"[^>]*>', page.text).group(0)
    assert "hx-post" not in form and "hx-target" not in form
    boosted = {"HX-Request": "true", "HX-Boosted": "true"}
    refused = client.post(
        url(board, "/cards/new"), headers=boosted, data={"lane_id": board["feature_lane"]}
    )
    assert refused.status_code == 422 and "<html" in refused.text
    assert "HX-Retarget" not in refused.headers


def test_a_card_moved_by_hand_into_progress_with_nobody_on_it_is_the_movers(
    app, client, auth, board
):
    """A drag (or the Move to list) into an active column takes a card nobody holds, and the
    notice says so; a card someone holds, or one moved to a queue or Done, keeps its holder."""
    auth.login("ann")
    move = url(board, f"/cards/{board['feature']}/move")
    to = {"lane_id": board["feature_lane"]}
    answer = client.post(move, data=to | {"column_id": board["In progress"]}, headers=HX)
    assert answer.status_code == 200
    assert "It is yours now: a card in progress needs someone on it." in answer.text
    assert card_state(app, board["feature"])[2] == board["ann"]
    history = history_lines(client.get(url(board, f"/cards/{board['feature']}"), headers=HX).text)
    assert any("moved it from Ready to In progress and took it" in line for line in history)
    # Someone holds it now: moving it on, by anyone, keeps them.
    auth.logout()
    auth.login("lee")
    again = client.post(move, data=to | {"column_id": board["Review"]}, headers=HX)
    assert again.status_code == 200 and "yours now" not in again.text
    assert card_state(app, board["feature"])[2] == board["ann"]


@pytest.mark.parametrize("column_name", ["Ready", "Done"])
def test_a_card_moved_out_of_progress_takes_nobody(app, client, auth, board, column_name):
    auth.login("ann")
    to = {"lane_id": board["feature_lane"], "column_id": board[column_name]}
    answer = client.post(url(board, f"/cards/{board['feature']}/move"), data=to, headers=HX)
    assert answer.status_code == 200 and "yours now" not in answer.text
    assert card_state(app, board["feature"])[2] is None


def test_taking_a_card_by_hand_counts_toward_the_person_limit(app, client, auth, board):
    with app.app_context():
        db.session.get(Board, board["board"]).per_person_limit = 1
        db.session.commit()
        ann = actor(db.session.get(User, board["ann"]))
        cards.assign_card(board["board"], ann, board["doing0"], board["ann"])
        db.session.remove()
    auth.login("ann")
    to = {"lane_id": board["feature_lane"], "column_id": board["In progress"]}
    refused = client.post(url(board, f"/cards/{board['feature']}/move"), data=to, headers=HX)
    assert refused.status_code == 422 and "Ann Person already holds 1 card" in refused.text
    assert card_state(app, board["feature"])[1] == board["Ready"]


@pytest.mark.parametrize("end", ["closed", "done"])
def test_a_closed_or_done_card_is_reopened_into_its_lanes_ready_queue(
    app, client, auth, board, end
):
    """Back at the top of its lane's Ready queue, open, held by nobody (the next pull takes
    it), with why in its history; the panel of a closed card offers nothing but this."""
    auth.login("ann")
    card_id, path = board["doing0"], url(board, f"/cards/{board['doing0']}")
    if end == "closed":
        client.post(path + "/close", data={"why": "duplicate", "note": "Same as SUP-2"}, headers=HX)
    else:
        to = {"lane_id": board["support_lane"], "column_id": board["Done"]}
        client.post(path + "/move", data=to, headers=HX)
    panel = client.get(path, headers=HX).text
    assert f'action="{path}/reopen"' in panel and "Why reopen it" in panel
    if end == "closed":  # off the board: no move, assign, block, edit or close
        assert f'action="{path}/move"' not in panel and f'action="{path}/close"' not in panel
    refused = client.post(path + "/reopen", data={"why": "  "}, headers=HX)
    assert refused.status_code == 422 and card_state(app, card_id)[4] == end
    answer = client.post(path + "/reopen", data={"why": "It came back", "panel": "1"}, headers=HX)
    assert answer.status_code == 200 and "Reopened SUP-1: it is in Support · Ready." in answer.text
    lane_id, column_id, assignee_id, _title, status = card_state(app, card_id)
    assert (lane_id, column_id, assignee_id, status) == (
        board["support_lane"],
        board["Ready"],
        None,
        "open",
    )
    ready = parse(client.get(url(board), headers=HX).text).find(
        f"cell-{board['support_lane']}-{board['Ready']}"
    )
    assert ready.text().index(f"card-{card_id}") < ready.text().index(f"card-{board['ready']}")
    history = history_lines(client.get(path, headers=HX).text)
    assert any("Ann Person reopened it into Ready: It came back" in line for line in history)
    again = client.post(path + "/reopen", data={"why": "twice"}, headers=HX)
    assert again.status_code == 422 and "on the board already" in again.text


def test_only_people_who_change_cards_may_reopen(app, client, auth, board):
    auth.login("vic")
    path = url(board, f"/cards/{board['doing0']}/reopen")
    assert client.post(path, data={"why": "x"}, headers=HX).status_code == 403


def test_an_opened_card_has_an_address_that_opens_it_again(client, auth, board):
    """Opening a card's panel pushes /b/<id>?card=<card>; that address, loaded, shows the
    board with the panel open (and so does htmx's history restore, the back button)."""
    auth.login("ann")
    card_id = board["feature"]
    panel = client.get(url(board, f"/cards/{card_id}"), headers=HX)
    pushed = panel.headers["HX-Push-Url"]
    assert pushed == url(board, f"?card={card_id}")
    for headers in ({}, HX | {"HX-History-Restore-Request": "true"}):
        page = client.get(pushed, headers=headers)
        assert page.status_code == 200 and "<html" in page.text
        panel_html = page.text[page.text.index('<aside id="panel"') :]
        assert "FEAT-1" in panel_html[: panel_html.index("</aside>")]
    fragment = client.get(pushed, headers=HX)  # an htmx swap of the board: panel out of band
    assert "<html" not in fragment.text and 'id="panel"' in fragment.text


@pytest.mark.parametrize(
    "card", ["0", "-1", "abc", "1.5", "99999999999999999999", "2147483648", "", "٣"]
)
def test_an_odd_or_missing_linked_card_shows_the_board_and_says_so(client, auth, board, card):
    auth.login("ann")
    page = client.get(url(board), query_string={"card": card})
    assert page.status_code == 200 and 'id="board"' in page.text
    assert "That card is not on this board." in page.text


def test_another_boards_card_is_not_opened_by_its_link(app, client, auth, board):
    with app.app_context():
        other = make_board("Elsewhere")
        lee = actor(db.session.get(User, board["lee"]), "lead")
        boards.set_membership(other, db.session.get(User, board["lee"]), "lead")
        theirs = make_card(other, lee, "feature", "Not yours").id
        db.session.remove()
    auth.login("ann")
    page = client.get(url(board, f"?card={theirs}"))
    assert "That card is not on this board." in page.text and "Not yours" not in page.text
