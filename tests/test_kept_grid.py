"""The board page's grid kept per board version (tracker.web.presenters.grid): a board
nobody changed is shown again without reading its cards, and whatever changes what the grid
shows (a change to the board, the role of who looks, the day, a tile's days in its column,
a sprint, a filter) shows at once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from tests.helpers import Auth, BoardSpec, CardSpec, actor, app_config, new_app, statements_sent
from tests.html_tree import parse
from tracker.extensions import db
from tracker.models import User
from tracker.services import cards, reports
from tracker.web.presenters.grid import KeptGrids, _Kept

HX = {"HX-Request": "true"}
START = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)  # a Wednesday


@pytest.fixture
def board_spec() -> BoardSpec:
    return BoardSpec(
        people={"ann": "member", "lee": "lead", "vic": "viewer"},
        cards=(
            CardSpec("ready", "feature", "Waiting card"),
            CardSpec("doing", "support", "Busy card", at="In progress"),
        ),
    )


def grid_of(answer) -> str:
    return parse(answer.text).find("board").text()


def reads_cards(sent: list[str]) -> bool:
    return any(" FROM card " in s + " " for s in sent if s.startswith("SELECT"))


def test_a_board_nobody_changed_is_shown_again_without_reading_its_cards(app, client, board):
    Auth(client).login("ann")
    path = f"/b/{board['board']}"
    first = client.get(path, headers=HX)
    sent, again = statements_sent(app, lambda: client.get(path, headers=HX))
    assert again.status_code == 200 and grid_of(again) == grid_of(first)
    assert not reads_cards(sent), sent
    page = client.get(path)  # the whole page keeps its own parts (the period, days left)
    assert "Waiting card" in page.text and "days left" in page.text


def test_a_change_by_someone_else_shows_on_the_next_page(app, client, board):
    Auth(client).login("ann")
    path = f"/b/{board['board']}"
    assert "Blocked: keys" not in client.get(path, headers=HX).text
    with app.app_context():
        lee = actor(db.session.get(User, board["lee"]), "lead")
        cards.set_blocked(board["board"], lee, board["ready"], True, "keys")
        db.session.remove()
    assert "Blocked: keys" in client.get(path, headers=HX).text


def test_each_role_sees_its_own_grid_of_the_same_version(app, board):
    path = f"/b/{board['board']}"
    member, viewer = app.test_client(), app.test_client()
    Auth(member).login("ann")
    Auth(viewer).login("vic")
    for _ in range(2):  # the second round comes from the kept grids
        assert "+ Add card" in member.get(path, headers=HX).text
        assert "+ Add card" not in viewer.get(path, headers=HX).text


def tile_days(answer, card_id: int) -> str:
    return parse(answer.text).find(f"card-{card_id}").text()


def test_a_tiles_days_move_on_without_a_change_to_the_board(app, board):
    """The ready card entered its column at START: 0 days until a day has passed, then 1."""
    with time_machine.travel(START, tick=False):
        with app.app_context():
            lee = actor(db.session.get(User, board["lee"]), "lead")
            cards.move_card(
                board["board"],
                lee,
                board["ready"],
                lane_id=board["feature_lane"],
                column_id=board["Review"],
            )
            db.session.remove()
        client = app.test_client()
        Auth(client).login("ann")
    path = f"/b/{board['board']}"
    for moment, days in ((START + timedelta(hours=23), "0d"), (START + timedelta(days=1), "1d")):
        with time_machine.travel(moment, tick=False):
            assert f">{days}<" in tile_days(client.get(path, headers=HX), board["ready"])


def test_a_new_sprint_shows_on_the_board_at_once(app, client, board):
    Auth(client).login("ann")
    path = f"/b/{board['board']}"
    today = date.today()
    assert "Sprint 9" not in client.get(path).text
    with app.app_context():
        lee = actor(db.session.get(User, board["lee"]), "lead")
        sprint = reports.SprintInput(
            "Sprint 9", today - timedelta(days=2), today + timedelta(days=9), 20.0, None
        )
        reports.add_sprint(board["board"], lee, sprint)
        db.session.remove()
    assert "Sprint 9" in client.get(path).text


def test_a_filtered_page_is_read_afresh_every_time(app, client, board):
    Auth(client).login("ann")
    path = f"/b/{board['board']}?q=Busy"
    client.get(path, headers=HX)
    sent, answer = statements_sent(app, lambda: client.get(path, headers=HX))
    assert reads_cards(sent) and "Busy card" in answer.text and "Waiting card" not in answer.text


def test_kept_grids_keep_the_latest_few_and_forget_what_is_past_its_time():
    grids = KeptGrids(size=2)
    now = datetime(2026, 3, 4, tzinfo=UTC)
    kept = _Kept("grid", "Week 10", now + timedelta(days=3), valid_until=now + timedelta(hours=1))
    for key in ("a", "b"):
        grids.put(key, kept)
    assert grids.get("a", now) is kept  # now the latest used
    grids.put("c", kept)
    assert grids.get("b", now) is None and grids.get("a", now) is kept
    assert grids.get("c", now + timedelta(hours=1)) is None


def test_with_no_grids_kept_every_page_reads_its_cards(app, board):
    fresh = new_app(app_config(app.config["SQLALCHEMY_DATABASE_URI"], KEPT_GRIDS=0))
    client = fresh.test_client()
    Auth(client).login("ann")
    path = f"/b/{board['board']}"
    for _ in range(2):
        sent, answer = statements_sent(fresh, lambda: client.get(path, headers=HX))
        assert reads_cards(sent) and "Waiting card" in answer.text
