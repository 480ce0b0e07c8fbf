"""The database goes away in the middle of a run of moves and comes back: pages answer 503
meanwhile, the app recovers by itself, and every card and event is whole.

Runs against a throwaway PostgreSQL cluster of its own (its own data folder and port), made
with Debian's pg_createcluster as root; skipped with a reason where that is not possible.
"""

import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.helpers import PASSWORD, actor, column, free_port, make_board, make_card, make_user
from tests.helpers import app_config as config_for
from tracker import create_app
from tracker.domain import history
from tracker.extensions import db
from tracker.models import Card, CardEvent
from tracker.store import snapshot

HX = {"HX-Request": "true"}
pytestmark = pytest.mark.postgres  # deselected without TRACKER_TEST_POSTGRES_URL


def _run(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def cluster():
    """A PostgreSQL cluster of this test's own; yields (url, stop, start)."""
    if shutil.which("pg_createcluster") is None or os.geteuid() != 0:
        pytest.skip("a throwaway cluster needs Debian's pg_createcluster, run as root")
    version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[-1]
    name, port = f"wbrestart{uuid.uuid4().hex[:8]}", free_port()
    _run("pg_createcluster", version, name, "-p", str(port), "--", "--auth=trust")
    try:
        _run("pg_ctlcluster", "--skip-systemctl-redirect", version, name, "start")
        _run(
            "psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-c", "CREATE DATABASE wb"
        )
        url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/wb"

        def stop():
            _run("pg_ctlcluster", "--skip-systemctl-redirect", version, name, "stop", "-m", "fast")

        def start():
            _run("pg_ctlcluster", "--skip-systemctl-redirect", version, name, "start")

        yield url, stop, start
    finally:
        subprocess.run(["pg_dropcluster", "--stop", version, name], capture_output=True, timeout=60)


@pytest.mark.slow
def test_moves_survive_a_database_restart(cluster):
    url, stop, start = cluster
    app = create_app(config_for(url))
    with app.app_context():
        db.create_all()
        board = make_board(feature=None)
        ann = make_user("ann", board=board, role="member")
        ids = [
            make_card(board, actor(ann), "feature", f"card {i}", at="In progress").id
            for i in range(4)
        ]
        columns = [column(board, "In progress").id, column(board, "Review").id]
        lane_id, board_id = board.lanes[2].id, board.id
        db.session.remove()
    client = app.test_client()
    client.post("/login", data={"username": "ann", "password": PASSWORD})

    def move(i):
        return client.post(
            f"/b/{board_id}/cards/{ids[i % 4]}/move",
            headers=HX,
            data={"lane_id": lane_id, "column_id": columns[(i // 4) % 2]},
        )

    answers = [move(i).status_code for i in range(12)]
    assert set(answers) == {200}
    stop()
    down = [move(i) for i in range(12, 16)]
    assert {r.status_code for r in down} == {503}
    assert "cannot reach its database" in down[0].text
    start()
    deadline, recovered = time.monotonic() + 10, None
    while time.monotonic() < deadline:
        response = move(16)
        if response.status_code == 200:
            recovered = time.monotonic()
            break
        time.sleep(0.2)
    assert recovered is not None, "the app did not recover within 10 s of the restart"
    answers += [move(i).status_code for i in range(17, 25)]
    assert set(answers) == {200}
    with app.app_context():
        for card in db.session.execute(select(Card)).scalars():
            changes = db.session.execute(
                select(CardEvent.changes).where(CardEvent.card_id == card.id).order_by(CardEvent.id)
            ).scalars()
            replayed = history.replay(changes)
            assert {k: replayed.get(k) for k in snapshot(card)} == snapshot(card)
        db.session.remove()
        db.engine.dispose()
