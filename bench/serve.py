"""Served speed: the board as people meet it, through gunicorn over HTTP, on SQLite (and
PostgreSQL, when TRACKER_BENCH_POSTGRES_URL names a server). Issue 18.

Run from the repo root:  PYTHONPATH=. .venv/bin/python bench/serve.py
(with PostgreSQL too: TRACKER_BENCH_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test
in front; the role needs CREATEDB). About 2 minutes per database on the 2-core machine.

Builds the board bench/board.py builds (its build(): 100,000 done cards of history, then
200 and later 2,000 open cards) on a fresh SQLite file in a temporary directory, and again in
a throwaway PostgreSQL database that is dropped at the end. Starts the app as production
does: gunicorn with the repo's gunicorn.conf.py, WEB_CONCURRENCY=2, on a free port of
127.0.0.1, no control socket, PROMETHEUS_MULTIPROC_DIR set. Logs in over HTTP as a board
member (member1; CSRF on, cookies kept) and measures with a small asyncio HTTP/1.1
keep-alive client in this process. Every answer is checked (status, and the board page's
id="board", the change's notice); a failed check ends the run with SystemExit. Stops every
gunicorn it started (its whole process group), drops the database, removes the temporary
files. Prints one `key = value` line per figure on stdout; each run's values and the
details go to stderr.

Throughput: N connections, each sending GET /b/<id> (the whole page) back to back for
SECONDS after WARMUP_SECONDS; the variants alternate (c8, c2, floor, c8, c2, floor, ...),
REPEATS times each, and the figure is the median of the repeats.
  serve_board_200_rps_c8, serve_board_200_rps_c2     pages per second, 8 / 2 connections,
  serve_board_2000_rps_c8, serve_board_2000_rps_c2   on the 200- / 2,000-card board
                                        (target: serve_board_200_rps_c8 >= 160 on SQLite,
                                        >= 140 on PostgreSQL)
  serve_board_200_cpu_ms      CPU time of gunicorn (master and workers, from /proc) over the
                              c8 board-200 runs, per page served
  The board does not change during these runs, so its page comes from the grid each worker
  keeps by board version (tracker.web.presenters.grid). The same runs against a second
  gunicorn that keeps none (TRACKER_KEPT_GRIDS=0: every page reads and renders its grid,
  as after each change) alternate with them:
  serve_unkept_board_200_rps_c8, serve_unkept_board_200_cpu_ms
  serve_floor_rps_c8          the floor: bench/floor_app.py, a WSGI app answering the bytes
                              of the board-200 page captured from the server, under the same
                              gunicorn.conf.py and worker count (its hooks leave an app
                              that is not the tracker's alone), c8
  serve_board_200_over_floor  serve_floor_rps_c8 / serve_board_200_rps_c8 (target <= 12)
  serve_over_inprocess_200    serve_board_200_cpu_ms / the board-200 page's median time in
                              process (bench/board.py's Bench, Flask's test client, same
                              database, same member, same run) (target <= 1.3)
Latency: medians of SEQUENTIAL requests on one connection after 3 warm-ups, client side,
sent as app.js sends them (HX-Request, X-CSRFToken, X-Board-Version: the version the
last answer showed), each answer checked as bench/board.py checks it:
  serve_move_ms               POST .../cards/<id>/move, In progress <-> Review (target <= 12)
  serve_pull_ms               POST /b/<id>/pull, "You pulled" (target <= 12)
  serve_poll_ms               GET /b/<id>/live?v=<version>, the open page's poll: 204 while
                              nothing changed (target <= 2)
  serve_move_2000_ms, serve_pull_2000_ms              the same on the 2,000-card board
  serve_move_2000_over_200, serve_pull_2000_over_200  their ratios (target <= 1.2)
Cold start: COLD_STARTS times, a second gunicorn of the app is started afresh on the same
database (its master up and /readyz answered, as a load balancer would wait for), then the
logged-in member's cookie opens one new connection and GETs the board page ten times:
  serve_first_ms              median over the starts of the first page's time
  serve_tenth_ms              median of the tenth's
  serve_first_over_tenth      their ratio (target: the first not slower than the tenth)
On PostgreSQL the same keys with a pg_ prefix (pg_serve_board_200_rps_c8, ...). Its
throwaway database commits as the app's SQLite does, without waiting for the disk's flush
(synchronous_commit = off; SQLite's WAL with synchronous=NORMAL does not flush on commit
either), as bench/board.py's does, so the two databases are compared doing the same work.
What a flushed commit costs that server is printed apart, and a server left at
synchronous_commit = on adds it to every move and pull:
  pg_commit_flush_ms          a one-row INSERT and COMMIT with synchronous_commit on, median
                              of 200 (bench/throwaway_db.py)

The load generator shares the machine's two cores with gunicorn (and PostgreSQL): stderr
gives its CPU time per run. Other work on the machine lowers every figure: bench on a quiet
machine.
"""

