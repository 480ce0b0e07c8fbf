"""Worker recycling under a burst of fast answers, and what recycling would guard against.

Run from the repo root:  .venv/bin/python bench/recycle.py [--seconds 20] [--clients 8]

All on loopback, against gunicorn from gunicorn.conf.py (2 workers) and a throwaway SQLite
file migrated with `flask db upgrade`, holding one demo-sized board and one member:

  1. recycling as it was (GUNICORN_PRELOAD=0, GUNICORN_MAX_REQUESTS=300, jitter 30: each
     worker builds its own app after the fork, the workers come due close together), then
     as it is when turned on (preload, GUNICORN_MAX_REQUESTS=300, jitter 150). The limit
     is small so that a short run recycles often. --clients keep-alive clients send
     /readyz (one database query) as fast as they can for --seconds each;
  2. the default (no recycling, preload): the member's board page and the live poll,
     --leak-requests of them, with the workers' resident memory read from /proc before,
     half-way and after.

Prints on stdout, one `key = value` line per figure:

  recycle_stall_max_ms_before      the longest wait for an answer, recycling as it was
  recycle_p99_ms_before            its 99th percentile
  recycles_before                  workers recycled during that run
  recycle_stall_max_ms_after       the same with preload and a jitter of half the limit
  recycle_p99_ms_after
  recycles_after
  worker_rss_mb_start              the two workers' resident memory, summed, after warm-up
  worker_rss_growth_kb_per_10k     growth per 10,000 requests over the second half of the
                                   leak run (the first half warms caches up)

Details go to stderr.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
PASSWORD = "bench lantern quartz 47"  # noqa: S105 - a throwaway database's only account


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def flask(env: dict, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        input=None,
    )
    if done.returncode:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def prepare(work: Path) -> dict:
    """A migrated SQLite file with a board and a member; the environment to serve it."""
    env = {
        **os.environ,
        "SECRET_KEY": secrets.token_hex(16),
        "DATABASE_URL": f"sqlite:///{work / 'bench.sqlite3'}",
        "PROMETHEUS_MULTIPROC_DIR": str(work / "metrics"),
        "WEB_CONCURRENCY": "2",
        "GUNICORN_LOG_LEVEL": "info",
    }
    env.pop("GUNICORN_ACCESSLOG", None)
    flask(env, "db", "upgrade")
    flask(env, "create-user", "mia", "--name", "Mia", "--password", PASSWORD)
    board = re.search(r"board (\d+)", flask(env, "create-board", "Bench team"))
    board_id = board.group(1) if board else "1"
    flask(env, "add-member", board_id, "mia", "member")
    env["BENCH_BOARD"] = board_id
    return env


class Server:
    """gunicorn from gunicorn.conf.py with extra environment, on a free port."""

    def __init__(self, env: dict, extra: dict, log_path: Path) -> None:
        self.port = free_port()
        self.log_path = log_path
        self.log_file = open(log_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "app:app"],
            cwd=ROOT,
            env={**env, **extra, "GUNICORN_BIND": f"{HOST}:{self.port}"},
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited:\n{log_path.read_text()}")
            try:
                status, _ = get(self.connect(), "/readyz")
                if status == 200:
                    return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("gunicorn did not answer /readyz in time")

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(HOST, self.port, timeout=60)

    def workers(self) -> list[int]:
        """The pids of the workers alive now."""
        out = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(self.process.pid)],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        return [int(pid) for pid in out.split()]

    def booted(self) -> int:
        return self.log_path.read_text().count("Booting worker with pid")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log_file.close()


def get(connection: http.client.HTTPConnection, path: str, headers=None) -> tuple[int, bytes]:
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    return response.status, response.read()


def burst(server: Server, clients: int, seconds: float) -> list[float]:
    """Every client sends /readyz back to back for `seconds`; each request's latency (ms)."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors: list[str] = []
    stop_at = time.monotonic() + seconds

    def client(i: int) -> None:
        connection = server.connect()
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            try:
                status, _ = get(connection, "/readyz")
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                connection = server.connect()  # a recycled worker closed the connection
                errors.append(type(error).__name__)
                continue
            latencies[i].append((time.perf_counter() - started) * 1000)
            if status != 200:
                errors.append(str(status))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        log(f"  {len(errors)} failed attempts (retried): {sorted(set(errors))}")
    return [value for values in latencies for value in values]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def recycling(env: dict, work: Path, name: str, extra: dict, args) -> dict[str, float]:
    server = Server(env, extra, work / f"gunicorn-{name}.log")
    try:
        booted = server.booted()
        latencies = burst(server, args.clients, args.seconds)
        recycles = server.booted() - booted
    finally:
        server.stop()
    log(
        f"{name}: {len(latencies)} requests, max {max(latencies):.0f} ms, "
        f"p99 {percentile(latencies, 99):.1f} ms, {recycles} workers recycled ({extra})"
    )
    return {
        f"recycle_stall_max_ms_{name}": round(max(latencies), 1),
        f"recycle_p99_ms_{name}": round(percentile(latencies, 99), 1),
        f"recycles_{name}": recycles,
    }


