"""Board speed: the board page, pull and move, measured in process on SQLite (and
PostgreSQL, when TRACKER_BENCH_POSTGRES_URL names a server).

Run from the repo root:  .venv/bin/python bench/board.py

Builds a throwaway SQLite database in a temporary directory (never the instance one): a
board whose history holds 100,000 done cards (done over the last two years, each with a
"created" and a "moved" event), then 200 and later 2,000 open cards across lanes and
columns. Requests go through Flask's test client, logged in, with CSRF on: the figures are
server time with no network. Prints one `key = value` line per figure on stdout; progress
and detail go to stderr.

Figures (medians over RUNS requests after WARMUP warm-ups):
  board_200_ms, board_2000_ms   the full board page (GET /b/<id>) of a board that changed
                                since it was last shown: its grid read and rendered
                                (the kept grids are emptied before each request)
  board_200_kept_ms, board_2000_kept_ms   the same page again, nothing changed: its grid
                                kept by board version (tracker.web.presenters.grid)
  board_200_queries, ...        SQL statements per board page (page and htmx fragment alike)
  board_200_bytes_per_card      bytes of the #board fragment / cards shown on it
  pull_ms                       POST /b/<id>/pull (htmx) on the 200-card board
  move_ms                       POST .../move (htmx), In progress <-> Review, 200-card board
  board_search_ms               the board searched from its search box (GET /b/<id>?q=...,
                                htmx) on the 2,000-card board, the 100,000 done cards in the
                                full-text index too; a share of all cards has comments
                                (COMMENTED): the median over SEARCHES, one after another
  archive_search_ms             the archive's search over the 100,000 done cards
                                (GET /b/<id>/done?q=...), ranked, one page and the count
Pull and move send the board version the page shows (X-Board-Version, as app.js does) and
get what the browser gets when its page is current: the parts of the board the change
touched, swapped in out of band. A page that was behind gets the whole board instead: that
answer is timed too, as a diagnostic on stderr (no target).

With TRACKER_BENCH_POSTGRES_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test;
the role needs CREATEDB) the same board is built again in a throwaway database made on
that server and dropped afterwards, and the timed figures are printed again:
  pg_board_200_ms, pg_board_2000_ms, pg_pull_ms, pg_move_ms
  pg_over_sqlite_board_200, ..._board_2000, ..._pull, ..._move   PostgreSQL's figure over
                                SQLite's of the same run (target: at most 1.3)
  pg_commit_flush_ms            what one durable commit (a one-row INSERT, then COMMIT
                                with synchronous_commit on) costs on that server, the
                                median of FLUSHES: the disk's flush, not the app's work

Both databases commit alike here: SQLite runs in WAL mode with synchronous=NORMAL (as the
app sets it: a commit is not flushed to disk; a power loss may undo the last commits, never
corrupt), and the bench's PostgreSQL database is set to synchronous_commit = off, its
equivalent (a crash of the server or the machine may lose the last ~0.6 s of commits,
never corrupt). Without that, each PostgreSQL write would also wait for the disk's flush,
which is the host's cost (about 4 ms on this machine's virtual disk, 0.05 ms on one with a
write cache), printed apart as pg_commit_flush_ms; a production server pays it on every
write unless its admin chooses synchronous_commit = off (README, "Running in production").
"""

from __future__ import annotations

import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import event, func, insert, make_url, select, text, update
from throwaway_db import commit_flush_ms, throwaway_postgres, unflushed

from tracker import create_app
from tracker.extensions import db
from tracker.models import BoardColumn, Card, CardEvent, Comment, Lane
from tracker.services import boards, users
from tracker.services.boards import LaneSetting
from tracker.services.common import Actor

