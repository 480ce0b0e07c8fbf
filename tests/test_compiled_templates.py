"""compile_templates (run by gunicorn.conf.py in the master before it forks): afterwards no
page a person opens compiles a template."""

from __future__ import annotations

import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import Flask

from tests.helpers import Auth, BoardSpec, CardSpec, app_config, new_app
from tracker import compile_templates

CONFIG = str(Path(__file__).resolve().parent.parent / "gunicorn.conf.py")


@pytest.fixture
def board_spec() -> BoardSpec:
    return BoardSpec(cards=(CardSpec("card", "feature", "A card"),))


def test_after_compiling_no_page_loads_a_template(app, board, tmp_path, monkeypatch):
    fresh = new_app(app_config(app.config["SQLALCHEMY_DATABASE_URI"]))
    assert compile_templates(fresh) >= 10
    loader = fresh.jinja_env.loader

    def refuse(*_args):
        raise AssertionError("a template was loaded after compile_templates")

    monkeypatch.setattr(loader, "get_source", refuse)
    client = fresh.test_client()
    assert Auth(client).login("ann").status_code == 302
    for path in ("/", f"/b/{board['board']}", f"/b/{board['board']}/cards/{board['card']}"):
        assert client.get(path).status_code == 200, path
    assert client.get(f"/b/{board['board']}", headers={"HX-Request": "true"}).status_code == 200


@pytest.mark.parametrize("preload", [True, False])
def test_gunicorn_compiles_and_warms_up_where_the_app_is_built(monkeypatch, preload):
    """The master's app when preloaded (when_ready), else each worker's (post_worker_init):
    its templates compiled, then warmed up (tracker.web.warm); and every worker, preloaded or
    not, opens its database connections before its first request."""
    config = runpy.run_path(CONFIG)
    compiled, warmed, connected = [], [], []
    monkeypatch.setattr("tracker.compile_templates", compiled.append)
    monkeypatch.setattr("tracker.web.warm.warm_up", warmed.append)
    monkeypatch.setattr("tracker.database.open_connections", connected.append)
    app = Flask("weatherboard")
    server = SimpleNamespace(cfg=SimpleNamespace(preload_app=preload))
    server.app = SimpleNamespace(wsgi=lambda: app)
    worker = SimpleNamespace(cfg=server.cfg, wsgi=app)
    config["when_ready"](server)
    config["post_worker_init"](worker)
    assert compiled == [app] and warmed == [app] and connected == [app]


def test_gunicorn_leaves_an_app_that_is_not_the_trackers_alone(monkeypatch):
    """bench/serve.py serves a plain WSGI floor with the same gunicorn.conf.py."""
    config = runpy.run_path(CONFIG)
    touched = []
    monkeypatch.setattr("tracker.compile_templates", touched.append)
    monkeypatch.setattr("tracker.database.after_fork", touched.append)
    monkeypatch.setattr("tracker.web.warm.warm_up", touched.append)
    monkeypatch.setattr("tracker.database.open_connections", touched.append)
    plain = SimpleNamespace()
    for preload in (True, False):
        server = SimpleNamespace(cfg=SimpleNamespace(preload_app=preload))
        server.app = SimpleNamespace(wsgi=lambda: plain)
        config["when_ready"](server)
        config["post_worker_init"](SimpleNamespace(cfg=server.cfg, wsgi=plain))
        config["post_fork"](server, None)
    assert touched == []
