"""Load: simulated people against gunicorn (2 workers) and PostgreSQL, over real HTTP.

Run from the repo root:  .venv/bin/python bench/load.py [--duration 120] [--people 50]

What it does, all on loopback:
  1. creates a throwaway PostgreSQL database on the server in TRACKER_BENCH_POSTGRES_URL
     (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres; the role needs
     CREATEDB), migrates it with `flask db upgrade` and checks it with `flask db check`
     (--schema models builds it from the models instead, while a migration is pending);
  2. seeds one board (lane limits Expedite 1, Support 8, Feature 15; 150 ready cards) and
     the people: all members, or, when the support intake form exists, 45 members and 5
     support staff who file requests;
  3. starts gunicorn from gunicorn.conf.py with 2 workers on a free port of 127.0.0.1
     (PROMETHEUS_MULTIPROC_DIR set, so /metrics adds up both workers), waits for /readyz;
  4. logs every person in (CSRF on, as a browser; arrivals spread over 3 seconds), then,
     from the moment all are in, runs them for --duration seconds: each waits 1 to 3
     seconds, then reads the board (most often: the page, or the htmx fragment of their
     own cards), pulls, moves one of their cards to the next column (In progress ->
     Review -> Done), escalates one of their Support cards to Expedite (whose limit of 1 often
     refuses it), opens a card, adds a card, or (support staff) files a request through
     the intake form and reads their requests. The logins (deliberately slow scrypt
     password checks, all at once) are reported on stderr, not in the figures; a failed
     login counts as an error;
  5. stops gunicorn, checks the WIP limits in the database (replaying every event in
     order, and the final state), drops the database, and prints on stdout:

  load_requests        requests made during the --duration seconds
  load_errors          5xx answers, connection failures and unexpected statuses
  load_p50_ms          median latency over all requests (client side, full response)
  load_p95_ms          95th percentile
  load_wip_violations  events after which a lane (or person) held more active cards than
                       its limit without a wip_override event (none are made here), plus
                       lanes over their limit at the end that the history does not explain

A 422 refusal (a WIP limit) is a normal answer, not an error. Details go to stderr. The
load generator is plain Python: one thread and one keep-alive connection per person.
Background polls of an open page (the emergency banner) are not simulated.
"""

from __future__ import annotations

import argparse
import http.client
import math
import os
import random
import re
import resource
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

from serving import HOST, cpu_seconds, free_port, start_gunicorn, stop_gunicorn, wait_ready
from throwaway_db import throwaway_postgres

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PASSWORD = "load test password"
LIMITS = {"expedite": 1, "support": 8, "feature": 15}
READY_CARDS = {"support": 60, "feature": 90}
SUPPORT_STAFF = 5
# What a member does next, by weight; support staff have their own.
MEMBER_ACTIONS = (
    ("escalate", 3),
    ("board", 38),
    ("mine", 12),
    ("pull", 15),
    ("advance", 22),
    ("card", 8),
    ("new", 5),
)
SUPPORT_ACTIONS = (("board", 40), ("file", 40), ("requests", 20))


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- database ----------------------------------------------------------------------------


def flask_command(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def migrate(env: dict) -> None:
    upgrade = flask_command(env, "db", "upgrade")
    if upgrade.returncode != 0:
        raise SystemExit(f"flask db upgrade failed:\n{upgrade.stderr}")
    check = flask_command(env, "db", "check")
    if check.returncode != 0:
        raise SystemExit(
            "The migrations do not build the schema the models describe (flask db check):\n"
            f"{check.stderr.strip()[:800]} …\nAdd the missing migration first, or run with "
            "--schema models while developing."
        )


def create_tables(url: str) -> None:
    """The schema straight from the models (--schema models: migrations not written yet)."""
    from tracker import create_app
    from tracker.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "schema only"})
    with app.app_context():
        db.create_all()
        db.engine.dispose()


@dataclass
class Seeded:
    board_id: int
    lanes: dict[str, int]
    columns: dict[str, int]
    members: list[tuple[str, str]]  # (username, display name)
    support: list[tuple[str, str]]