# The figures printed, in order; the timed ones are measured on PostgreSQL too.
FIGURES = (
    "board_200_ms",
    "board_2000_ms",
    "board_200_kept_ms",
    "board_2000_kept_ms",
    "board_200_queries",
    "board_2000_queries",
    "board_200_bytes_per_card",
    "pull_ms",
    "move_ms",
    "board_search_ms",
    "archive_search_ms",
)
TIMED = (
    "board_200_ms",
    "board_2000_ms",
    "pull_ms",
    "move_ms",
    "board_search_ms",
    "archive_search_ms",
)
# The share of cards with comments (one to three each), and what a search box receives:
# a title word, a prefix being typed, two words, a word of the comments only, a person's
# name, a severity, a reference, and a word no card holds.
COMMENTED = 0.2
SEARCHES = (
    "export",
    "webh",
    "invoice timeout",
    "flaky",
    "number3",
    "S2",
    "FEAT-1234",
    "zyzzyva",
)
HISTORY_CARDS = 100_000
SIZES = (200, 2_000)
WARMUP = 3
RUNS = 40
PASSWORD = "bench password 123"
SEED = 20261126
CHUNK = 5_000

# Share of each lane, and of each open column, in the generated cards.
LANE_SHARE = (("expedite", 0.03), ("support", 0.42), ("feature", 0.55))
OPEN_SHARE = (("Ready", 0.5), ("In progress", 0.25), ("Review", 0.25))
# fmt: off
WORDS = (
    "login", "checkout", "invoice", "export", "search", "report", "cache", "queue",
    "webhook", "billing", "timeout", "retry", "upload", "email", "mobile", "layout",
    "token", "import", "sync", "dashboard", "audit", "alert", "printer",
)
COMMENT_WORDS = (
    "customer", "called", "again", "flaky", "reproduced", "staging", "logs", "attached",
    "waiting", "deploy", "rollback", "works", "for", "me", "see", "ticket",
)
# fmt: on


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def median_ms(seconds: list[float]) -> float:
    return round(statistics.median(seconds) * 1000, 2)


def csrf_token(html: str) -> str:
    """The CSRF token base.html puts on <body hx-headers=...>, as htmx sends it."""
    return re.search(r'"X-CSRFToken": "([^"]+)"', html).group(1)


class QueryCounter:
    """Counts the SQL statements the engine sends (every cursor execute)."""

    def __init__(self, engine) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *_args) -> None:
        self.count += 1


@dataclass(frozen=True)
class Place:
    """A lane or column, as plain values (no ORM object outlives its session here)."""

    id: int
    kind: str
    name: str
    prefix: str = ""


