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


def test_a_request_lands_where_the_domain_rule_puts_it_in_any_queue(ctx):
    """The database's answer (the last card as urgent or more) is domain.intake.slot_after's
    over the queue as it stood: in a queue reordered by hand, with cards of no severity."""
    import random

    from tests.helpers import column, lane, make_card
    from tracker.domain import intake as rules
    from tracker.services import cards

    rng = random.Random(7)
    board = make_board()
    sam = actor(make_user("sam", board=board, role="support"), "support")
    ann = actor(make_user("ann", board=board, role="member"))
    support, ready = lane(board, "support"), column(board, "Ready")

    def queue() -> list[tuple[int, str | None]]:
        rows = select(Card.id, Card.severity).where(
            Card.lane_id == support.id, Card.column_id == ready.id, Card.status == "open"
        )
        return [(r.id, r.severity) for r in db.session.execute(rows.order_by(Card.rank))]

    make_card(board, ann, "support", "no severity")
    for i in range(40):
        if i % 7 == 3:  # a card moved up or down the queue by hand
            now = queue()
            moved, after = rng.choice(now)[0], rng.choice([0, *(c for c, _ in now)])
            if moved != after:
                cards.move_card(
                    board.id, ann, moved, lane_id=support.id, column_id=ready.id, after=after
                )
        before = queue()
        severity = rng.choice(("S2", "S3", "S4"))
        key = intake.new_intake_key()
        filed = intake.file_request(board.id, sam, REQUEST | {"severity": severity}, key).card
        expected = rules.slot_after(before, severity)
        ids = [c for c, _ in queue()]
        placed_after = ids[ids.index(filed.id) - 1] if ids.index(filed.id) else 0
        assert placed_after == expected, (i, severity, before)
