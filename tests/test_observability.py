"""Metrics at /metrics, request ids, and JSON log lines that carry ids and nothing personal."""

import io
import json
import logging
import os
import runpy
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from tests.helpers import PASSWORD, BoardSpec, CardSpec, Person, actor
from tests.helpers import app_config as config_for
from tracker import create_app, observability
from tracker.extensions import db
from tracker.models import Card, User
from tracker.services import cards
from tracker.store import append_event
from tracker.web.access import ROUTES

HX = {"HX-Request": "true"}
REMOTE = {"REMOTE_ADDR": "203.0.113.9"}
TITLE = "Quarterly kumquat audit"
NAME = "Zelda Quixote"
EMAIL = "zelda.quixote@example.org"


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def board_spec():
    """Support limit 1 with one card in progress and one ready; a member and a lead."""
    return BoardSpec(
        limits={"support": 1},
        people={"zelda": Person("member", name=NAME, email=EMAIL), "lee": "lead"},
        cards=(
            CardSpec("doing", "support", "First thing", at="In progress", by="lee"),
            CardSpec("ready", "support", TITLE, by="lee"),
            CardSpec("feature", "feature", TITLE + " two", by="lee"),
        ),
    )


@pytest.fixture
def log_lines():
    """The JSON lines the "tracker" logger writes during the test, parsed."""
    stream = io.StringIO()
    handler = observability.json_handler(stream)
    logger = logging.getLogger("tracker")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)
    logger.setLevel(level)


def login(client, username):
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return response


# --- /metrics access ---------------------------------------------------------------------


def test_metrics_are_served_to_loopback_and_hidden_from_others(client):
    client.get("/healthz")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    assert 'tracker_http_requests_total{endpoint="ops.healthz",method="GET",status="200"}' in (
        response.text
    )
    assert "/healthz" not in response.text  # endpoint names, never raw paths
    assert client.get("/metrics", environ_base=REMOTE).status_code == 404


def test_a_token_opens_metrics_to_anyone_who_sends_it(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "s3cret-token")
    good = {"Authorization": "Bearer s3cret-token"}
    assert client.get("/metrics", environ_base=REMOTE, headers=good).status_code == 200
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret-token"}):
        for environ in (REMOTE, {}):  # with a token set, loopback needs it too
            response = client.get("/metrics", environ_base=environ, headers=headers)
            assert response.status_code == 401
            assert response.headers["WWW-Authenticate"] == "Bearer"


def test_metrics_can_be_switched_off(app_session, monkeypatch):
    url = app_session.config["SQLALCHEMY_DATABASE_URI"]
    off = create_app(config_for(url, METRICS=False)).test_client()
    assert off.get("/metrics").status_code == 404
    assert off.get("/healthz").status_code == 200
    monkeypatch.setenv("TRACKER_METRICS", "off")
    assert create_app(config_for(url)).test_client().get("/metrics").status_code == 404


# --- counters ----------------------------------------------------------------------------


def test_pull_refusal_and_override_move_their_counters(app, client, board):
    pulls = sample("tracker_pulls_total")
    refusals = sample("tracker_wip_refusals_total", scope="lane")
    overrides = sample("tracker_wip_overrides_total")
    move = f"/b/{board['board']}/cards/{board['ready']}/move"
    into_progress = {"lane_id": board["support_lane"], "column_id": board["In progress"]}

    login(client, "zelda")
    assert client.post(move, headers=HX, data=into_progress).status_code == 422
    assert sample("tracker_wip_refusals_total", scope="lane") == refusals + 1
    assert sample("tracker_wip_overrides_total") == overrides
    assert client.post(f"/b/{board['board']}/pull", headers=HX).status_code == 200  # feature
    assert sample("tracker_pulls_total") == pulls + 1
    client.post("/logout")

    login(client, "lee")
    done = client.post(move, headers=HX, data={**into_progress, "reason": "Customer is down"})
    assert done.status_code == 200
    assert sample("tracker_wip_overrides_total") == overrides + 1
    assert sample("tracker_wip_refusals_total", scope="lane") == refusals + 1

    text = client.get("/metrics").text
    assert 'tracker_http_requests_total{endpoint="board.move_card",method="POST",status="422"}' in (
        text
    )
    assert 'tracker_http_request_duration_seconds_count{endpoint="board.pull",method="POST"}' in (
        text
    )