from __future__ import annotations

import asyncio
import http.client
import io
import os
import re
import secrets
import statistics
import tempfile
import time
import urllib.parse
from collections import defaultdict
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path

from board import PASSWORD, SIZES, Bench, build, csrf_token, log
from serving import (
    HOST,
    cpu_by_process,
    free_port,
    machine_cpu,
    start_gunicorn,
    stop_gunicorn,
    wait_ready,
)
from sqlalchemy import make_url
from throwaway_db import commit_flush_ms, throwaway_postgres, unflushed

from tracker.extensions import db

MEMBER = "member1"  # a member of the board (bench/board.py's Builder), not its lead
WORKERS = 2
WARMUP_SECONDS = 1.0
SECONDS = 5.0
REPEATS = 3
SEQUENTIAL = 50
SEQUENTIAL_WARMUP = 3
BOARD_MARK = b'id="board"'
TILE = b'<li class="card'
VERSION = re.compile(r'id="board-live"[^>]*data-version="(\d+)"')

FIGURES = (
    "serve_board_200_rps_c8",
    "serve_board_200_rps_c2",
    "serve_board_2000_rps_c8",
    "serve_board_2000_rps_c2",
    "serve_board_200_cpu_ms",
    "serve_unkept_board_200_rps_c8",
    "serve_unkept_board_200_cpu_ms",
    "serve_floor_rps_c8",
    "serve_board_200_over_floor",
    "serve_over_inprocess_200",
    "serve_move_ms",
    "serve_pull_ms",
    "serve_poll_ms",
    "serve_move_2000_ms",
    "serve_pull_2000_ms",
    "serve_move_2000_over_200",
    "serve_pull_2000_over_200",
    "serve_first_ms",
    "serve_tenth_ms",
    "serve_first_over_tenth",
)
COLD_STARTS = 3


class Answer:
    """An HTTP answer, shaped like the test client's where bench/board.py reads it."""

    def __init__(self, status: int, headers: http.client.HTTPMessage, body: bytes) -> None:
        self.status_code, self.headers, self.body = status, headers, body

    @property
    def text(self) -> str:
        return self.body.decode()


