"""Support intake speed: filing a request, and My requests, in process on SQLite.

Run from the repo root:  .venv/bin/python bench/intake.py

Builds a throwaway SQLite database in a temporary directory (never the instance one) with
bench/board.py's board and row shapes: 100,000 done cards of history (each with a
"created" and a "moved" event), 200 open cards, a dozen components, and one support
person ("filer") who has filed 500 requests over the last year: most done, some closed,
the rest in Ready, In progress or Review, each with its events and an internal note and a
reply (comments and their "commented" events). Requests go through Flask's test client
with CSRF on: server time, no network.

Figures (stdout, `key = value`; medians over RUNS requests after WARMUP warm-ups):
  intake_submit_ms   POST /b/<id>/intake as a support person (a valid S2/S3/S4 request with
                     a fresh one-time token each time), up to the 303 to the request page
  my_requests_ms     GET /b/<id>/requests as the person with 500 filed requests (its first
                     page: 50 of them)
  queue_ms           GET /b/<id>/queue?severity=S3&component=Search, the support desk's
                     Requests page filtered, newest first, on a board with 20,500 requests
                     (20,000 more filed by "support" over the last year, shaped as above)
"""

from __future__ import annotations

import random
import re
import secrets
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent))
from board import (  # noqa: E402 - bench/board.py is the sibling script whose helpers we reuse
    HISTORY_CARDS,
    PASSWORD,
    SEED,
    SIZES,
    Bench,
    Builder,
    QueryCounter,
    csrf_token,
    log,
)

from tracker import create_app  # noqa: E402
from tracker.extensions import db  # noqa: E402
from tracker.models import Board, Card, Comment, Component  # noqa: E402
from tracker.services import boards, users  # noqa: E402
from tracker.services.desk import PAGE_SIZE  # noqa: E402

FILED = 500
QUEUED = 20_000  # the support person's requests: the queue's bulk
COMPONENTS = (
    "Checkout", "Invoices", "Search", "Login", "Mobile app", "Reports",
    "Exports", "Email", "Billing", "Admin", "API", "Notifications",
)  # fmt: skip
# Where the filer's requests are now: (column, status, share).
FILED_SHARE = (
    ("Done", "done", 0.62),
    ("Ready", "closed", 0.08),
    ("Ready", "open", 0.12),
    ("In progress", "open", 0.1),
    ("Review", "open", 0.08),
)


class IntakeBuilder(Builder):
    """bench/board.py's board, plus components, support people and filed requests."""

    def intake_setup(self) -> None:
        board = db.session.get(Board, self.board_id)
        for name in COMPONENTS:
            db.session.add(Component(board_id=self.board_id, name=name))
        self.support_ids = {}
        for username in ("support", "filer"):
            user = users.create_user(username, f"{username.title()} Staff", PASSWORD)
            boards.set_membership(board, user, "support")
            self.support_ids[username] = user.id
        db.session.commit()

    def filed_requests(self, count: int, username: str = "filer", open_s1: bool = True) -> None:
        """count requests filed by `username` over the last year, with their events and
        comments. Without open_s1, every S1 is done (a real board has an emergency or two
        open, not hundreds: the banner on every page would show them all)."""
        filer = self.support_ids[username]
        ready = self.columns["Ready"]
        cards, events, notes = [], [], []
        for _ in range(count):
            severity = self.rng.choice(("S1", "S2", "S2", "S3", "S3", "S4"))
            lane = self.lanes["expedite" if severity == "S1" else "support"]
            column_name, status, total = self.columns["Done"].name, "done", 0.0
            x = self.rng.random()
            for name, state, share in FILED_SHARE:
                total += share
                if x < total:
                    column_name, status = name, state
                    break
            if severity == "S1" and not open_s1:
                column_name, status = "Done", "done"
            column = self.columns[column_name]
            created = self.now - timedelta(hours=self.rng.uniform(1, 365 * 24))
            moved = created + (self.now - created) * self.rng.uniform(0.1, 0.9)
            extra = {
                "severity": severity,
                "component": self.rng.choice(COMPONENTS),
                "requester": "Dana Customer",
                "requester_email": "dana@example.com",
                "environment": "production",
                "filed_by_id": filer,
                "created_by_id": filer,
                "intake_key": secrets.token_urlsafe(24),
                "assignee_id": None,
                "started_at": None,
                "done_at": None,
                "closed_at": None,
                "close_reason": "",
                "column_entered_at": created,
            }
            if column.kind != "queue":
                extra |= {"assignee_id": self.rng.choice(self.members), "started_at": moved}
                extra["column_entered_at"] = moved
            if status == "done":
                extra["done_at"] = moved
            if status == "closed":
                extra |= {"closed_at": moved, "close_reason": "Duplicate: same as another"}
            card = self._card(lane, column, status, created, **extra)
            cards.append(card)
            events.append(self._created_event(card, ready))
            if column.id != ready.id:
                changes = {"column_id": [ready.id, column.id]}
                events.append(self._event(card, "moved", moved, ready.id, column.id, changes))
            if status == "closed":
                changes = {"status": ["open", "closed"]}
                events.append(self._event(card, "closed", moved, None, None, changes))
            for visibility, why in (("internal", "internal note"), ("reply", "reply to requester")):
                at = created + (moved - created) * self.rng.random()
                event = self._event(card, "commented", at, None, None, {})
                events.append(event | {"reason": why})
                notes.append(
                    {
                        "board_id": self.board_id,
                        "card_id": card["id"],
                        "author_id": filer,
                        "at": at,
                        "body": "We are looking into it.",
                        "visibility": visibility,
                    }
                )
        self._write(cards, events)
        db.session.execute(insert(Comment.__table__), notes)
        db.session.commit()


