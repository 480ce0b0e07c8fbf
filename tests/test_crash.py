"""A worker killed in the middle of a move leaves no half move, and the board stays usable."""

import os
import signal
import subprocess
import sys

from sqlalchemy import select

from tests.helpers import actor, column, lane, make_board, make_card, make_user
from tracker.extensions import db
from tracker.models import Card, CardEvent
from tracker.services import cards


def test_killed_mid_move_leaves_nothing_half_done(app):
    with app.app_context():
        board = make_board()
        lee = actor(make_user("lee", board=board, role="lead"), "lead")
        card = make_card(board, lee, "feature", "Half moved?")
        args = [
            str(x)
            for x in (board.id, card.id, lane(board, "feature").id, column(board, "In progress").id)
        ]
        before = (card.column_id, card.version)
        events_before = len(db.session.execute(select(CardEvent.id)).all())
        board_id, card_id, review = board.id, card.id, column(board, "Review").id
        db.session.remove()
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    command = [sys.executable, "tests/crash_worker.py", url, *args]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as worker:
        try:
            line = worker.stdout.readline()
            if line.strip() != "MIDWAY":
                worker.kill()
                raise AssertionError(worker.communicate(timeout=30)[1])
            os.kill(worker.pid, signal.SIGKILL)
        finally:
            worker.communicate(timeout=30)
    with app.app_context():
        card = db.session.get(Card, card_id)
        assert (card.column_id, card.version) == before
        assert len(db.session.execute(select(CardEvent.id)).all()) == events_before
        # The dead worker's lock is gone: the next move goes through at once.
        moved = cards.move_card(board_id, lee, card_id, lane_id=card.lane_id, column_id=review)
        assert moved.card.column_id == review
        db.session.remove()
