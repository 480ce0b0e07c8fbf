"""Capacity report speed: the report page over two years of history, in process on SQLite.

Run from the repo root:  .venv/bin/python bench/report.py

Builds a throwaway SQLite database in a temporary directory (never the instance one) with
bench/board.py's board, people and row shapes: 100,000 cards over the last two years, each
with the events the services write on its way (created, pulled, comments, an edit, a
reorder, now and then a block and a reviewer, moved to Review, moved to Done): about
1,000,000 events. Thirty people work the board; 52 two-week sprints end with the running
one. Twelve of them run a support rotation through it all (two on duty, two-sprint
staggered terms), so the page computes the rotation's figures too. Requests go through
Flask's test client, logged in as the lead, with CSRF on.

Figures (stdout, `key = value`):
  report_ms        median time of the report page (GET /b/<id>/report: the last twelve
                   sprints, the allowance, the emergencies), over RUNS requests
  report_queries   SQL statements per report page
  report_cold_ms   the first report request (nothing warmed up)
  report_csv_ms    median time of the CSV export of the same table
  incidents_ms     median time of the report's Incidents section alone (services.incidents
                   .report_section over the page's twelve sprints: the expedite cards
                   opened in them, their stage events, grants, reviews and follow-ups)
  incidents_2y_ms  the same over all 52 sprints: the whole two years of history
  incidents_cpu_ms / incidents_2y_cpu_ms  their median process CPU time (on a loaded
                   machine the wall clock waits for other work; the CPU time does not)
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent))
from board import (  # noqa: E402 - bench/board.py is the sibling script whose helpers we reuse
    PASSWORD,
    Bench,
    Builder,
    QueryCounter,
    log,
)

from tracker import create_app  # noqa: E402
from tracker.domain import rotation as rules  # noqa: E402
from tracker.extensions import db  # noqa: E402
from tracker.models import (  # noqa: E402
    Board,
    BreakGlassGrant,
    Card,
    CardEvent,
    Lane,
    Rotation,
    RotationPerson,
    RotationTerm,
    Sprint,
    User,
)
from tracker.services import boards, users  # noqa: E402
from tracker.services import incidents as incident_service  # noqa: E402
from tracker.services import reports as reports_service  # noqa: E402

CARDS = 100_000
PEOPLE = 30
SPRINTS = 52
SEED = 20261127
BATCH = 2_000
WARMUP, RUNS = 2, 20
ROTATION_POOL = 12
LANE_SHARE = (("expedite", 0.03), ("support", 0.42), ("feature", 0.55))


class HistoryBuilder(Builder):
    """Cards that go through the board as the services would record it."""

    def people(self) -> None:
        board = db.session.get(Board, self.board_id)
        for i in range(len(self.members), PEOPLE):
            user = users.create_user(f"person{i}", f"Person Number{i}", PASSWORD)
            boards.set_membership(board, user, "member")
            self.members.append(user.id)

    def sprints(self) -> None:
        today = self.now.date()
        first = today - timedelta(days=today.weekday()) - timedelta(weeks=2 * (SPRINTS - 1))
        rows = []
        for n in range(SPRINTS):
            start = first + timedelta(weeks=2 * n)
            rows.append(
                {
                    "board_id": self.board_id,
                    "name": f"Sprint {n + 1}",
                    "start_on": start,
                    "end_on": start + timedelta(days=13),
                    "capacity_days": 200 - self.rng.choice((0, 5, 10, 20)),
                    "capacity_points": None,
                    "created_at": self.now,
                }
            )
        db.session.execute(insert(Sprint.__table__), rows)
        db.session.commit()
        self.first_day = first

    def rotation(self) -> None:
        """A support rotation over the whole history and beyond: two of ROTATION_POOL people
        on duty, two-sprint staggered terms (so the report computes its figures too)."""
        spans = rules.upcoming_spans(
            [
                (
                    self.first_day + timedelta(weeks=2 * n),
                    self.first_day + timedelta(weeks=2 * n, days=13),
                )
                for n in range(SPRINTS)
            ],
            self.first_day,
            SPRINTS + 2 * rules.TERMS_AHEAD,
        )
        pool = self.members[:ROTATION_POOL]
        setup = rules.Setup(on_duty=2, term_periods=2, staggered=True)
        schedule = rules.plan(spans, pool, setup)
        db.session.add(
            Rotation(
                board_id=self.board_id, enabled=True, on_duty=2, term_periods=2, staggered=True
            )
        )
        db.session.add_all(RotationPerson(board_id=self.board_id, user_id=uid) for uid in pool)
        db.session.execute(
            insert(RotationTerm.__table__),
            [
                {
                    "board_id": self.board_id,
                    "seat": t.seat,
                    "start_on": t.start,
                    "end_on": t.end,
                    "user_id": t.person,
                }
                for t in schedule.terms
            ],
        )
        db.session.commit()

    def card_history(self, cards: list[dict], events: list[dict]) -> None:
        """One card: created, pulled, worked on, reviewed, done (or still open now)."""
        rng, c = self.rng, self.columns
        lane = self.lanes[self._pick(LANE_SHARE)]
        span = (self.now - timedelta(days=730)).timestamp(), self.now.timestamp()
        pulled = datetime.fromtimestamp(rng.uniform(*span), self.now.tzinfo)
        created = pulled - timedelta(
            hours=rng.uniform(0.1, 4) if lane.kind == "expedite" else rng.uniform(1, 300)
        )
        hours = {"expedite": (0.5, 3), "support": (1, 30), "feature": (8, 90)}[lane.kind]
        review = pulled + timedelta(hours=rng.uniform(*hours))
        done = review + timedelta(hours=rng.uniform(0.5, 20))
        who = rng.choice(self.members)
        card = self._card(lane, c["Ready"], "open", created)
        card["severity"] = "S1" if lane.kind == "expedite" else card["severity"]
        cards.append(card)
        events.append(self._created_event(card, c["Ready"]))
        steps = [
            (
                pulled,
                "pulled",
                c["Ready"],
                c["In progress"],
                {"column_id": [c["Ready"].id, c["In progress"].id], "assignee_id": [None, who]},
            ),
        ]
        comments = sorted(rng.uniform(0, 1) for _ in range(2))
        for share in comments:
            steps.append((pulled + (review - pulled) * share, "commented", None, None, {}))
        steps.append(
            (
                pulled + (review - pulled) * 0.5,
                "edited",
                None,
                None,
                {"estimate": [card["estimate"], card["estimate"]]},
            )
        )
        steps.append((created + (pulled - created) * 0.5, "reordered", None, None, {}))
        if rng.random() < 0.2:
            blocked = pulled + (review - pulled) * 0.3
            steps.append((blocked, "blocked", None, None, {"blocked": [False, True]}))
            steps.append(
                (
                    blocked + (review - pulled) * 0.2,
                    "unblocked",
                    None,
                    None,
                    {"blocked": [True, False]},
                )
            )
        steps.append(
            (
                review,
                "moved",
                c["In progress"],
                c["Review"],
                {"column_id": [c["In progress"].id, c["Review"].id]},
            )
        )
        if rng.random() < 0.35:
            reviewer = rng.choice(self.members)
            steps.append(
                (
                    review + timedelta(minutes=5),
                    "assigned",
                    None,
                    None,
                    {"assignee_id": [who, reviewer]},
                )
            )
        steps.append((done - timedelta(minutes=30), "commented", None, None, {}))
        steps.append(
            (
                done,
                "moved",
                c["Review"],
                c["Done"],
                {"column_id": [c["Review"].id, c["Done"].id], "status": ["open", "done"]},
            )
        )
        steps.sort(key=lambda step: step[0])
        column, status, entered, assignee = c["Ready"], "open", created, None
        for at, kind, from_column, to_column, changes in steps:
            if at >= self.now:
                break
            events.append(
                self._event(
                    card,
                    kind,
                    at,
                    from_column and from_column.id,
                    to_column and to_column.id,
                    changes,
                )
            )
            if to_column is not None:
                column, entered = to_column, at
            if "status" in changes:
                status = "done"
            if "assignee_id" in changes:
                assignee = changes["assignee_id"][1]
        card.update(
            column_id=column.id,
            status=status,
            column_entered_at=entered,
            assignee_id=assignee,
            started_at=pulled if pulled < self.now else None,
            done_at=done if status == "done" else None,
        )
        if status == "open":
            self.ranks[(lane.id, column.id)] += 1024.0
            card["rank"] = self.ranks[(lane.id, column.id)]

    def build(self, count: int) -> int:
        written = 0
        for start in range(0, count, BATCH):
            cards, events = [], []
            for _ in range(min(BATCH, count - start)):
                self.card_history(cards, events)
            self._write(cards, events)
            written += len(events)
        return written


def build_history(url: str, *, rotation: bool = True) -> tuple[Flask, HistoryBuilder, QueryCounter]:
    """The two years of history bench/report.py and bench/flow.py measure, on the database
    at `url` (CARDS cards, PEOPLE people, SPRINTS sprints, with a support rotation unless
    told not to): the app, the builder (the board's ids) and a statement counter."""
    app = create_app(
        {
            "SECRET_KEY": "bench-only-secret",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1",
            "SQLALCHEMY_DATABASE_URI": url,
        }
    )
    builder = HistoryBuilder(random.Random(SEED))
    with app.app_context():
        db.create_all()
        builder.setup()
        builder.people()
        builder.sprints()
        if rotation:
            builder.rotation()
        started = time.perf_counter()
        written = builder.build(CARDS)
        cards = db.session.execute(select(func.count()).select_from(Card)).scalar_one()
        people = db.session.execute(select(func.count()).select_from(User)).scalar_one()
        took = time.perf_counter() - started
        log(f"history: {cards} cards, {written} events, {people} people, {SPRINTS} sprints")
        log(f"built in {took:.1f} s")
        assert (
            db.session.execute(select(func.count()).select_from(CardEvent)).scalar_one() == written
        )
        counter = QueryCounter(db.engine)
        db.session.remove()
    return app, builder, counter


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="wb-bench-report-") as tmp:
        url = "sqlite:///" + str(Path(tmp) / "bench.sqlite3")
        app, builder, counter = build_history(url)
        bench = Bench(app, builder, counter)
        bench.login()
        path = f"{bench.base}/report"

        start = time.perf_counter()
        first = bench.client.get(path)
        cold = (time.perf_counter() - start) * 1000
        if (
            first.status_code != 200
            or "Hold back" not in first.text
            or "Fairness" not in first.text
        ):
            raise SystemExit(f"report answered {first.status_code}: {first.text[:500]}")

        def ok(answer):
            if answer.status_code != 200 or "Rotation covers" not in answer.text:
                raise SystemExit(f"report answered {answer.status_code}")

        page = bench.timed("report page", lambda _i: bench.client.get(path), ok)
        csv = bench.timed("report csv", lambda _i: bench.client.get(path + ".csv"), ok_csv)
        with app.app_context():
            add_grants(builder.board_id, builder.rng)
            twelve, twelve_cpu = incidents_timed(builder.board_id, 12)
            everything, everything_cpu = incidents_timed(builder.board_id, SPRINTS)
            db.engine.dispose()
    print(f"report_ms = {page.median_ms}")
    print(f"report_queries = {max(page.queries)}")
    print(f"report_cold_ms = {round(cold, 2)}")
    print(f"report_csv_ms = {csv.median_ms}")
    print(f"incidents_ms = {twelve}")
    print(f"incidents_2y_ms = {everything}")
    print(f"incidents_cpu_ms = {twelve_cpu}")
    print(f"incidents_2y_cpu_ms = {everything_cpu}")