def test_created_cards_count_by_severity_and_intake_by_filer(app, board):
    s2 = sample("tracker_cards_created_total", severity="S2")
    intake = sample("tracker_intake_requests_total", severity="S2")
    with app.test_request_context("/"):
        lee = actor(db.session.get(User, board["lee"]), "lead")
        cards.create_card(
            board["board"], lee, board["support_lane"], {"title": "x", "severity": "S2"}
        )
        assert sample("tracker_cards_created_total", severity="S2") == s2 + 1
        assert sample("tracker_intake_requests_total", severity="S2") == intake
        filed = {"title": "y", "severity": "S2", "filed_by_id": board["zelda"]}
        cards.create_card(board["board"], lee, board["support_lane"], filed)
        assert sample("tracker_cards_created_total", severity="S2") == s2 + 2
        assert sample("tracker_intake_requests_total", severity="S2") == intake + 1
        db.session.remove()


def test_a_rolled_back_change_counts_nothing(app, board):
    pulls = sample("tracker_pulls_total")
    with app.test_request_context("/"):
        zelda = actor(db.session.get(User, board["zelda"]))
        card = db.session.get(Card, board["feature"])
        append_event(card, "pulled", zelda.id, {})
        db.session.flush()
        db.session.rollback()
        db.session.commit()
        db.session.remove()
    assert sample("tracker_pulls_total") == pulls


# --- request ids and log lines -----------------------------------------------------------


def test_request_id_is_echoed_when_sane_and_made_otherwise(client):
    assert client.get("/healthz", headers={"X-Request-ID": "lb-42_a"}).headers["X-Request-ID"] == (
        "lb-42_a"
    )
    for bad in ("has space", "x" * 65, "semi;colon", ""):
        made = client.get("/healthz", headers={"X-Request-ID": bad}).headers["X-Request-ID"]
        assert made != bad and len(made) == 32 and int(made, 16) >= 0


def test_log_lines_are_json_with_request_ids_and_no_personal_data(app, client, board, log_lines):
    assert client.get("/status/secret-token-in-the-path-0123456789abcdef").status_code == 404
    bad = client.post("/login", data={"username": "zelda", "password": "wrong password!"})
    assert bad.status_code == 422
    client.post("/login", data={"username": "nobody-here", "password": "wrong password!"})
    login(client, "zelda")
    move = f"/b/{board['board']}/cards/{board['ready']}/move"
    into_progress = {"lane_id": board["support_lane"], "column_id": board["In progress"]}
    refused = client.post(move, headers=HX, data=into_progress)
    pulled = client.post(f"/b/{board['board']}/pull", headers={**HX, "X-Request-ID": "pull-1"})
    assert client.get("/b/99999").status_code == 404
    assert client.get(f"/b/{board['board']}?q=text-someone-searched-for").status_code == 200
    client.post("/logout")

    lines = log_lines()
    by_event = {}
    for line in lines:
        assert {"time", "level", "event", "request_id"} <= line.keys()
        assert line["request_id"]
        by_event.setdefault(line["event"], []).append(line)

    failed = by_event["auth.login_failed"]
    assert [f["user_id"] for f in failed] == [board["zelda"], "unknown"]
    assert by_event["auth.login"][0]["user_id"] == board["zelda"]
    assert by_event["auth.logout"][0]["user_id"] == board["zelda"]

    (wip,) = [r for r in by_event["http.refused"] if r["status"] == 422 and "card_id" in r]
    assert wip["request_id"] == refused.headers["X-Request-ID"]
    assert wip["error"] == "WipLimitExceeded" and wip["level"] == "info"
    assert (wip["board_id"], wip["card_id"], wip["actor_id"]) == (
        board["board"],
        board["ready"],
        board["zelda"],
    )
    (pull,) = by_event["card.pulled"]
    assert pull["request_id"] == pulled.headers["X-Request-ID"] == "pull-1"
    assert (pull["board_id"], pull["card_id"], pull["actor_id"]) == (
        board["board"],
        board["feature"],
        board["zelda"],
    )
    assert pull["kind"] == "pulled"
    assert any(r["status"] == 404 and r["error"] == "NotFound" for r in by_event["http.refused"])
    (access,) = [r for r in by_event["http.request"] if r["request_id"] == "pull-1"]
    assert (access["endpoint"], access["method"], access["status"]) == ("board.pull", "POST", 200)
    assert access["ms"] >= 0 and access["board_id"] == board["board"]
    assert access["actor_id"] == board["zelda"]

    text = "\n".join(json.dumps(line) for line in lines).lower()
    paths = ("secret-token-in-the-path", "text-someone-searched-for", "/b/")
    for personal in (TITLE, NAME, EMAIL, "zelda", "nobody-here", "wrong password", *paths):
        assert personal.lower() not in text