class Connection:
    """One keep-alive HTTP/1.1 connection, with cookies of its own (copied at the start)."""

    def __init__(self, port: int, cookies: dict[str, str] | None = None) -> None:
        self.port = port
        self.cookies = dict(cookies or {})
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.reopened = 0  # connections the server closed while idle, opened again

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(HOST, self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(
        self, method: str, path: str, headers: dict | None = None, form: dict | None = None
    ) -> Answer:
        """Send a request and read its answer. When the server has closed the connection
        while it was idle (gunicorn's keepalive), open a new one and send it again, as a
        browser does; the server read nothing of it, so a POST is safe to send again."""
        for attempt in (1, 2):
            fresh = self.writer is None
            if fresh:
                await self.open()
            try:
                return await self._exchange(method, path, headers, form)
            except (ConnectionError, asyncio.IncompleteReadError) as error:
                self.close()
                if fresh or attempt == 2:
                    raise SystemExit(f"{method} {path}: {error!r}") from None
                self.reopened += 1
        raise AssertionError("unreachable")

    async def _exchange(self, method, path, headers, form) -> Answer:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        body = b""
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            lines.append("Content-Type: application/x-www-form-urlencoded")
        if method == "POST":
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await self.writer.drain()
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionResetError("the server closed the connection")
        status = int(status_line.split()[1])
        head = await self.reader.readuntil(b"\r\n\r\n")
        message = http.client.parse_headers(io.BytesIO(head))
        if status in (204, 304) or method == "HEAD":
            data = b""
        elif message.get("Transfer-Encoding", "").lower() == "chunked":
            data = await self._chunked()
        else:
            data = await self.reader.readexactly(int(message.get("Content-Length", "0")))
        for header in message.get_all("Set-Cookie") or []:
            for key, morsel in SimpleCookie(header).items():
                self.cookies[key] = morsel.value
        if message.get("Connection", "").lower() == "close":
            self.close()
        return Answer(status, message, data)

    async def _chunked(self) -> bytes:
        parts = []
        while True:
            size = int((await self.reader.readline()).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")  # no trailers are sent
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)


def board_page_ok(answer: Answer) -> None:
    if answer.status_code != 200 or BOARD_MARK not in answer.body:
        raise SystemExit(f"board page failed: {answer.status_code} {answer.body[:300]!r}")


def floor_ok(answer: Answer) -> None:
    if answer.status_code != 200 or BOARD_MARK not in answer.body:
        raise SystemExit(f"floor page failed: {answer.status_code}")


@dataclass
class Usage:
    """CPU seconds: gunicorn's processes (by pid), this process, the whole machine."""

    server: dict[int, float]
    own: float
    busy: float
    all: float

    @classmethod
    def now(cls, pid: int) -> Usage:
        return cls(cpu_by_process(pid), time.process_time(), *machine_cpu())

    def __sub__(self, before: Usage) -> Usage:
        server = {p: t - before.server.get(p, 0.0) for p, t in self.server.items()}
        return Usage(server, self.own - before.own, self.busy - before.busy, self.all - before.all)

    def describe(self, pid: int, pages: int) -> str:
        """Per page: gunicorn's CPU (and each worker's share), this load generator's; and
        how busy the machine was, and with what besides these two."""
        server = sum(self.server.values())
        workers = [t for p, t in sorted(self.server.items()) if p != pid]
        shares = "/".join(f"{t / server:.0%}" for t in workers) if server else "-"
        others = self.busy - server - self.own
        return (
            f"gunicorn CPU {server / max(pages, 1) * 1000:.2f} ms/page (workers {shares}), "
            f"load generator {self.own / max(pages, 1) * 1000:.2f} ms/page; machine "
            f"{self.busy / self.all:.0%} busy, other processes (PostgreSQL too) "
            f"{others / SECONDS:.2f} cores"
        )


async def throughput(port: int, cookies: dict, path: str, check, concurrency: int, pid: int):
    """(completed checked answers per second, their count, gunicorn CPU seconds) over
    SECONDS of back-to-back requests on `concurrency` fresh connections, after a warm-up."""
    connections = [Connection(port, cookies) for _ in range(concurrency)]
    await asyncio.gather(*(c.open() for c in connections))
    loop = asyncio.get_running_loop()
    start = loop.time()
    begin, end = start + WARMUP_SECONDS, start + WARMUP_SECONDS + SECONDS
    counted = 0

    async def client(connection: Connection) -> None:
        nonlocal counted
        while loop.time() < end:
            answer = await connection.request("GET", path)
            check(answer)
            if begin <= loop.time() <= end:
                counted += 1

    async def cpu() -> Usage:
        await asyncio.sleep(begin - loop.time())
        usage = Usage.now(pid)
        await asyncio.sleep(end - loop.time())
        return Usage.now(pid) - usage

    try:
        usage, *_ = await asyncio.gather(cpu(), *map(client, connections))
    finally:
        for connection in connections:
            connection.close()
    if any(c.reopened for c in connections):
        raise SystemExit("the server closed a busy keep-alive connection")
    return counted / SECONDS, counted, usage


class Served:
    """One database: the board built, gunicorn (the app and the floor) started, measured."""

    def __init__(self, url: str, tmp: Path, servers: list) -> None:
        self.url, self.tmp, self.servers = url, tmp, servers
        self.runs: dict[str, list[float]] = defaultdict(list)
        # gunicorn CPU seconds and pages, over the c8 board-200 runs, by key
        self.cpu: dict[str, list] = defaultdict(lambda: [0.0, 0])
        self.figures: dict[str, float] = {}

    def start(self, name: str, env: dict, app: str = "app:app", *args: str, ready="/readyz"):
        port = free_port()
        metrics = self.tmp / f"metrics-{name}"
        metrics.mkdir()
        env = env | {
            "GUNICORN_BIND": f"{HOST}:{port}",
            "WEB_CONCURRENCY": str(WORKERS),
            "PROMETHEUS_MULTIPROC_DIR": str(metrics),
        }
        server = start_gunicorn(env, self.tmp / f"{name}.log", app, *args)
        self.servers.append(server)
        wait_ready(port, server, path=ready)
        log(f"gunicorn ({name}): {WORKERS} workers on {HOST}:{port}, master pid {server.pid}")
        return port, server

    async def login(self) -> None:
        """Log in as MEMBER over HTTP; keep the cookies, the CSRF token and the version."""
        self.conn = Connection(self.port)
        form = {"username": MEMBER, "password": PASSWORD}
        form["csrf_token"] = csrf_token((await self.conn.request("GET", "/login")).text)
        answer = await self.conn.request("POST", "/login", form=form)
        if answer.status_code != 302:
            raise SystemExit(f"login failed: {answer.status_code}")
        page = await self.conn.request("GET", self.base)
        board_page_ok(page)
        self.page = page.body
        self.hx = {"HX-Request": "true", "X-CSRFToken": csrf_token(page.text)}
        self.shows(page)

    def shows(self, answer: Answer) -> None:
        found = VERSION.search(answer.text)
        if found is None:
            raise SystemExit("the answer carries no board version (#board-live)")
        self.version = found.group(1)

    async def run(self, key: str, port: int, pid: int, concurrency: int, check) -> None:
        rps, pages, usage = await throughput(
            port, self.conn.cookies, self.base, check, concurrency, pid
        )
        self.runs[key].append(rps)
        self.cpu[key][0] += sum(usage.server.values())
        self.cpu[key][1] += pages
        log(f"{key}: {rps:.1f}/s ({pages} pages), {usage.describe(pid, pages)}")

    def cpu_ms(self, key: str) -> float:
        seconds, pages = self.cpu[key]
        return seconds / pages * 1000

    async def sequential(self, what: str, send, check) -> float:
        """Median ms of SEQUENTIAL requests on the logged-in connection, after warm-ups."""
        seconds = []
        for i in range(SEQUENTIAL_WARMUP + SEQUENTIAL):
            started = time.perf_counter()
            answer = await send(i)
            elapsed = time.perf_counter() - started
            check(answer)
            if i >= SEQUENTIAL_WARMUP:
                seconds.append(elapsed)
        median = round(statistics.median(seconds) * 1000, 2)
        log(
            f"{what}: median {median} ms (min {min(seconds) * 1000:.2f}, "
            f"max {max(seconds) * 1000:.2f}), {SEQUENTIAL} requests"
        )
        return median

    async def change(self, path: str, data: dict | None = None) -> Answer:
        headers = self.hx | {"X-Board-Version": self.version}
        answer = await self.conn.request("POST", self.base + path, headers, data or {})
        if answer.status_code == 200:
            self.shows(answer)
        return answer

    async def changes(self, size: int) -> None:
        """Move and pull (and, on the 200-card board, the poll), one after another."""
        suffix = "" if size == SIZES[0] else f"_{size}"
        lane = self.builder.lanes["feature"]
        progress = self.builder.columns["In progress"]
        review = self.builder.columns["Review"]
        with self.app.app_context():
            (card_id,) = self.builder.open_cards_in(lane, progress, 1)
            db.session.remove()

        async def move(i):
            to = review if i % 2 == 0 else progress
            data = {"lane_id": lane.id, "column_id": to.id}
            return await self.change(f"/cards/{card_id}/move", data)

        def moved(answer):
            Bench.answered("move", answer, "Moved", current=True)

        async def pull(_i):
            return await self.change("/pull")

        def pulled(answer):
            Bench.answered("pull", answer, "You pulled", current=True)

        async def poll(_i):
            path = f"{self.base}/live?v={self.version}"
            return await self.conn.request("GET", path, {"HX-Request": "true"})

        def unchanged(answer):
            if answer.status_code != 204:
                raise SystemExit(f"poll failed: {answer.status_code} {answer.body[:300]!r}")

        figures = self.figures
        figures[f"serve_move{suffix}_ms"] = await self.sequential(f"move {size}", move, moved)
        figures[f"serve_pull{suffix}_ms"] = await self.sequential(f"pull {size}", pull, pulled)
        poll_ms = await self.sequential(f"poll {size}", poll, unchanged)
        if size == SIZES[0]:
            figures["serve_poll_ms"] = poll_ms

    async def cold_starts(self, env: dict) -> None:
        """The first board page a freshly started gunicorn serves, against its tenth."""
        first, tenth = [], []
        for i in range(COLD_STARTS):
            port, server = self.start(f"cold-{i}", env)
            try:
                conn = Connection(port, self.conn.cookies)
                seconds = []
                for _ in range(10):
                    started = time.perf_counter()
                    board_page_ok(await conn.request("GET", self.base))
                    seconds.append(time.perf_counter() - started)
                conn.close()
            finally:
                stop_gunicorn(server)
                self.servers.remove(server)
            first.append(seconds[0])
            tenth.append(seconds[9])
            log(
                f"cold start {i + 1}: first page {seconds[0] * 1000:.2f} ms, second "
                f"{seconds[1] * 1000:.2f}, tenth {seconds[9] * 1000:.2f}"
            )
        self.figures["serve_first_ms"] = round(statistics.median(first) * 1000, 2)
        self.figures["serve_tenth_ms"] = round(statistics.median(tenth) * 1000, 2)
        self.figures["serve_first_over_tenth"] = round(
            statistics.median(first) / statistics.median(tenth), 2
        )

    def in_process(self) -> float:
        """The board-200 page's median time in process (Flask's test client), as MEMBER."""
        bench = Bench(self.app, self.builder, self.counter)
        bench.login(MEMBER)

        def ok(answer):
            if answer.status_code != 200 or BOARD_MARK not in answer.get_data():
                raise SystemExit(f"in-process board page answered {answer.status_code}")

        sample = bench.timed(
            "in-process board 200 page", lambda _i: bench.client.get(bench.base), ok
        )
        return sample.median_ms

    async def measure(self) -> dict[str, float]:
        self.app, self.builder, self.counter = build(self.url)
        self.base = f"/b/{self.builder.board_id}"
        env = {**os.environ, "DATABASE_URL": self.url, "SECRET_KEY": secrets.token_hex(32)}
        self.port, app_server = self.start("app", env)
        unkept_port, unkept = self.start("unkept", env | {"TRACKER_KEPT_GRIDS": "0"})
        await self.login()
        body = self.tmp / "board-200.html"
        body.write_bytes(self.page)
        floor_env = env | {"WB_FLOOR_BODY": str(body)}
        floor_port, floor = self.start(
            "floor", floor_env, "floor_app:app", "--pythonpath", "bench", ready="/"
        )
        log(f"board 200 page as {MEMBER}: {len(self.page)} bytes")
        log(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
        for _ in range(REPEATS):
            await self.run("serve_board_200_rps_c8", self.port, app_server.pid, 8, board_page_ok)
            await self.run("serve_board_200_rps_c2", self.port, app_server.pid, 2, board_page_ok)
            await self.run(
                "serve_unkept_board_200_rps_c8", unkept_port, unkept.pid, 8, board_page_ok
            )
            await self.run("serve_floor_rps_c8", floor_port, floor.pid, 8, floor_ok)
        inprocess_ms = self.in_process()
        await self.changes(SIZES[0])
        await self.cold_starts(env)

        with self.app.app_context():
            self.builder.open_cards(SIZES[1] - self.builder.open_count())
            db.session.remove()
        page = await self.conn.request("GET", self.base)
        board_page_ok(page)
        self.shows(page)
        tiles = page.body.count(TILE)
        if tiles < SIZES[1]:
            raise SystemExit(f"the board page shows {tiles} cards, not {SIZES[1]}")
        log(f"board {SIZES[1]} page: {len(page.body)} bytes, {tiles} cards shown")
        for _ in range(REPEATS):
            for concurrency in (8, 2):
                key = f"serve_board_2000_rps_c{concurrency}"
                await self.run(key, self.port, app_server.pid, concurrency, board_page_ok)
        await self.changes(SIZES[1])
        self.conn.close()

        figures = self.figures
        for key, values in self.runs.items():
            figures[key] = round(statistics.median(values), 1)
        cpu_ms = self.cpu_ms("serve_board_200_rps_c8")
        figures["serve_board_200_cpu_ms"] = round(cpu_ms, 2)
        figures["serve_unkept_board_200_cpu_ms"] = round(
            self.cpu_ms("serve_unkept_board_200_rps_c8"), 2
        )
        figures["serve_board_200_over_floor"] = round(
            figures["serve_floor_rps_c8"] / figures["serve_board_200_rps_c8"], 2
        )
        figures["serve_over_inprocess_200"] = round(cpu_ms / inprocess_ms, 2)
        log(f"in process {inprocess_ms} ms a page; gunicorn CPU {cpu_ms:.2f} ms a page")
        for what in ("move", "pull"):
            ratio = figures[f"serve_{what}_2000_ms"] / figures[f"serve_{what}_ms"]
            figures[f"serve_{what}_2000_over_200"] = round(ratio, 2)
        return figures


def measure(url: str, tmp: Path) -> dict[str, float]:
    """Build the board at url, serve it with gunicorn, measure; stop gunicorn whatever happens."""
    servers: list = []
    served = Served(url, tmp, servers)
    try:
        return asyncio.run(served.measure())
    finally:
        for server in servers:
            stop_gunicorn(server)
        if hasattr(served, "app"):
            with served.app.app_context():
                db.engine.dispose()


def main() -> None:
    keys = list(FIGURES)
    with tempfile.TemporaryDirectory(prefix="wb-serve-") as tmp:
        log("SQLite")
        work = Path(tmp) / "sqlite"
        work.mkdir()
        figures = measure("sqlite:///" + str(work / "bench.sqlite3"), work)
        server_url = os.environ.get("TRACKER_BENCH_POSTGRES_URL")
        if server_url:
            url, drop = throwaway_postgres(server_url, "wb_serve")
            try:
                log(f"PostgreSQL: throwaway database {make_url(url).database}")
                work = Path(tmp) / "postgresql"
                work.mkdir()
                unflushed(url)
                on_postgres = measure(url, work)
                on_postgres["commit_flush_ms"] = commit_flush_ms(url)
            finally:
                drop()
            figures |= {f"pg_{key}": on_postgres[key] for key in (*FIGURES, "commit_flush_ms")}
            keys += [f"pg_{key}" for key in (*FIGURES, "commit_flush_ms")]
    for key in keys:
        print(f"{key} = {figures[key]}")


if __name__ == "__main__":
    main()