def add_grants(board_id: int, rng: random.Random) -> None:
    """Break-glass access on a quarter of the expedite cards (an hour or two each, ended),
    so the section reads grants too."""
    expedite = select(Lane.id).where(Lane.board_id == board_id, Lane.kind == "expedite")
    found = db.session.execute(
        select(Card.id, Card.created_at, Card.created_by_id).where(
            Card.lane_id == expedite.scalar_subquery()
        )
    ).all()
    rows = []
    for card_id, created_at, holder in found[::4]:
        at = created_at + timedelta(minutes=rng.randint(5, 60))
        rows.append(
            {
                "board_id": board_id,
                "card_id": card_id,
                "holder_id": holder,
                "target": "orders-db primary, write",
                "why": "bench",
                "buddy_id": None,
                "buddy_name": "Ops",
                "granted_at": at,
                "expected_end": at + timedelta(hours=2),
                "recorded_by_id": holder,
                "ended_at": at + timedelta(minutes=rng.randint(30, 120)),
                "ended_by_id": holder,
                "left_open_reason": "",
            }
        )
    db.session.execute(insert(BreakGlassGrant), rows)
    db.session.commit()
    log(f"grants: {len(rows)} on {len(found)} expedite cards")


def incidents_timed(board_id: int, count: int) -> tuple[float, float]:
    """The median milliseconds (wall clock, CPU) of the Incidents section over the last
    `count` sprints."""
    board = db.session.get(Board, board_id)
    periods = [reports_service._period(s) for s in reports_service.sprints_of(board_id)]
    shown = periods[-count:]
    took, cpu = [], []
    for _i in range(WARMUP + RUNS):
        start, cpu_start = time.perf_counter(), time.process_time()
        section = incident_service.report_section(board, shown)
        took.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - cpu_start) * 1000)
        db.session.expire_all()
        if not section.rows:
            raise SystemExit("the incidents section has no periods")
    counted = sum(f.count for _, f in section.rows)
    log(f"incidents over {len(shown)} sprints: {counted}")
    return (
        round(statistics.median(took[WARMUP:]), 2),
        round(statistics.median(cpu[WARMUP:]), 2),
    )


def ok_csv(answer) -> None:
    if answer.status_code != 200 or not answer.text.startswith("period,"):
        raise SystemExit(f"report csv answered {answer.status_code}")


if __name__ == "__main__":
    import board as _board

    _board.WARMUP, _board.RUNS = WARMUP, RUNS
    main()