class Builder:
    """Writes the board, its people and its cards: services for the setup, core inserts
    for the bulk of cards, with rows shaped like the ones the services write."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.now = datetime.now(UTC)
        self.numbers: dict[int, int] = defaultdict(int)
        self.ranks: dict[tuple[int, int], float] = defaultdict(float)
        self.next_id = 1

    def setup(self) -> None:
        board = boards.create_board("Bench team", "Europe/Berlin")
        self.board_id = board.id
        lead_user = users.create_user("lead", "Lee Lead", PASSWORD)
        boards.set_membership(board, lead_user, "lead")
        self.lead_id = lead_user.id
        self.members = [lead_user.id]
        for i in range(1, 7):
            user = users.create_user(f"member{i}", f"Member Number{i}", PASSWORD)
            boards.set_membership(board, user, "member")
            self.members.append(user.id)
        lead = Actor(lead_user.id, lead_user.name, "lead")
        lanes = [LaneSetting(x.id, x.name, None, x.limit_mode) for x in board.lanes]
        boards.update_settings(
            board.id,
            lead,
            timezone=board.timezone,
            per_person_limit=None,
            pull_order=board.pull_order,
            lanes=lanes,
            column_limits={c.id: None for c in board.columns},
        )
        lanes = db.session.execute(select(Lane).where(Lane.board_id == board.id)).scalars()
        self.lanes = {x.kind: Place(x.id, x.kind, x.name, x.prefix) for x in lanes}
        columns = db.session.execute(
            select(BoardColumn).where(BoardColumn.board_id == board.id)
        ).scalars()
        self.columns = {c.name: Place(c.id, c.kind, c.name) for c in columns}

    def _pick(self, shares):
        x, total = self.rng.random(), 0.0
        for value, share in shares:
            total += share
            if x < total:
                return value
        return shares[-1][0]

    def _title(self) -> str:
        words = self.rng.sample(WORDS, self.rng.randint(3, 7))
        return " ".join(words).capitalize()

    def _card(self, lane: Place, column: Place, status: str, created, **extra) -> dict:
        self.numbers[lane.id] += 1
        self.ranks[(lane.id, column.id)] += 1024.0
        card = {
            "id": self.next_id,
            "board_id": self.board_id,
            "ref": f"{lane.prefix}-{self.numbers[lane.id]}",
            "lane_id": lane.id,
            "column_id": column.id,
            "rank": self.ranks[(lane.id, column.id)],
            "title": self._title(),
            "description": "",
            "assignee_id": None,
            "estimate": self.rng.choice((None, 1, 2, 3, 5, 8)),
            "severity": None if lane.kind == "feature" else self.rng.choice(("S2", "S3", "S4")),
            "component": self.rng.choice(WORDS),
            "requester": "",
            "blocked": False,
            "blocked_reason": "",
            "status": status,
            "close_reason": "",
            "created_at": created,
            "started_at": None,
            "done_at": None,
            "closed_at": None,
            "column_entered_at": created,
            "created_by_id": self.lead_id,
            "version": 1,
        }
        card.update(extra)
        self.next_id += 1
        return card

    def _created_event(self, card: dict, ready: Place) -> dict:
        fields = ("lane_id", "assignee_id", "title", "estimate", "severity", "component")
        changes = {name: [None, card[name]] for name in fields if card[name] is not None}
        changes |= {"column_id": [None, ready.id], "status": [None, "open"]}
        changes |= {"blocked": [None, False]}
        return self._event(card, "created", card["created_at"], None, ready.id, changes)

    def _event(self, card, kind, at, from_id, to_id, changes) -> dict:
        return {
            "board_id": self.board_id,
            "card_id": card["id"],
            "actor_id": self.lead_id,
            "at": at,
            "kind": kind,
            "from_column_id": from_id,
            "to_column_id": to_id,
            "reason": "",
            "changes": changes,
        }

    def _comments(self, cards: list[dict]) -> list[dict]:
        """One to three comments on a COMMENTED share of the cards."""
        comments = []
        for card in cards:
            if self.rng.random() >= COMMENTED:
                continue
            for _ in range(self.rng.randint(1, 3)):
                words = self.rng.sample(COMMENT_WORDS, self.rng.randint(4, 10))
                comments.append(
                    {
                        "board_id": self.board_id,
                        "card_id": card["id"],
                        "author_id": self.rng.choice(self.members),
                        "at": card["created_at"],
                        "body": " ".join(words).capitalize() + ".",
                        "visibility": "internal",
                    }
                )
        return comments

    def _write(self, cards: list[dict], events: list[dict]) -> None:
        comments = self._comments(cards)
        for i in range(0, len(cards), CHUNK):
            db.session.execute(insert(Card.__table__), cards[i : i + CHUNK])
        for i in range(0, len(events), CHUNK):
            db.session.execute(insert(CardEvent.__table__), events[i : i + CHUNK])
        for i in range(0, len(comments), CHUNK):
            db.session.execute(insert(Comment.__table__), comments[i : i + CHUNK])
        for lane in self.lanes.values():
            db.session.execute(
                update(Lane).where(Lane.id == lane.id).values(next_number=self.numbers[lane.id] + 1)
            )
        db.session.commit()

    def history(self, count: int) -> None:
        """Done cards over the last two years, each created in Ready and moved to Done."""
        ready, done = self.columns["Ready"], self.columns["Done"]
        review = self.columns["Review"]
        cards, events = [], []
        for _ in range(count):
            lane = self.lanes[self._pick(LANE_SHARE)]
            done_at = self.now - timedelta(seconds=self.rng.uniform(60, 730 * 86400))
            started = done_at - timedelta(hours=self.rng.uniform(2, 240))
            created = started - timedelta(hours=self.rng.uniform(1, 500))
            card = self._card(
                lane,
                done,
                "done",
                created,
                assignee_id=self.rng.choice(self.members),
                started_at=started,
                done_at=done_at,
                column_entered_at=done_at,
            )
            cards.append(card)
            events.append(self._created_event(card, ready))
            changes = {"column_id": [review.id, done.id], "status": ["open", "done"]}
            events.append(self._event(card, "moved", done_at, review.id, done.id, changes))
        self._write(cards, events)

    def open_cards(self, count: int) -> None:
        """Open cards in Ready, In progress and Review; some blocked, the active ones assigned."""
        ready = self.columns["Ready"]
        cards, events = [], []
        for _ in range(count):
            lane = self.lanes[self._pick(LANE_SHARE)]
            column = self.columns[self._pick(OPEN_SHARE)]
            created = self.now - timedelta(hours=self.rng.uniform(1, 900))
            extra: dict = {}
            if self.rng.random() < 0.1:
                extra |= {"blocked": True, "blocked_reason": "Waiting for the vendor's answer"}
            if column.kind == "active":
                entered = created + (self.now - created) * self.rng.random()
                extra |= {
                    "assignee_id": self.rng.choice(self.members),
                    "started_at": entered,
                    "column_entered_at": entered,
                }
            card = self._card(lane, column, "open", created, **extra)
            cards.append(card)
            events.append(self._created_event(card, ready))
            if column.kind == "active":
                changes = {"column_id": [ready.id, column.id]}
                at = card["column_entered_at"]
                events.append(self._event(card, "moved", at, ready.id, column.id, changes))
        self._write(cards, events)

    def open_count(self) -> int:
        return db.session.execute(
            select(func.count())
            .select_from(Card)
            .where(Card.board_id == self.board_id, Card.status == "open")
        ).scalar_one()

    def open_cards_in(self, lane: Place, column: Place, count: int) -> list[int]:
        query = (
            select(Card.id)
            .where(Card.lane_id == lane.id, Card.column_id == column.id, Card.status == "open")
            .order_by(Card.rank)
            .limit(count)
        )
        return list(db.session.execute(query).scalars())


@dataclass
class Sample:
    """Timings of one kind of request: wall-clock (the figure), and on stderr also this
    process's CPU time and the statements sent per request."""

    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    answer: object = None

    @property
    def median_ms(self) -> float:
        return median_ms(self.seconds)

    def __str__(self) -> str:
        return (
            f"median {self.median_ms} ms (min {min(self.seconds) * 1000:.2f}, "
            f"max {max(self.seconds) * 1000:.2f}), cpu median {median_ms(self.cpu)} ms, "
            f"statements {sorted(set(self.queries))}"
        )


