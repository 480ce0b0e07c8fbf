"""Support intake services: idempotent filing (also when two submits race), status links."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from tests.helpers import REQUEST, actor, make_board, make_user
from tests.helpers import app_config as config_for
from tracker import create_app
from tracker.domain.errors import InvalidRequest, NotFound
from tracker.extensions import db
from tracker.models import Card, StatusLink
from tracker.services import intake


def test_the_same_key_files_once_and_another_board_cannot_reuse_it(ctx):
    board, other = make_board("One"), make_board("Two")
    sam = make_user("sam", board=board, role="support")
    make_user("sam2", board=other, role="support")
    key = intake.new_intake_key()
    first = intake.file_request(board.id, actor(sam, "support"), REQUEST, key)
    again = intake.file_request(board.id, actor(sam, "support"), REQUEST | {"title": "x"}, key)
    assert first.created and not again.created and again.card.id == first.card.id
    assert again.card.title == "Export is empty"
    with pytest.raises(InvalidRequest, match="another board"):
        intake.file_request(other.id, actor(sam, "support"), REQUEST, key)
    with pytest.raises(InvalidRequest, match="incomplete"):
        intake.file_request(board.id, actor(sam, "support"), REQUEST, "short")
    count = db.session.execute(select(func.count()).select_from(Card)).scalar_one()
    assert count == 1


def test_status_tokens_are_long_random_and_stored_hashed(ctx):
    board = make_board()
    sam = make_user("sam", board=board, role="support")
    card = intake.file_request(board.id, actor(sam, "support"), REQUEST, "k" * 32).card
    made = intake.create_status_link(board.id, actor(sam, "support"), card.id)
    assert len(made.token) >= 43
    stored = db.session.execute(select(StatusLink.token_hash)).scalar_one()
    assert made.token not in stored
    assert intake.public_status(made.token).ref == card.ref
    with pytest.raises(NotFound):
        intake.public_status(made.token[:-1] + ("A" if made.token[-1] != "A" else "B"))
    assert intake.revoke_status_link(board.id, actor(sam, "support"), card.id) == 1
    with pytest.raises(NotFound):
        intake.public_status(made.token)


def test_two_submits_of_one_form_at_once_file_one_card(tmp_path):
    """A double click sends two requests that run side by side: one card, both answers it."""
    app = create_app(config_for("sqlite:///" + str(tmp_path / "race.sqlite3")))
    with app.app_context():
        db.create_all()
        board = make_board()
        sam = make_user("sam", board=board, role="support")
        board_id, who = board.id, actor(sam, "support")
        db.session.remove()
    key = intake.new_intake_key()
    start = threading.Barrier(6)
    answers: list[int] = []
    errors: list[BaseException] = []

    def submit():
        with app.app_context():
            try:
                start.wait()
                answers.append(intake.file_request(board_id, who, REQUEST, key).card.id)
            except BaseException as error:  # noqa: BLE001 - reported below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=submit) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    assert len(answers) == 6 and len(set(answers)) == 1
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Card)).scalar_one() == 1
        db.session.remove()
        db.engine.dispose()