def seed(url: str, secret_key: str, people: int, support_staff: int) -> Seeded:
    """One board with lane limits and ready cards, and the people, through the services."""
    from tracker import create_app
    from tracker.extensions import db
    from tracker.models import BoardColumn, Lane
    from tracker.services import boards, cards, users
    from tracker.services.common import Actor

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": secret_key})
    rng = random.Random(7)
    with app.app_context():
        board = boards.create_board("Load test")
        lanes = {
            lane.kind: lane
            for lane in db.session.scalars(db.select(Lane).where(Lane.board_id == board.id))
        }
        for kind, limit in LIMITS.items():
            lanes[kind].wip_limit = limit
        db.session.commit()
        columns = {
            c.name: c.id
            for c in db.session.scalars(
                db.select(BoardColumn).where(BoardColumn.board_id == board.id)
            )
        }
        lead = users.create_user("bench-lead", "Bench Lead", PASSWORD)
        boards.set_membership(board, lead, "lead")
        members, support = [], []
        for i in range(people):
            username, name = f"person{i:02d}", f"Person {i:02d}"
            user = users.create_user(username, name, PASSWORD)
            role = "support" if i >= people - support_staff else "member"
            boards.set_membership(board, user, role)
            (support if role == "support" else members).append((username, name))
        seeder = Actor(lead.id, lead.name, "lead")
        for kind, count in READY_CARDS.items():
            for n in range(count):
                fields = {"title": f"Seeded {kind} card {n}"}
                if kind == "support":
                    fields["severity"] = rng.choice(["S2", "S3", "S3", "S4"])
                cards.create_card(board.id, seeder, lanes[kind].id, fields)
        result = Seeded(
            board.id, {k: lane.id for k, lane in lanes.items()}, columns, members, support
        )
        db.session.remove()
        db.engine.dispose()
    return result


def count_violations(url: str, board_id: int) -> tuple[int, int]:
    """Replay the board's events in commit order: (moments over a limit, unexplained lanes).

    Events are written while the board row is locked, so their ids follow commit order. An
    event that brings a card into a lane's active columns (or, when the board has a
    per-person limit, to a person) above the limit is a violation unless the same card's
    next event is its wip_override. Expedite cards count only toward their own lane.
    """
    import json

    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT id, wip_limit, kind FROM lane WHERE board_id = :b"), {"b": board_id}
        ).all()
        column_kinds = dict(
            conn.execute(
                text("SELECT id, kind FROM board_column WHERE board_id = :b"), {"b": board_id}
            ).all()
        )
        person_limit = conn.execute(
            text("SELECT per_person_limit FROM board WHERE id = :b"), {"b": board_id}
        ).scalar()
        events = conn.execute(
            text("SELECT card_id, kind, changes FROM card_event WHERE board_id = :b ORDER BY id"),
            {"b": board_id},
        ).all()
        final = conn.execute(
            text(
                "SELECT c.lane_id, count(*) FROM card c JOIN board_column k ON k.id = c.column_id"
                " WHERE c.board_id = :b AND c.status = 'open' AND k.kind = 'active'"
                " GROUP BY c.lane_id"
            ),
            {"b": board_id},
        ).all()
    engine.dispose()
    limits = {lane_id: limit for lane_id, limit, _kind in rows}
    expedite = {lane_id for lane_id, _limit, kind in rows if kind == "expedite"}

    def holds(card: dict) -> tuple[int | None, int | None]:
        """(lane, person) whose count this card raises now, or None for each."""
        active = column_kinds.get(card.get("column_id")) == "active"
        if not active or card.get("status", "open") != "open":
            return None, None
        lane = card.get("lane_id")
        return lane, (None if lane in expedite else card.get("assignee_id"))

    cards: dict[int, dict] = defaultdict(dict)
    per_lane: Counter = Counter()
    per_person: Counter = Counter()
    violations = 0
    for index, (card_id, _kind, changes) in enumerate(events):
        if isinstance(changes, str):
            changes = json.loads(changes)
        card = cards[card_id]
        old_lane, old_person = holds(card)
        for name, (_old, new) in (changes or {}).items():
            card[name] = new
        lane, person = holds(card)
        per_lane[old_lane] -= old_lane is not None
        per_person[old_person] -= old_person is not None
        per_lane[lane] += lane is not None
        per_person[person] += person is not None
        over = (
            lane is not None
            and lane != old_lane
            and limits.get(lane) is not None
            and per_lane[lane] > limits[lane]
        ) or (
            person is not None
            and person != old_person
            and person_limit is not None
            and per_person[person] > person_limit
        )
        following = events[index + 1] if index + 1 < len(events) else None
        overridden = following is not None and tuple(following[:2]) == (card_id, "wip_override")
        if over and not overridden:
            violations += 1
    # The cards as they are must agree with the history: a lane over its limit that the
    # events do not explain was changed without one (also a violation).
    unexplained = sum(
        1
        for lane, n in final
        if limits.get(lane) is not None and n > limits[lane] and per_lane[lane] != n
    )
    return violations, unexplained