class IntakeBench(Bench):
    def login_as(self, username: str) -> None:
        """Log in (CSRF on) and keep the token for the forms this client sends."""
        token = csrf_token(self.client.get("/login").text)
        data = {"username": username, "password": PASSWORD, "csrf_token": token}
        answer = self.client.post("/login", data=data)
        if answer.status_code != 302:
            raise SystemExit(f"login as {username} failed: {answer.status_code}")
        self.csrf = csrf_token(self.client.get(self.base + "/intake").text)

    def submit(self) -> float:
        severities = ("S2", "S3", "S4")

        def send(i):
            data = {
                "csrf_token": self.csrf,
                "intake_key": secrets.token_urlsafe(24),
                "title": f"Checkout fails for card payments ({i})",
                "description": "The customer pressed Pay and saw an error page.",
                "requester": "Dana Customer",
                "requester_email": "dana@example.com",
                "severity": severities[i % 3],
                "component": COMPONENTS[i % len(COMPONENTS)],
                "environment": "production, Firefox 140",
            }
            return self.client.post(self.base + "/intake", data=data)

        def ok(answer):
            if answer.status_code != 303 or "/requests/" not in answer.headers["Location"]:
                raise SystemExit(f"filing failed: {answer.status_code} {answer.text[:300]}")

        return self.timed("intake submit", send, ok).median_ms

    def my_requests(self) -> float:
        def ok(answer):
            if answer.status_code != 200:
                raise SystemExit(f"My requests answered {answer.status_code}")
            rows = len(re.findall(r'<span class="ref">', answer.text))
            if rows != min(FILED, PAGE_SIZE):
                raise SystemExit(f"My requests shows {rows} requests, not {PAGE_SIZE}")

        send = lambda _i: self.client.get(self.base + "/requests")  # noqa: E731
        return self.timed("my requests", send, ok).median_ms

    def queue(self) -> float:
        path = self.base + "/queue?severity=S3&component=Search"

        def ok(answer):
            if answer.status_code != 200:
                raise SystemExit(f"the queue answered {answer.status_code}")
            rows = len(re.findall(r'<tr id="request-', answer.text))
            if rows != PAGE_SIZE or "page 1 of" not in answer.text:
                raise SystemExit(f"the queue shows {rows} requests, not a page of {PAGE_SIZE}")

        send = lambda _i: self.client.get(path)  # noqa: E731
        return self.timed("queue", send, ok).median_ms


def main() -> None:
    rng = random.Random(SEED)
    with tempfile.TemporaryDirectory(prefix="wb-bench-intake-") as tmp:
        url = "sqlite:///" + str(Path(tmp) / "bench.sqlite3")
        app = create_app(
            {
                "SECRET_KEY": "bench-only-secret",
                "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1",
                "SQLALCHEMY_DATABASE_URI": url,
            }
        )
        builder = IntakeBuilder(rng)
        with app.app_context():
            db.create_all()
            builder.setup()
            builder.intake_setup()
            started = time.perf_counter()
            builder.history(HISTORY_CARDS)
            builder.open_cards(SIZES[0])
            builder.filed_requests(FILED)
            builder.filed_requests(QUEUED, "support", open_s1=False)
            cards = db.session.execute(select(func.count()).select_from(Card)).scalar_one()
            log(f"built {cards} cards in {time.perf_counter() - started:.1f} s")
            counter = QueryCounter(db.engine)
            db.session.remove()
        filing = IntakeBench(app, builder, counter)
        filing.login_as("support")
        intake_submit_ms = filing.submit()
        following = IntakeBench(app, builder, counter)
        following.login_as("filer")
        my_requests_ms = following.my_requests()
        desk = IntakeBench(app, builder, counter)
        desk.login_as("support")
        queue_ms = desk.queue()
        with app.app_context():
            db.engine.dispose()
    print(f"intake_submit_ms = {intake_submit_ms}")
    print(f"my_requests_ms = {my_requests_ms}")
    print(f"queue_ms = {queue_ms}")


if __name__ == "__main__":
    main()