class Bench:
    def __init__(self, app, builder: Builder, counter: QueryCounter) -> None:
        self.app, self.builder, self.counter = app, builder, counter
        self.client = app.test_client()
        self.base = f"/b/{builder.board_id}"
        self.hx = {"HX-Request": "true"}
        self.version = ""  # the board version the page shows (#board-live data-version)

    def login(self, username: str = "lead") -> None:
        token = csrf_token(self.client.get("/login").text)
        data = {"username": username, "password": PASSWORD, "csrf_token": token}
        answer = self.client.post("/login", data=data)
        if answer.status_code != 302:
            raise SystemExit(f"login failed: {answer.status_code}")
        page = self.client.get(self.base).text
        self.hx["X-CSRFToken"] = csrf_token(page)
        self.shows(page)

    def shows(self, answer: str) -> None:
        """Keep the board version an answer gives the page, as app.js sends it next time."""
        found = re.search(r'id="board-live"[^>]*data-version="(\d+)"', answer)
        if found is None:
            raise SystemExit("the answer carries no board version (#board-live)")
        self.version = found.group(1)

    def change(self, path: str, data: dict | None = None, *, current: bool = True):
        """POST a change as htmx does; current: from a page showing the board as it is."""
        headers = self.hx | {"X-Board-Version": self.version if current else "0"}
        answer = self.client.post(self.base + path, data=data, headers=headers)
        if answer.status_code == 200:
            self.shows(answer.text)
        return answer

    def timed(self, what: str, send, check) -> Sample:
        """Warm up, then time RUNS requests; each answer must pass check."""
        sample = Sample()
        for i in range(WARMUP + RUNS):
            before = self.counter.count
            cpu, start = time.process_time(), time.perf_counter()
            answer = send(i)
            elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
            check(answer)
            if i >= WARMUP:
                sample.seconds.append(elapsed)
                sample.cpu.append(cpu)
                sample.queries.append(self.counter.count - before)
        sample.answer = answer
        log(f"{what}: {sample}")
        return sample

    def board(self, size: int) -> dict[str, float]:
        def ok(answer):
            if answer.status_code != 200:
                raise SystemExit(f"board page answered {answer.status_code}")

        grids = self.app.extensions["tracker.grids"]

        def changed(_i):
            grids.clear()  # as after a change to the board: its grid is read and rendered
            return self.client.get(self.base)

        def fragment_changed(_i):
            grids.clear()
            return self.client.get(self.base, headers=self.hx)

        page = self.timed(f"board {size} page", changed, ok)
        kept = self.timed(
            f"board {size} page, nothing changed", lambda _i: self.client.get(self.base), ok
        )
        fragment = self.timed(f"board {size} fragment", fragment_changed, ok)
        html = fragment.answer.get_data()
        shown = html.count(b'<li class="card')
        with self.app.app_context():
            open_cards = self.builder.open_count()
        if shown < open_cards:
            raise SystemExit(f"the board shows {shown} cards but {open_cards} are open")
        log(f"board {size}: {open_cards} open cards, {shown} shown, fragment {len(html)} bytes")
        return {
            f"board_{size}_ms": page.median_ms,
            f"board_{size}_kept_ms": kept.median_ms,
            f"board_{size}_queries": max(page.queries + fragment.queries),
            f"board_{size}_bytes_per_card": round(len(html) / shown),
        }

    @staticmethod
    def answered(what: str, answer, notice: str, *, current: bool) -> None:
        """A change's answer: its notice, and only the changed parts (current page) or the
        whole board (a page that was behind)."""
        partial = answer.headers.get("HX-Reswap") == "none" and 'id="board"' not in answer.text
        if answer.status_code != 200 or notice not in answer.text or partial != current:
            raise SystemExit(f"{what} failed: {answer.status_code} {answer.text[:300]}")

    def pull(self, *, current: bool = True) -> float:
        def send(_i):
            return self.change("/pull", current=current)

        def ok(answer):
            self.answered("pull", answer, "You pulled", current=current)

        name = "pull" if current else "pull, page behind: whole board (diagnostic)"
        return self.timed(name, send, ok).median_ms

    def move(self, *, current: bool = True) -> float:
        lane = self.builder.lanes["feature"]
        progress = self.builder.columns["In progress"]
        review = self.builder.columns["Review"]
        with self.app.app_context():
            (card_id,) = self.builder.open_cards_in(lane, progress, 1)

        def send(i):
            to = review if i % 2 == 0 else progress
            data = {"lane_id": lane.id, "column_id": to.id}
            return self.change(f"/cards/{card_id}/move", data, current=current)

        def ok(answer):
            self.answered("move", answer, "Moved", current=current)

        name = "move" if current else "move, page behind: whole board (diagnostic)"
        return self.timed(name, send, ok).median_ms

    def search(self) -> float:
        """The board searched from its box: the filtered #board, as htmx asks for it."""

        def send(i):
            query = {"q": SEARCHES[i % len(SEARCHES)]}
            return self.client.get(self.base, query_string=query, headers=self.hx)

        def ok(answer):
            if answer.status_code != 200 or "Filtered:" not in answer.text:
                raise SystemExit(f"board search failed: {answer.status_code}")

        return self.timed("board search", send, ok).median_ms

    def archive_search(self) -> float:
        """The archive's search: a ranked page of the done cards that match, and the count."""

        def send(i):
            return self.client.get(
                f"{self.base}/done", query_string={"q": SEARCHES[i % len(SEARCHES)]}
            )

        def ok(answer):
            if answer.status_code != 200 or "matching" not in answer.text:
                raise SystemExit(f"archive search failed: {answer.status_code}")

        return self.timed("archive search", send, ok).median_ms

    def finish(self) -> None:
        """Diagnostic on stderr only (no target): In progress -> Done, the end of every card."""
        lane = self.builder.lanes["feature"]
        progress, done = self.builder.columns["In progress"], self.builder.columns["Done"]
        with self.app.app_context():
            card_ids = self.builder.open_cards_in(lane, progress, 5)
        seconds = []
        for card_id in card_ids:
            data = {"lane_id": lane.id, "column_id": done.id}
            start = time.perf_counter()
            answer = self.change(f"/cards/{card_id}/move", data)
            seconds.append(time.perf_counter() - start)
            if answer.status_code != 200:
                raise SystemExit(f"move to Done failed: {answer.status_code}")
        log(f"move to Done (diagnostic, {len(seconds)} runs): median {median_ms(seconds)} ms")