# --- simulated people --------------------------------------------------------------------

CSRF_HEADER = re.compile(r'"X-CSRFToken": "([^"]+)"')
CELL = re.compile(r'<ol class="cell" data-lane="(\d+)" data-column="(\d+)"[^>]*>(.*?)</ol>', re.S)
CARD_ID = re.compile(r'data-id="(\d+)"')
HIDDEN = re.compile(r'<input[^>]*type="hidden"[^>]*>')
ATTR = re.compile(r'(\w[\w-]*)="([^"]*)"')
SELECT = re.compile(r'<select[^>]*name="component"[^>]*>(.*?)</select>', re.S)
OPTION = re.compile(r'<option[^>]*value="([^"]*)"')


@dataclass
class Results:
    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: list[float] = field(default_factory=list)
    by_kind: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    refusals: int = 0

    def add(self, what: str, status: int | str, seconds: float, ok: bool) -> None:
        with self.lock:
            self.latencies.append(seconds)
            self.by_kind[what].append(seconds)
            self.statuses[(what, status)] += 1
            if not ok:
                self.errors[(what, status)] += 1


@dataclass
class Phase:
    """Logging in first (reported apart), then the measured load until the deadline."""

    logins: Results
    load: Results
    go: threading.Event = field(default_factory=threading.Event)
    deadline: float = 0.0


