"""gunicorn.conf.py: no worker recycling by default, a wide jitter when it is turned on, and a
preloaded app whose forked workers serve with connections and metrics of their own."""

from __future__ import annotations

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
    with open(log_path, "w") as log_file:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", CONFIG, "app:app"],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            statuses = []
            deadline = time.monotonic() + 60
            while not statuses and time.monotonic() < deadline:
                try:
                    statuses.append(_get(port, "/readyz")[0])
                except OSError:
                    time.sleep(0.2)
            for _ in range(120):
                statuses.append(_get(port, "/readyz")[0])
            _, text = _get(port, "/metrics")
        finally:
            server.terminate()
            server.wait(timeout=30)
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


def _get(port: int, path: str) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()