def build(url: str) -> tuple[Flask, Builder, QueryCounter]:
    """The app on the database at url, with the board built: its people, the history and
    the first SIZES[0] open cards (on PostgreSQL then vacuumed and analysed)."""
    rng = random.Random(SEED)  # the same board on every database
    app = create_app(
        {
            "SECRET_KEY": "bench-only-secret",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1",
            "SQLALCHEMY_DATABASE_URI": url,
        }
    )
    builder = Builder(rng)
    # Building happens in app contexts of its own; requests run outside any, so that
    # each request gets a fresh app context and database session, as in production.
    with app.app_context():
        db.create_all()
        builder.setup()
        started = time.perf_counter()
        builder.history(HISTORY_CARDS)
        log(f"history: {HISTORY_CARDS} done cards in {time.perf_counter() - started:.1f} s")
        builder.open_cards(SIZES[0])
        if db.engine.dialect.name == "postgresql":
            # Statistics and a vacuumed table, as autovacuum keeps them on a server whose
            # board grew over years. Measured at once after a bulk load without them,
            # PostgreSQL's planner guesses (the bottom of a cell, a move's or pull's new
            # rank, took 0.7 ms, not 0.01, through a bitmap of the lane's 55,000 done
            # cards), and autovacuum would start on the other core mid-measurement.
            db.session.commit()
            with db.engine.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT")
                connection.execute(text("VACUUM ANALYZE"))
        counter = QueryCounter(db.engine)
        db.session.remove()
    return app, builder, counter