class Person(threading.Thread):
    """One simulated person with a browser's keep-alive connection and cookies."""

    def __init__(self, n, username, name, role, port, seeded, phase, intake):
        super().__init__(daemon=True)
        self.username, self.name, self.role = username, name, role
        self.port, self.seeded, self.phase = port, seeded, phase
        self.results = phase.logins
        self.logged_in = threading.Event()
        self.intake = intake
        self.rng = random.Random(1000 + n)
        self.conn: http.client.HTTPConnection | None = None
        self.cookies: dict[str, str] = {}
        self.csrf = ""
        self.mine: dict[int, tuple[int, int]] = {}  # my active cards: id -> (lane, column)
        self.last_location: str | None = None
        self.known: list[int] = []  # cards seen in my views, to open now and then
        self.board = f"/b/{seeded.board_id}"

    # HTTP ---------------------------------------------------------------------------------

    def request(self, what, method, path, *, form=None, htmx=False, expect=(200,)):
        """One request; returns (status, body). Records latency and whether it was expected."""
        headers = {"Accept-Encoding": "identity"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if htmx:
            headers["HX-Request"] = "true"
        if self.csrf and method == "POST":
            headers["X-CSRFToken"] = self.csrf
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        for attempt in (1, 2):
            fresh = self.conn is None
            if fresh:
                self.conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read().decode()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as e:
                # The server closed an idle keep-alive connection (as browsers, retry once).
                self.conn.close()
                self.conn = None
                if fresh or attempt == 2:
                    self.results.add(what, type(e).__name__, time.perf_counter() - started, False)
                    return None, ""
            except OSError as e:
                self.conn.close()
                self.conn = None
                self.results.add(what, type(e).__name__, time.perf_counter() - started, False)
                return None, ""
        elapsed = time.perf_counter() - started
        for header in response.headers.get_all("Set-Cookie") or []:
            for key, morsel in SimpleCookie(header).items():
                self.cookies[key] = morsel.value
        if response.headers.get("Connection", "").lower() == "close":
            self.conn.close()
            self.conn = None
        ok = response.status in expect
        self.results.add(what, response.status, elapsed, ok)
        if response.status == 422 and "WIP limit" in data:
            with self.results.lock:
                self.results.refusals += 1
        self.last_location = response.headers.get("Location")
        return response.status, data

    @staticmethod
    def hidden_fields(html: str) -> dict[str, str]:
        """A form's hidden inputs (the CSRF token, a one-time key), as a browser sends them."""
        fields = {}
        for tag in HIDDEN.findall(html):
            attrs = dict(ATTR.findall(tag))
            if "name" in attrs:
                fields[attrs["name"]] = attrs.get("value", "")
        return fields

    # Session ------------------------------------------------------------------------------

    def login(self) -> bool:
        status, html = self.request("login_form", "GET", "/login")
        if status != 200:
            return False
        form = {**self.hidden_fields(html), "username": self.username, "password": PASSWORD}
        status, _ = self.request("login", "POST", "/login", form=form, expect=(302, 303))
        if status not in (302, 303):
            return False
        status, html = self.request("board", "GET", self.board)
        match = CSRF_HEADER.search(html or "")
        self.csrf = match.group(1) if match else ""
        return status == 200 and bool(self.csrf)

    def run(self) -> None:
        time.sleep(self.rng.uniform(0, 3))  # people do not all arrive in the same second
        try:
            ok = self.login()
        finally:
            self.logged_in.set()
        self.phase.go.wait()
        self.results = self.phase.load
        if not ok:
            return
        actions = SUPPORT_ACTIONS if self.role == "support" else MEMBER_ACTIONS
        names = [a for a, _ in actions]
        weights = [w for _, w in actions]
        while True:
            time.sleep(self.rng.uniform(1, 3))
            if time.monotonic() >= self.phase.deadline:
                break
            getattr(self, "do_" + self.rng.choices(names, weights)[0])()
        if self.conn is not None:
            self.conn.close()

    # Actions ------------------------------------------------------------------------------

    def read_cells(self, html: str, only_mine: bool) -> None:
        columns = self.seeded.columns
        if only_mine:
            self.mine = {}
        for lane, column, inner in CELL.findall(html):
            ids = [int(i) for i in CARD_ID.findall(inner)]
            if only_mine and int(column) in (columns["In progress"], columns["Review"]):
                self.mine.update(dict.fromkeys(ids, (int(lane), int(column))))
            if ids:
                self.known = ids[-20:] if not self.known else (self.known + ids)[-40:]

    def do_board(self) -> None:
        status, html = self.request("board", "GET", self.board)
        if status == 200 and self.rng.random() < 0.2:
            self.read_cells(html, only_mine=False)

    def do_mine(self) -> None:
        status, html = self.request("board_mine", "GET", self.board + "?mine=1", htmx=True)
        if status == 200:
            self.read_cells(html, only_mine=True)

    def do_pull(self) -> None:
        self.request("pull", "POST", self.board + "/pull", form={}, htmx=True, expect=(200, 422))

    def do_advance(self) -> None:
        """Move one of my cards on: In progress -> Review -> Done."""
        if not self.mine:
            return self.do_mine()
        card_id, (lane, column) = self.rng.choice(sorted(self.mine.items()))
        columns = self.seeded.columns
        target = columns["Review"] if column == columns["In progress"] else columns["Done"]
        status, _ = self.request(
            "move",
            "POST",
            f"{self.board}/cards/{card_id}/move",
            form={"lane_id": lane, "column_id": target},
            htmx=True,
            expect=(200, 422),
        )
        if status == 200 and target == columns["Review"]:
            self.mine[card_id] = (lane, target)
        else:
            self.mine.pop(card_id, None)
        return None

    def do_escalate(self) -> None:
        """Move one of my Support cards to the Expedite lane (limit 1: often refused, 422)."""
        support = [
            (card_id, column)
            for card_id, (lane, column) in sorted(self.mine.items())
            if lane == self.seeded.lanes["support"]
        ]
        if not support:
            return self.do_mine()
        card_id, column = self.rng.choice(support)
        expedite = self.seeded.lanes["expedite"]
        status, _ = self.request(
            "escalate",
            "POST",
            f"{self.board}/cards/{card_id}/move",
            form={"lane_id": expedite, "column_id": column},
            htmx=True,
            expect=(200, 422),
        )
        if status == 200:
            self.mine[card_id] = (expedite, column)
        return None

    def do_card(self) -> None:
        if not self.known:
            return self.do_board()
        card_id = self.rng.choice(self.known)
        self.request("card", "GET", f"{self.board}/cards/{card_id}", htmx=True, expect=(200,))

    def do_new(self) -> None:
        kind = self.rng.choice(["support", "feature"])
        form = {
            "csrf_token": self.csrf,
            "title": f"Load card by {self.username} {secrets.token_hex(3)}",
            "lane_id": self.seeded.lanes[kind],
            "severity": self.rng.choice(["S2", "S3", "S4"]) if kind == "support" else "",
        }
        self.request("new_card", "POST", self.board + "/cards/new", form=form, htmx=True)

    def do_file(self) -> None:
        if not self.intake:
            return self.do_board()
        status, html = self.request("intake_form", "GET", self.board + "/intake")
        if status != 200:
            return
        form = self.hidden_fields(html)
        select = SELECT.search(html)
        options = [v for v in OPTION.findall(select.group(1)) if v] if select else []
        severity = "S1" if self.rng.random() < 0.02 else self.rng.choice(["S2", "S3", "S3", "S4"])
        form.update(
            title=f"Customer report {secrets.token_hex(3)}",
            description="The page shows an error after saving.",
            severity=severity,
            component=self.rng.choice(options) if options else "",
            environment="production",
            requester="Pat Example",
            requester_email="",
        )
        status, _ = self.request(
            "intake_file", "POST", self.board + "/intake", form=form, expect=(302, 303)
        )
        if status in (302, 303) and self.last_location:
            path = urllib.parse.urlsplit(self.last_location).path
            self.request("intake_request", "GET", path)

    def do_requests(self) -> None:
        if not self.intake:
            return self.do_board()
        self.request("my_requests", "GET", self.board + "/requests")


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def scrape_request_total(port: int) -> float | None:
    """The app's own count of answered requests, summed over both workers (/metrics)."""
    try:
        conn = http.client.HTTPConnection(HOST, port, timeout=5)
        conn.request("GET", "/metrics")
        text = conn.getresponse().read().decode()
        conn.close()
    except OSError:
        return None
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("tracker_http_requests_total{")
    )