def test_server_errors_log_the_exception_type_but_not_its_message(
    app_session, log_lines, monkeypatch
):
    monkeypatch.setitem(ROUTES, "boom", "public")
    app = create_app(
        config_for(app_session.config["SQLALCHEMY_DATABASE_URI"], PROPAGATE_EXCEPTIONS=False)
    )

    @app.get("/_boom")
    def boom():
        raise RuntimeError("the secret text of Zelda Quixote")

    response = app.test_client().get("/_boom")
    assert response.status_code == 500
    lines = log_lines()
    (error,) = [line for line in lines if line["event"] == "http.error"]
    assert error["status"] == 500 and error["error"] == "RuntimeError"
    assert error["request_id"] == response.headers["X-Request-ID"]
    assert any(line.get("exception") == "RuntimeError" for line in lines)
    assert "Zelda" not in json.dumps(lines)


def test_configured_logging_writes_json_lines_to_stderr(app_session, capsys):
    logger = logging.getLogger("tracker")
    handlers, level = list(logger.handlers), logger.level
    try:
        url = app_session.config["SQLALCHEMY_DATABASE_URI"]
        client = create_app(config_for(url, LOG_JSON=True)).test_client()
        client.get("/nowhere", headers={"X-Request-ID": "probe-7"})
        (line,) = [json.loads(x) for x in capsys.readouterr().err.splitlines()]
        assert line["event"] == "http.refused" and line["request_id"] == "probe-7"
    finally:
        logger.handlers[:] = handlers
        logger.setLevel(level)


# --- several processes -------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
CHILD = textwrap.dedent(
    """
    import sys
    from tests.helpers import app_config
    from tracker import create_app
    client = create_app(app_config(sys.argv[1])).test_client()
    for _ in range(int(sys.argv[2])):
        client.get("/healthz")
    if sys.argv[3] == "show":
        print(client.get("/metrics").text)
    """
)


def test_multiprocess_mode_adds_up_every_process(app_session, tmp_path):
    """With PROMETHEUS_MULTIPROC_DIR (gunicorn workers), /metrics sums all processes."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    url = app_session.config["SQLALCHEMY_DATABASE_URI"]

    def child(count, show):
        return subprocess.run(
            [sys.executable, "-c", CHILD, url, str(count), show],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout

    child(2, "no")
    text = child(3, "show")
    line = 'tracker_http_requests_total{endpoint="ops.healthz",method="GET",status="200"} 5.0'
    assert line in text


def test_gunicorn_keeps_no_access_log_of_paths_unless_asked(monkeypatch):
    """gunicorn's access lines would carry paths and query strings (status link tokens,
    an email searched for erasure); the app's own http.request lines replace them."""
    monkeypatch.delenv("GUNICORN_ACCESSLOG", raising=False)
    assert runpy.run_path("gunicorn.conf.py")["accesslog"] is None
    monkeypatch.setenv("GUNICORN_ACCESSLOG", "-")
    assert runpy.run_path("gunicorn.conf.py")["accesslog"] == "-"


