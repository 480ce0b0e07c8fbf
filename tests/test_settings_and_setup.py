"""A lead's settings page, columns, configuration and migrations."""

import re
from zoneinfo import available_timezones

import pytest
from sqlalchemy import inspect

from tests.helpers import BoardSpec, CardSpec, make_user
from tracker import create_app
from tracker.config import ConfigError
from tracker.extensions import db
from tracker.models import Board


@pytest.fixture
def board_spec():
    return BoardSpec(
        people={"lee": "lead", "ann": "member"},
        cards=(CardSpec(None, "feature", "In review", at="Review"),),
    )


def settings_data(ids, **overrides):
    data = {"timezone": "Europe/Berlin", "per_person_limit": "2", "pull_order": "feature,support"}
    for i, (lane_id, limit, mode) in enumerate(
        zip(ids["lanes"], ["1", "5", ""], ["strict", "reason", "strict"], strict=True)
    ):
        data |= {
            f"lanes-{i}-lane_id": lane_id,
            f"lanes-{i}-name": f"Lane {i}",
            f"lanes-{i}-wip_limit": limit,
            f"lanes-{i}-mode": mode,
        }
    for i, column_id in enumerate(ids["columns"]):
        data |= {
            f"columns-{i}-column_id": column_id,
            f"columns-{i}-wip_limit": "3" if i == 2 else "",
        }
    return data | overrides


def test_only_leads_reach_settings(client, auth, board):
    auth.login("ann")
    assert client.get(f"/b/{board['board']}/settings").status_code == 403
    assert (
        client.post(f"/b/{board['board']}/settings", data=settings_data(board)).status_code == 403
    )
    assert "Settings" not in client.get(f"/b/{board['board']}").text.split("<main")[0]


def test_lead_saves_limits_modes_order_and_zone(app, client, auth, board):
    auth.login("lee")
    page = client.get(f"/b/{board['board']}/settings")
    assert page.status_code == 200 and "WIP limit" in page.text
    saved = client.post(f"/b/{board['board']}/settings", data=settings_data(board))
    assert saved.status_code == 303
    with app.app_context():
        b = db.session.get(Board, board["board"])
        assert b.timezone == "Europe/Berlin" and b.per_person_limit == 2
        assert b.pull_order == "feature,support"
        assert [(lane.wip_limit, lane.limit_mode) for lane in b.lanes] == [
            (1, "strict"),
            (5, "reason"),
            (None, "strict"),
        ]
        assert [c.wip_limit for c in b.columns] == [None, None, 3, None]
    board_page = client.get(f"/b/{board['board']}").text
    assert 'Review <span class="wip full">1 / 3</span>' not in board_page  # 1 of 3: ok
    assert "1 / 3" in board_page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("lanes-0-wip_limit", "-1", "between 1 and 999"),
        ("lanes-0-wip_limit", "many", "whole number"),
        ("timezone", "Nowhere/City", "not a time zone"),
        ("pull_order", "feature", "Not a valid choice"),
        ("lanes-0-mode", "loose", "Not a valid choice"),
        ("lanes-0-lane_id", "999999", "not on this board"),
        ("columns-3-wip_limit", "4", "done column cannot"),
    ],
)
def test_bad_settings_are_refused_and_kept(app, client, auth, board, field, value, message):
    auth.login("lee")
    response = client.post(
        f"/b/{board['board']}/settings", data=settings_data(board, **{field: value})
    )
    assert response.status_code == 422
    assert message in response.text
    with app.app_context():
        assert db.session.get(Board, board["board"]).timezone == "UTC"


def columns_data(ids, rows):
    data = {}
    for i, (column_id, name, kind, position, remove) in enumerate(rows):
        data |= {
            f"columns-{i}-column_id": column_id or "",
            f"columns-{i}-name": name,
            f"columns-{i}-kind": kind,
            f"columns-{i}-position": position,
            f"columns-{i}-remove": remove,
        }
    return data