def rss_kb(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def leak(env: dict, work: Path, args) -> dict[str, float]:
    """The default configuration (no recycling): memory over many logged-in page views."""
    server = Server(env, {}, work / "gunicorn-leak.log")
    try:
        board = env["BENCH_BOARD"]
        connections = []
        for _ in range(args.clients):
            connection = server.connect()
            cookie = login(connection)
            connections.append((connection, cookie))
        pids = server.workers()

        def views(count: int) -> None:
            def client(i: int) -> None:
                connection, cookie = connections[i]
                headers = {"Cookie": cookie}
                for n in range(count // args.clients):
                    path = f"/b/{board}" if n % 3 else f"/b/{board}/live?v=0"
                    try:
                        status, _ = get(connection, path, headers)
                    except (OSError, http.client.HTTPException):
                        # gunicorn closes a keep-alive connection idle for 5 s (while the
                        # memory is read): open another, the session cookie still holds.
                        connection.close()
                        connection = server.connect()
                        connections[i] = (connection, cookie)
                        status, _ = get(connection, path, headers)
                    if status not in (200, 204, 286):
                        raise SystemExit(f"{path} answered {status}")

            threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()

        half = args.leak_requests // 2
        views(1000)  # warm-up: templates compiled, caches filled
        start = rss_kb(pids)
        views(half)
        middle = rss_kb(pids)
        views(half)
        end = rss_kb(pids)
        if server.workers() != pids:
            raise SystemExit("a worker was replaced during the leak run")
    finally:
        server.stop()
    log(f"leak: workers' RSS {start} kB after warm-up, {middle} kB, {end} kB")
    return {
        "worker_rss_mb_start": round(start / 1024, 1),
        "worker_rss_growth_kb_per_10k": round((end - middle) / half * 10_000),
    }


def login(connection: http.client.HTTPConnection) -> str:
    """Log mia in as a browser does (the form's CSRF token, the session cookie); the cookie."""
    connection.request("GET", "/login")
    response = connection.getresponse()
    body = response.read()
    cookie = (response.getheader("Set-Cookie") or "").split(";", 1)[0]
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', body)
    if token is None:
        raise SystemExit("no CSRF token on the login page")
    form = urllib.parse.urlencode(
        {"username": "mia", "password": PASSWORD, "csrf_token": token.group(1).decode()}
    )
    connection.request(
        "POST",
        "/login",
        body=form,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
    )
    response = connection.getresponse()
    response.read()
    if response.status != 302:
        raise SystemExit(f"login answered {response.status}")
    return (response.getheader("Set-Cookie") or "").split(";", 1)[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20, help="each burst (20)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (8)")
    parser.add_argument("--leak-requests", type=int, default=10_000, help="(10000)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wb-recycle-") as folder:
        work = Path(folder)
        (work / "metrics").mkdir()
        env = prepare(work)
        figures: dict[str, float] = {}
        figures |= recycling(
            env,
            work,
            "before",
            {
                "GUNICORN_PRELOAD": "0",
                "GUNICORN_MAX_REQUESTS": "300",
                "GUNICORN_MAX_REQUESTS_JITTER": "30",
            },
            args,
        )
        figures |= recycling(env, work, "after", {"GUNICORN_MAX_REQUESTS": "300"}, args)
        figures |= leak(env, work, args)
    for key, value in figures.items():
        print(f"{key} = {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
