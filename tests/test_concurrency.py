"""The WIP check and the move are one atomic step, however many people pull at once.

A board where only the Feature lane has ready cards (limit 3, 20 ready) and 20 different
members pull at the same moment: exactly 3 get a card and 17 are told the lane is full,
round after round. On SQLite from threads of one process; on PostgreSQL from several OS
processes (tests/pg_pull_worker.py). Also: two people saving an edit of the same card
version at once, where exactly one wins and the other is told the card changed.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.helpers import actor, column, lane, make_board, make_card, make_user, wipe
from tests.helpers import app_config as config_for
from tests.pg_pull_worker import pull_at_once
from tracker import create_app
from tracker.domain.errors import StaleCard
from tracker.extensions import db
from tracker.models import BoardColumn, Card, CardEvent, User
from tracker.services import boards, cards
from tracker.services.common import Actor

LIMIT, READY, PULLERS = 3, 20, 20
SQLITE_ROUNDS = 15
PG_ROUNDS = 10
PG_PROCESSES = 2
EDIT_ROUNDS = 10
FULL = f"Feature is at its WIP limit, {LIMIT} of {LIMIT}"
WORKER = Path(__file__).with_name("pg_pull_worker.py")
ROOT = WORKER.parent.parent
# One connection per thread, so that the pulls wait on the database's lock, not the pool.
ENGINE = {"pool_size": 25, "max_overflow": 5, "pool_pre_ping": True}
WORKER_ENGINE = {"pool_size": PULLERS // PG_PROCESSES + 2, "max_overflow": 2, "pool_pre_ping": True}
REPLY_TIMEOUT = 90.0


def make_app(url: str):
    app = create_app(config_for(url, SQLALCHEMY_ENGINE_OPTIONS=ENGINE))
    with app.app_context():
        db.create_all()
    return app


@pytest.fixture
def sqlite_app(tmp_path):
    app = make_app("sqlite:///" + str(tmp_path / "concurrency.sqlite3"))
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def pg_app(pg_url):
    app = make_app(pg_url)
    yield app
    wipe(app)  # the database is shared with the other PostgreSQL tests of this run
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def any_app(request):
    return request.getfixturevalue("sqlite_app" if request.param == "sqlite" else "pg_app")


def make_people(n: int = PULLERS) -> tuple[Actor, list[Actor]]:
    """A lead who files the cards and n members who pull (no per-person limit is set)."""
    lead = actor(make_user("lead-person"), "lead")
    people = [actor(make_user(f"puller-{i:02d}")) for i in range(n)]
    return lead, people


def make_round_board(name: str, lead: Actor, people: list[Actor]) -> int:
    """Feature limit 3 with 20 ready Feature cards; Expedite and Support have nothing ready."""
    board = make_board(name, feature=LIMIT)
    assert board.per_person_limit is None
    for person, role in [(lead, "lead")] + [(p, "member") for p in people]:
        boards.set_membership(board, db.session.get(User, person.id), role)
    for i in range(READY):
        make_card(board, lead, "feature", f"Feature {i + 1}")
    board_id = board.id
    db.session.remove()
    return board_id


def check_round(board_id: int, outcomes: list[dict[str, Any]], people: list[Actor]) -> None:
    """Exactly LIMIT pulls won and the rest were refused for the lane limit, in the answers
    and in the database, with one `pulled` event per pulled card and no override."""
    where = f"board {board_id}"
    assert sorted(o["user_id"] for o in outcomes) == sorted(p.id for p in people), where
    errors = [o["error"] for o in outcomes if o["error"]]
    assert not errors, f"{where}: {len(errors)} pulls failed:\n" + "\n".join(errors)
    won = [o for o in outcomes if o["card_id"] is not None]
    refused = [o for o in outcomes if o["card_id"] is None]
    assert (len(won), len(refused)) == (LIMIT, PULLERS - LIMIT), f"{where}: {outcomes}"
    assert len({o["card_id"] for o in won}) == LIMIT, f"{where}: a card was pulled twice"
    for o in refused:
        assert any(FULL in reason for reason in o["reasons"]), f"{where}: {o['reasons']}"

    db.session.remove()
    feature = lane_id(board_id, "feature")
    active = select(BoardColumn.id).where(
        BoardColumn.board_id == board_id, BoardColumn.kind == "active"
    )
    in_progress = db.session.execute(
        select(Card.id, Card.assignee_id).where(
            Card.board_id == board_id,
            Card.lane_id == feature,
            Card.status == "open",
            Card.column_id.in_(active),
        )
    ).all()
    assert len(in_progress) == LIMIT, f"{where}: {len(in_progress)} Feature cards in progress"
    assert {(r.id, r.assignee_id) for r in in_progress} == {
        (o["card_id"], o["user_id"]) for o in won
    }, where
    ready = db.session.execute(
        select(func.count(Card.id)).where(
            Card.board_id == board_id,
            Card.assignee_id.is_(None),
            Card.column_id == column_id(board_id, "Ready"),
        )
    ).scalar_one()
    assert ready == READY - LIMIT, where
    events = db.session.execute(
        select(CardEvent.card_id, CardEvent.kind).where(
            CardEvent.board_id == board_id, CardEvent.kind.in_(("pulled", "wip_override"))
        )
    ).all()
    assert sorted(e.card_id for e in events if e.kind == "pulled") == sorted(
        o["card_id"] for o in won
    ), f"{where}: pulled events {events}"
    assert not [e for e in events if e.kind == "wip_override"], where
    db.session.remove()


def lane_id(board_id: int, kind: str) -> int:
    return lane(_board(board_id), kind).id


def column_id(board_id: int, name: str) -> int:
    return column(_board(board_id), name).id


def _board(board_id: int):
    from tracker.models import Board

    return db.session.get(Board, board_id)


@pytest.mark.slow
def test_many_threads_pull_at_once_on_sqlite(sqlite_app):
    with sqlite_app.app_context():
        lead, people = make_people()
        for n in range(SQLITE_ROUNDS):
            board_id = make_round_board(f"Round {n + 1}", lead, people)
            outcomes = pull_at_once(sqlite_app, board_id, people)
            check_round(board_id, outcomes, people)


class Worker:
    """One pg_pull_worker.py process, spoken to in JSON lines."""

    def __init__(self, config: dict[str, Any], stderr_path: Path) -> None:
        self.stderr_path = stderr_path
        self.stderr = stderr_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, str(WORKER)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
        )
        self.replies: queue.Queue[str | None] = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.send({"config": config})

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.replies.put(line)
        self.replies.put(None)

    def send(self, message: dict[str, Any]) -> None:
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()

    def reply(self) -> dict[str, Any]:
        try:
            line = self.replies.get(timeout=REPLY_TIMEOUT)
        except queue.Empty:
            pytest.fail(f"worker {self.proc.pid} gave no answer in {REPLY_TIMEOUT} s{self.log()}")
        if line is None:
            self.proc.wait(timeout=10)
            pytest.fail(f"worker {self.proc.pid} exited ({self.proc.returncode}){self.log()}")
        return json.loads(line)

    def log(self) -> str:
        self.stderr.flush()
        text = self.stderr_path.read_text()
        return f"; its stderr:\n{text}" if text else " with nothing on stderr"

    def close(self) -> None:
        try:
            self.send({"stop": True})
            self.proc.stdin.close()
        except (BrokenPipeError, ValueError):
            pass
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.reader.join(timeout=10)
        self.proc.stdout.close()
        self.stderr.close()


@pytest.mark.slow
def test_separate_processes_pull_at_once_on_postgres(pg_app, pg_url, tmp_path):
    config = config_for(pg_url, SQLALCHEMY_ENGINE_OPTIONS=WORKER_ENGINE)
    workers = [Worker(config, tmp_path / f"worker-{i}.stderr") for i in range(PG_PROCESSES)]
    try:
        pids = {w.reply()["pid"] for w in workers}
        assert len(pids) == PG_PROCESSES
        with pg_app.app_context():
            lead, people = make_people()
            for n in range(PG_ROUNDS):
                board_id = make_round_board(f"Round {n + 1}", lead, people)
                start_at = time.time() + 0.5
                for k, worker in enumerate(workers):
                    share = people[k::PG_PROCESSES]
                    worker.send(
                        {
                            "board_id": board_id,
                            "start_at": start_at,
                            "actors": [[p.id, p.name] for p in share],
                        }
                    )
                answers = [w.reply() for w in workers]
                assert all(a["board_id"] == board_id for a in answers)
                outcomes = [o for a in answers for o in a["results"]]
                check_round(board_id, outcomes, people)
                # The processes really pulled at the same time: their pull windows overlap.
                windows = [
                    (
                        min(o["started"] for o in a["results"]),
                        max(o["finished"] for o in a["results"]),
                    )
                    for a in answers
                ]
                assert max(w[0] for w in windows) < min(w[1] for w in windows), windows
    finally:
        for worker in workers:
            worker.close()
    for worker in workers:
        assert worker.proc.returncode == 0, f"worker {worker.proc.pid}{worker.log()}"


def test_two_edits_of_one_version_one_wins(any_app):
    """Two people save an edit of the same card version at once: one wins, one is refused."""
    app = any_app
    with app.app_context():
        board = make_board()
        ann, bob = make_user("ann"), make_user("bob")
        boards.set_membership(board, ann, "member")
        boards.set_membership(board, bob, "member")
        editors = [actor(ann), actor(bob)]
        card = make_card(board, editors[0], "feature", "Original")
        board_id, card_id = board.id, card.id
        db.session.remove()

        for n in range(EDIT_ROUNDS):
            version = db.session.get(Card, card_id).version
            db.session.remove()
            barrier = threading.Barrier(len(editors))
            outcomes: list[Any] = [None] * len(editors)

            def edit(i: int, n=n, version=version, barrier=barrier, outcomes=outcomes) -> None:
                with app.app_context():
                    try:
                        barrier.wait(timeout=30)
                        title = f"Round {n} by {editors[i].name}"
                        cards.edit_card(board_id, editors[i], card_id, version, {"title": title})
                        outcomes[i] = ("saved", title)
                    except StaleCard as exc:
                        outcomes[i] = ("stale", exc.message)
                    except Exception as exc:  # reported in the assertion below
                        outcomes[i] = ("error", repr(exc))
                    finally:
                        db.session.remove()

            threads = [threading.Thread(target=edit, args=(i,)) for i in range(len(editors))]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            assert not any(thread.is_alive() for thread in threads)
            kinds = sorted(o[0] for o in outcomes)
            assert kinds == ["saved", "stale"], outcomes
            saved = next(o[1] for o in outcomes if o[0] == "saved")
            stored = db.session.get(Card, card_id)
            assert (stored.title, stored.version) == (saved, version + 1)
            db.session.remove()

        edits = db.session.execute(
            select(func.count(CardEvent.id)).where(
                CardEvent.card_id == card_id, CardEvent.kind == "edited"
            )
        ).scalar_one()
        assert edits == EDIT_ROUNDS
        db.session.remove()