def test_lead_renames_adds_reorders_and_removes_columns(app, client, auth, board):
    auth.login("lee")
    ready, doing, review, done = board["columns"]
    rows = [
        (ready, "Ready", "queue", 1, ""),
        (doing, "Doing", "active", 3, ""),
        (review, "Review", "active", 2, ""),
        (done, "Done", "done", 5, ""),
        (None, "Testing", "active", 4, ""),
    ]
    response = client.post(f"/b/{board['board']}/settings/columns", data=columns_data(board, rows))
    assert response.status_code == 303
    with app.app_context():
        names = [c.name for c in db.session.get(Board, board["board"]).columns]
    assert names == ["Ready", "Review", "Doing", "Testing", "Done"]
    # The empty "Doing" column can go; "Review" (it holds a card) cannot.
    with app.app_context():
        b = db.session.get(Board, board["board"])
        current = [(c.id, c.name, c.kind, i, "") for i, c in enumerate(b.columns, start=1)]
    removing = [row if row[1] != "Doing" else (*row[:4], "remove") for row in current]
    assert (
        client.post(
            f"/b/{board['board']}/settings/columns", data=columns_data(board, removing)
        ).status_code
        == 303
    )
    refusing = [
        row if row[1] != "Review" else (*row[:4], "remove") for row in current if row[1] != "Doing"
    ]
    refused = client.post(
        f"/b/{board['board']}/settings/columns", data=columns_data(board, refusing)
    )
    assert refused.status_code == 422 and "still has 1 card (done" in refused.text


def offered_timezones(page: str) -> list[str] | None:
    """The names the time zone field offers: its datalist's options (None: no list)."""
    field = re.search(r'<input[^>]*name="timezone"[^>]*>', page)
    listed = re.search(r'<datalist id="timezones">(.*?)</datalist>', page, re.S)
    if field is None or listed is None or 'list="timezones"' not in field.group(0):
        return None
    return re.findall(r'<option value="([^"]+)">', listed.group(1))


def test_the_time_zone_fields_offer_every_zone_the_server_accepts(app, client, auth, board):
    """The settings' time zone and a new board's (admins) offer a searchable list of exactly
    the names the server accepts; a name off the list is still refused (see above)."""
    every = sorted(available_timezones())
    auth.login("lee")
    assert offered_timezones(client.get(f"/b/{board['board']}/settings").text) == every
    assert offered_timezones(client.get("/").text) is None  # no board form for a lead
    auth.logout()
    with app.app_context():
        make_user("root", admin=True)
    auth.login("root")
    assert offered_timezones(client.get("/").text) == every
    refused = client.post("/boards", data={"name": "Elsewhere", "timezone": "Berlin"})
    assert refused.status_code == 422 and "not a time zone" in refused.text
    assert offered_timezones(refused.text) == every


def test_column_positions_are_shown_from_1(client, auth, board):
    """The columns form numbers the columns as people count them, the empty row for a new
    column last; 0 is no position."""
    auth.login("lee")
    page = client.get(f"/b/{board['board']}/settings").text
    shown = re.findall(r'name="columns-(\d+)-position"[^>]*value="(\d+)"', page)
    assert shown == [(str(i), str(i + 1)) for i in range(len(board["columns"]) + 1)]
    ready, doing, review, done = board["columns"]
    rows = [
        (ready, "Ready", "queue", 0, ""),
        (doing, "Doing", "active", 2, ""),
        (review, "Review", "active", 3, ""),
        (done, "Done", "done", 4, ""),
    ]
    refused = client.post(f"/b/{board['board']}/settings/columns", data=columns_data(board, rows))
    assert refused.status_code == 422 and "between 1 and 99" in refused.text


def test_column_order_rules_are_explained(client, auth, board):
    auth.login("lee")
    ready, doing, review, done = board["columns"]
    rows = [
        (ready, "Ready", "queue", 1, ""),
        (doing, "Doing", "active", 2, ""),
        (review, "Review", "active", 4, ""),
        (done, "Done", "done", 3, ""),
    ]
    response = client.post(f"/b/{board['board']}/settings/columns", data=columns_data(board, rows))
    assert response.status_code == 422
    assert "The last column must be a done column." in response.text


def test_the_app_refuses_to_start_without_a_secret_key(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("TRACKER_DEMO", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/x.sqlite3")
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        create_app()
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    assert create_app().config["SECRET_KEY"] == "from-the-environment"


def test_database_url_is_normalised(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x")
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db/wb")
    assert create_app().config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db/wb"


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database(request, tmp_path):
    """An empty database of each kind, made for this test and dropped after it."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/migrated.sqlite3"
        return
    from tests.helpers import postgres_database

    url, drop = postgres_database()
    yield url
    drop()


def test_migrations_build_the_same_schema_as_the_models(empty_database):
    """Upgrade an empty database through every migration; `flask db check` is then clean."""
    from flask_migrate import upgrade

    from tests.helpers import app_config

    app = create_app(app_config(empty_database))
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {
            "board",
            "lane",
            "board_column",
            "card",
            "card_event",
            "user_account",
            "membership",
            "sprint",
            "comment",
            "status_link",
            "outbound_mail",
        } <= tables
    result = app.test_cli_runner().invoke(args=["db", "check"])
    # `flask db check` exits non-zero when the models and the migrations differ.
    assert result.exit_code == 0 and result.exception is None, result.output
    with app.app_context():
        db.engine.dispose()