def measure(url: str) -> dict[str, float]:
    """Build the board on the database at url and time its page, pull and move."""
    app, builder, counter = build(url)
    bench = Bench(app, builder, counter)
    bench.login()
    figures = bench.board(SIZES[0])
    figures["pull_ms"] = bench.pull()
    figures["move_ms"] = bench.move()
    bench.pull(current=False)
    bench.move(current=False)
    with app.app_context():
        builder.open_cards(SIZES[1] - builder.open_count())
        db.session.remove()
    big = bench.board(SIZES[1])
    figures |= {k: v for k, v in big.items() if "bytes" not in k}
    figures["board_search_ms"] = bench.search()
    figures["archive_search_ms"] = bench.archive_search()
    bench.finish()
    with app.app_context():
        db.engine.dispose()
    return figures


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="wb-bench-") as tmp:
        log("SQLite")
        figures = measure("sqlite:///" + str(Path(tmp) / "bench.sqlite3"))
    keys = list(FIGURES)
    server_url = os.environ.get("TRACKER_BENCH_POSTGRES_URL")
    if server_url:
        url, drop = throwaway_postgres(server_url, "wb_bench")
        try:
            log(f"PostgreSQL: throwaway database {make_url(url).database}")
            unflushed(url)
            on_postgres = measure(url)
            flush_ms = commit_flush_ms(url)
        finally:
            drop()
        figures |= {f"pg_{key}": on_postgres[key] for key in TIMED}
        figures |= {
            f"pg_over_sqlite_{key.removesuffix('_ms')}": round(on_postgres[key] / figures[key], 2)
            for key in TIMED
        }
        keys += [f"pg_{key}" for key in TIMED]
        keys += [f"pg_over_sqlite_{key.removesuffix('_ms')}" for key in TIMED]
        figures["pg_commit_flush_ms"] = flush_ms
        keys.append("pg_commit_flush_ms")
    for key in keys:
        print(f"{key} = {figures[key]}")


if __name__ == "__main__":
    main()
