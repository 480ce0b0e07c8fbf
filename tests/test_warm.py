"""tracker.web.warm (run by gunicorn.conf.py before the server takes requests): the first
board page of a started server compiles no SQL statement and renders no tile afresh."""

from __future__ import annotations

import re

import pytest

from tests.helpers import Auth, BoardSpec, CardSpec, app_config, new_app
from tracker import compile_templates, config, database
from tracker.extensions import db
from tracker.web import warm
from tracker.web.presenters import _render_kept


@pytest.fixture
def board_spec() -> BoardSpec:
    cards = [CardSpec(f"card{i}", "feature", f"Card {i}") for i in range(5)]
    cards += [CardSpec("doing", "support", "Doing", at="In progress")]
    cards += [CardSpec("done", "feature", "Done already", at="Done")]
    return BoardSpec(cards=tuple(cards))


def compiled(app) -> int:
    with app.app_context():
        return len(db.engine._compiled_cache)


@pytest.mark.parametrize("warmed", [True, False])
def test_the_first_board_page_after_warming_up_compiles_and_renders_nothing(app, board, warmed):
    fresh = new_app(app_config(app.config["SQLALCHEMY_DATABASE_URI"]))
    compile_templates(fresh)
    if warmed:
        assert warm.warm_up(fresh) == 1  # the one board
    client = fresh.test_client()
    assert Auth(client).login("ann").status_code == 302
    statements, tiles = compiled(fresh), _render_kept.cache_info().misses
    assert client.get(f"/b/{board['board']}").status_code == 200
    new = (compiled(fresh) - statements, _render_kept.cache_info().misses - tiles)
    if warmed:
        assert new == (0, 0)
    else:  # the test can fail: unwarmed, the page compiles its statements
        assert new[0] > 0


def test_warming_up_leaves_no_connection_open(app, board):
    fresh = new_app(app_config(app.config["SQLALCHEMY_DATABASE_URI"]))
    warm.warm_up(fresh)
    with fresh.app_context():
        assert db.engine.pool.checkedin() == 0 and db.engine.pool.checkedout() == 0


def test_no_boards_to_warm_still_warms_the_sign_in_statement(app, board):
    fresh = new_app(app_config(app.config["SQLALCHEMY_DATABASE_URI"], WARM_BOARDS=0))
    assert warm.warm_up(fresh) == 0
    assert compiled(fresh) == 1


def test_a_database_that_does_not_answer_leaves_the_app_cold_not_stopped(tmp_path, monkeypatch):
    missing = tmp_path / "no-such-folder" / "db.sqlite3"  # SQLite cannot open it
    fresh = new_app(app_config(f"sqlite:///{missing}"))
    warned = []
    monkeypatch.setattr(warm.log, "warning", lambda message, *args: warned.append(message % args))
    assert warm.warm_up(fresh) == 0
    assert len(warned) == 1 and warned[0].startswith("warm-up skipped, the database did not answer")


def test_warming_up_compiles_the_routers_patterns_before_the_first_request(app, monkeypatch):
    """werkzeug compiles a route's patterns when an address first follows them; the re
    module keeps them, and a forked worker inherits what the master kept."""
    compiles = []
    compile_pattern = re._compiler.compile

    def counting(*args, **kwargs):
        compiles.append(args[0])
        return compile_pattern(*args, **kwargs)

    monkeypatch.setattr(re._compiler, "compile", counting)
    adapter = app.url_map.bind("localhost")
    addresses = [("/b/1", "GET"), ("/b/1/cards/2/move", "POST"), ("/b/1/live", "GET")]
    re.purge()
    for path, method in addresses:
        adapter.match(path, method=method)
    assert compiles  # the test can fail: cold, the router compiles
    re.purge()
    assert warm.warm_routes(app) == len(list(app.url_map.iter_rules()))  # every route
    compiles.clear()
    for path, method in addresses:
        adapter.match(path, method=method)
    assert compiles == []


def test_a_worker_opens_its_connection_before_its_first_request(app, board):
    fresh = new_app(app_config(app.config["SQLALCHEMY_DATABASE_URI"]))
    with fresh.app_context():
        assert db.engine.pool.checkedin() == 0
    database.open_connections(fresh)
    with fresh.app_context():
        # open and waiting in the pool, not held by anything
        assert db.engine.pool.checkedin() == 1 and db.engine.pool.checkedout() == 0
        db.engine.dispose()


def test_a_worker_whose_database_does_not_answer_starts_all_the_same(tmp_path, monkeypatch):
    missing = tmp_path / "no-such-folder" / "db.sqlite3"  # SQLite cannot open it
    fresh = new_app(app_config(f"sqlite:///{missing}"))
    warned = []
    note = lambda message, *args: warned.append(message % args)  # noqa: E731
    monkeypatch.setattr(database.log, "warning", note)
    database.open_connections(fresh)
    assert len(warned) == 1 and warned[0].startswith("no connection opened ahead")


@pytest.mark.parametrize(
    "variable, key", [("TRACKER_WARM_BOARDS", "WARM_BOARDS"), ("TRACKER_KEPT_GRIDS", "KEPT_GRIDS")]
)
@pytest.mark.parametrize(
    "value, expected",
    [("", "default"), ("0", 0), ("25", 25), (" 3 ", 3), ("ten", None), ("-1", None)],
)
def test_counts_from_the_environment(monkeypatch, variable, key, value, expected):
    monkeypatch.setenv(variable, value)
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    if expected is None:
        with pytest.raises(config.ConfigError, match=variable):
            new_app()
    else:
        default = config.DEFAULTS[key] if expected == "default" else expected
        assert new_app().config[key] == default