def test_invented_http_methods_add_no_metric_series(client):
    def series() -> set[tuple[str, tuple]]:
        return {
            (s.name, tuple(sorted(s.labels.items())))
            for family in REGISTRY.collect()
            if family.name.startswith("tracker_http")
            for s in family.samples
        }

    client.open("/healthz", method="BREW0")  # the "other" series exist from here on
    before = series()
    for n in range(50):
        assert client.open("/healthz", method=f"BREW{n}").status_code == 405
    assert series() == before
    assert sample("tracker_http_requests_total", endpoint="none", method="other", status="405")


# --- the live board's polls ------------------------------------------------------------------


def board_version(app, board_id) -> int:
    from tracker.models import Board

    with app.app_context():
        version = db.session.get(Board, board_id).version
        db.session.remove()
    return version


def test_an_unchanged_poll_is_logged_at_debug_level_only(app, client, board, log_lines):
    """An open board polls every 2 s: "nothing changed" (204) stays out of the info log,
    a poll that brings a change and every other request stay in."""
    login(client, "lee")
    live = f"/b/{board['board']}/live"
    assert (
        client.get(live, query_string={"v": board_version(app, board["board"])}).status_code == 204
    )
    assert client.get(live, query_string={"v": "0"}).status_code == 200
    assert client.get(f"/b/{board['board']}").status_code == 200
    logging.getLogger("tracker").setLevel(logging.DEBUG)  # TRACKER_LOG_LEVEL=debug
    assert (
        client.get(live, query_string={"v": board_version(app, board["board"])}).status_code == 204
    )

    answered = [
        (line["endpoint"], line["status"], line["level"])
        for line in log_lines()
        if line["event"] == "http.request"
    ]
    assert answered == [
        ("auth.login", 302, "info"),
        ("board.live", 200, "info"),
        ("board.show", 200, "info"),
        ("board.live", 204, "debug"),
    ]


@pytest.fixture
def dev_server(app):
    """The app served by werkzeug's development server (what `flask run` uses) on loopback;
    yields a function that fetches a path there with one cookie jar and returns the status."""
    import threading
    import urllib.error
    import urllib.request
    from http.cookiejar import CookieJar

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    base = f"http://127.0.0.1:{server.server_port}"

    def fetch(path: str, data: dict | None = None) -> int:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with opener.open(base + path, data=body, timeout=10) as answer:
                return answer.status
        except urllib.error.HTTPError as error:
            return error.code

    yield fetch
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


def server_lines(caplog) -> list[str]:
    """The development server's request lines, without their terminal colours."""
    import re

    return [
        re.sub(r"\x1b\[[0-9;]*m", "", r.getMessage())
        for r in caplog.records
        if r.name == "werkzeug" and '"' in r.getMessage()
    ]


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
def test_the_development_server_logs_no_unchanged_poll_unless_debugging(
    app, board, dev_server, caplog, level
):
    """werkzeug's own line per request: an unchanged poll has none below debug level; the
    poll that brings a change, the page and the login keep theirs."""
    observability.quiet_polls(app if level == "INFO" else _debug_app(app))
    try:
        caplog.set_level(logging.INFO, logger="werkzeug")
        assert dev_server("/login", {"username": "lee", "password": PASSWORD}) == 200
        version = board_version(app, board["board"])
        live = f"/b/{board['board']}/live"
        assert dev_server(f"{live}?v={version}") == 204
        assert dev_server(f"{live}?v=0") == 200
        assert dev_server(f"/b/{board['board']}") == 200
        lines = server_lines(caplog)
    finally:
        observability.quiet_polls(app)
    assert any('"POST /login' in line and " 302 " in line for line in lines)
    assert any(f'"GET {live}?v=0 ' in line and " 200 " in line for line in lines)
    assert any(f'"GET /b/{board["board"]} ' in line for line in lines)
    polls = [line for line in lines if f"{live}?v={version} " in line]
    assert len(polls) == (1 if level == "DEBUG" else 0), lines


def _debug_app(app):
    """An app of the same database with TRACKER_LOG_LEVEL=debug."""
    from tests.helpers import new_app

    return new_app(config_for(app.config["SQLALCHEMY_DATABASE_URI"], LOG_LEVEL="DEBUG"))