# --- main --------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=120, help="seconds of load (120)")
    parser.add_argument("--people", type=int, default=50, help="simulated people (50)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument(
        "--schema",
        choices=("migrations", "models"),
        default="migrations",
        help="build the database with `flask db upgrade` (default), or from the models "
        "(only while a migration is still to be written)",
    )
    args = parser.parse_args()

    server_url = os.environ.get("TRACKER_BENCH_POSTGRES_URL", DEFAULT_SERVER)
    url, drop = throwaway_postgres(server_url, "wb_load")
    log(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    log(f"throwaway database {url.rsplit('/', 1)[1]} on {server_url.rsplit('@', 1)[-1]}")
    try:
        results, violations, at_end = run(url, args)
    finally:
        drop()

    total = sum(results.statuses.values())
    errors = sum(results.errors.values())
    log("answers by request kind and status:")
    for (what, status), n in sorted(results.statuses.items(), key=lambda kv: str(kv[0])):
        log(f"  {what:15} {status!s:22} {n}")
    log("latency by request kind (ms): p50 / p95 / max")
    for what, seconds in sorted(results.by_kind.items()):
        ms = [x * 1000 for x in seconds]
        log(f"  {what:15} {percentile(ms, 50):7.1f} {percentile(ms, 95):7.1f} {max(ms):7.1f}")
    if errors:
        log(f"errors: {dict(results.errors)}")
    log(
        f"WIP refusals (422): {results.refusals}; WIP violations in the replayed history: "
        f"{violations}; lanes over their limit that the history does not explain: {at_end}"
    )
    latencies = [seconds * 1000 for seconds in results.latencies]
    print(f"load_requests = {total}")
    print(f"load_errors = {errors}")
    print(f"load_p50_ms = {percentile(latencies, 50):.1f}")
    print(f"load_p95_ms = {percentile(latencies, 95):.1f}")
    print(f"load_wip_violations = {violations + at_end}")
    return 0


def run(url: str, args) -> tuple[Results, int, int]:
    """Migrate, start gunicorn, seed, run the people, stop gunicorn, count WIP violations."""
    secret_key = secrets.token_hex(32)
    port = free_port()
    work = Path(tempfile.mkdtemp(prefix="wb-load-"))
    (work / "metrics").mkdir()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": secret_key,
        "GUNICORN_BIND": f"{HOST}:{port}",
        "WEB_CONCURRENCY": str(args.workers),
        "PROMETHEUS_MULTIPROC_DIR": str(work / "metrics"),
        "TRACKER_LOG_LEVEL": "info",
    }
    started = time.monotonic()
    if args.schema == "models":
        create_tables(url)
        log("schema built from the models (--schema models), not the migrations")
    else:
        migrate(env)
        log(f"migrated and checked in {time.monotonic() - started:.1f} s")
    server = start_gunicorn(env, work / "gunicorn.log")
    try:
        wait_ready(port, server)
        log(f"gunicorn: {args.workers} workers on {HOST}:{port}")
        probe = http.client.HTTPConnection(HOST, port, timeout=5)
        probe.request("GET", "/b/1/intake")
        intake = probe.getresponse().status != 404
        probe.close()
        if not intake:
            log("the intake form (/b/<id>/intake) answers 404: nobody files requests this run")
        started = time.monotonic()
        seeded = seed(url, secret_key, args.people, SUPPORT_STAFF if intake else 0)
        log(
            f"seeded {len(seeded.members)} members, {len(seeded.support)} support staff and "
            f"{sum(READY_CARDS.values())} ready cards in {time.monotonic() - started:.1f} s"
        )
        phase = Phase(Results(), Results())
        roles = [(u, n, "member") for u, n in seeded.members]
        roles += [(u, n, "support") for u, n in seeded.support]
        people = [
            Person(i, username, name, role, port, seeded, phase, intake)
            for i, (username, name, role) in enumerate(roles)
        ]
        started = time.monotonic()
        for person in people:
            person.start()
        for person in people:
            person.logged_in.wait(timeout=120)
        logins = phase.logins
        ms = [x * 1000 for x in logins.latencies]
        log(
            f"{len(people)} people logged in over {time.monotonic() - started:.1f} s: "
            f"{len(ms)} requests, p50 {percentile(ms, 50):.0f} ms, p95 {percentile(ms, 95):.0f} ms"
            f" (scrypt password checks; not in the figures below), errors: {dict(logins.errors)}"
        )
        log(f"{len(people)} people for {args.duration:.0f} s ...")
        cpu_before = cpu_seconds(server.pid)
        own_before = resource.getrusage(resource.RUSAGE_SELF)
        phase.deadline = time.monotonic() + args.duration
        phase.go.set()
        for person in people:
            person.join(timeout=args.duration + 60)
        cpu_after = cpu_seconds(server.pid)
        own = resource.getrusage(resource.RUSAGE_SELF)
        own_cpu = own.ru_utime + own.ru_stime - own_before.ru_utime - own_before.ru_stime
        log(
            f"CPU during the load: gunicorn {cpu_after - cpu_before:.1f} s, this load generator "
            f"{own_cpu:.1f} s, over {args.duration:.0f} s on {os.cpu_count()} cores; load average "
            f"now {os.getloadavg()[0]:.2f}"
        )
        served = scrape_request_total(port)
        if served is not None:
            log(f"/metrics (both workers together) counted {served:.0f} requests so far")
    finally:
        stop_gunicorn(server)
        report_log(work / "gunicorn.log")
    violations, at_end = count_violations(url, seeded.board_id)
    results = phase.load
    for key, n in phase.logins.errors.items():  # a failed login is an error all the same
        results.errors[key] += n
    return results, violations, at_end


def report_log(path: Path) -> None:
    """Summarise the server's JSON log lines on stderr."""
    lines = path.read_text(errors="replace").splitlines()
    card_lines = sum(1 for line in lines if '"event":"card.' in line)
    error_lines = [line for line in lines if '"level":"error"' in line]
    log(
        f"server log {path}: {len(lines)} lines, {card_lines} card events, "
        f"{len(error_lines)} at error level"
    )
    for line in error_lines[:5]:
        log("  " + line[:300])


if __name__ == "__main__":
    sys.exit(main())
