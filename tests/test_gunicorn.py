"""gunicorn.conf.py: no worker recycling by default, a wide jitter when it is turned on, and a
preloaded app whose forked workers serve with connections and metrics of their own."""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import runpy
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import free_port, postgres_database

ROOT = Path(__file__).resolve().parent.parent
CONFIG = str(ROOT / "gunicorn.conf.py")


def settings(monkeypatch, **env) -> dict:
    for name in ("GUNICORN_MAX_REQUESTS", "GUNICORN_MAX_REQUESTS_JITTER", "GUNICORN_PRELOAD"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(CONFIG)


def test_workers_are_not_recycled_by_default_and_the_app_is_preloaded(monkeypatch):
    config = settings(monkeypatch)
    assert config["max_requests"] == 0
    assert config["preload_app"] is True
    assert settings(monkeypatch, GUNICORN_PRELOAD="0")["preload_app"] is False


def test_recycling_when_turned_on_spreads_the_workers_over_half_the_limit(monkeypatch):
    """Two workers due within a few requests of each other left none to answer; a jitter
    of half the limit makes that the exception."""
    config = settings(monkeypatch, GUNICORN_MAX_REQUESTS="5000")
    assert config["max_requests"] == 5000 and config["max_requests_jitter"] == 2500
    config = settings(monkeypatch, GUNICORN_MAX_REQUESTS="5000", GUNICORN_MAX_REQUESTS_JITTER="100")
    assert config["max_requests_jitter"] == 100


def _flask(env: dict, *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'gunicorn.sqlite3'}"
        return
    url, drop = postgres_database()
    yield url
    drop()


@pytest.mark.slow
def test_preloaded_workers_recycle_and_serve_with_their_own_connections(database_url, tmp_path):
    """gunicorn as configured, preloading the app, with recycling turned on at a small limit:
    every request is answered while workers are replaced, each worker has its own database
    connections (the master made none), and /metrics still adds up every worker."""
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    port = free_port()
    env = {
        **os.environ,
        "SECRET_KEY": secrets.token_hex(16),
        "DATABASE_URL": database_url,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics),
        "WEB_CONCURRENCY": "2",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_MAX_REQUESTS": "20",
    }
    env.pop("GUNICORN_ACCESSLOG", None)
    env.pop("GUNICORN_PRELOAD", None)
    _flask(env, "db", "upgrade")
    log_path = tmp_path / "gunicorn.log"
    with _gunicorn(env, log_path):
        statuses = [_ready(port)]
        for _ in range(120):
            statuses.append(_get(port, "/readyz")[0])
        _, text = _get(port, "/metrics")
    output = log_path.read_text()
    assert statuses == [200] * 121, output[-2000:]
    assert output.count("Booting worker with pid") >= 4, output[-2000:]  # recycled
    counted = re.search(
        r'tracker_http_requests_total\{endpoint="ops.readyz",method="GET",status="200"\} (\S+)',
        text,
    )
    assert counted, text[:2000]
    # Workers replaced before the scrape still count (their files stay), so every request.
    assert float(counted.group(1)) == 121, (counted.group(0), output[-2000:])
    assert "Traceback" not in output, output[-4000:]


@contextlib.contextmanager
def _gunicorn(env: dict, log_path: Path):
    """gunicorn from gunicorn.conf.py, serving the app, stopped (and waited for) after."""
    with open(log_path, "w") as log_file:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", CONFIG, "app:app"],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            yield server
        finally:
            server.terminate()
            server.wait(timeout=30)


def _ready(port: int) -> int:
    """The first answer of /readyz, once the server listens (within a minute)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return _get(port, "/readyz")[0]
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_no_control_socket_by_default_and_one_of_its_own_when_asked(monkeypatch, tmp_path):
    assert settings(monkeypatch)["control_socket_disable"] is True
    asked = settings(monkeypatch, GUNICORN_CONTROL_SOCKET=str(tmp_path / "a.ctl"))
    assert asked["control_socket_disable"] is False
    assert asked["control_socket"] == str(tmp_path / "a.ctl")


@pytest.mark.slow
@pytest.mark.parametrize("sockets", ["default", "own"])
def test_two_gunicorns_of_one_user_keep_out_of_each_others_way(tmp_path, sockets):
    """gunicorn 27 gave every instance of a user the same control socket: the second took
    it over and the first to stop deleted it. Two instances, each stopped in turn: the
    other still serves, and keeps its own socket (or none, by default)."""
    home = tmp_path / "home"
    home.mkdir()
    servers = []
    for name in ("one", "two"):
        port, env = _instance(tmp_path, name, HOME=str(home))
        env.pop("XDG_RUNTIME_DIR", None)
        if sockets == "own":
            env["GUNICORN_CONTROL_SOCKET"] = str(tmp_path / f"{name}.ctl")
        servers.append((name, port, _gunicorn(env, tmp_path / f"{name}.log")))
    with servers[0][2], servers[1][2]:
        assert [_ready(port) for _, port, _ in servers] == [200, 200]
        if sockets == "own":  # the master makes it beside the workers, soon after
            assert _appears(tmp_path / "one.ctl") and _appears(tmp_path / "two.ctl")
        else:
            assert not list(home.rglob("*.ctl")), list(home.rglob("*"))
    for name, _, _ in servers:
        assert "Traceback" not in (tmp_path / f"{name}.log").read_text()


def test_stopping_one_gunicorn_leaves_the_others_control_socket(tmp_path):
    """Each instance with a socket of its own: stopping the first leaves the second's."""
    runs = []
    for name in ("one", "two"):
        port, env = _instance(tmp_path, name, GUNICORN_CONTROL_SOCKET=str(tmp_path / f"{name}.ctl"))
        runs.append((port, _gunicorn(env, tmp_path / f"{name}.log")))
    with runs[1][1]:
        with runs[0][1]:
            assert [_ready(port) for port, _ in runs] == [200, 200]
            assert _appears(tmp_path / "one.ctl") and _appears(tmp_path / "two.ctl")
        assert (tmp_path / "two.ctl").exists()
        assert _get(runs[1][0], "/readyz")[0] == 200


def _instance(tmp_path: Path, name: str, **extra: str) -> tuple[int, dict]:
    """A free port and the environment for one small gunicorn of this test (one worker, a
    SQLite file of its own, no control socket unless `extra` names one)."""
    port = free_port()
    env = {
        **os.environ,
        "SECRET_KEY": secrets.token_hex(16),
        "DATABASE_URL": f"sqlite:///{tmp_path / name}.sqlite3",
        "WEB_CONCURRENCY": "1",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
    }
    env.pop("GUNICORN_CONTROL_SOCKET", None)
    return port, env | extra


def _appears(path: Path) -> bool:
    """Whether the file exists within 10 seconds."""
    deadline = time.monotonic() + 10
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    return path.exists()


def _get(port: int, path: str) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()
