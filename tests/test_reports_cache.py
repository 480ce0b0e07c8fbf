"""Stored figures of finished periods agree with a from-scratch computation of the history."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import func, select

from tests.helpers import actor, make_board, make_user
from tracker import clock
from tracker.domain import allowance, working_time
from tracker.domain.errors import DomainError
from tracker.extensions import db
from tracker.models import BoardColumn, Card, CardEvent, Lane, ReportPeriodCache
from tracker.services import cards, reports

START = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # a Monday
END = START + timedelta(weeks=3)


def random_history(rng: random.Random, boards, people) -> None:
    """A few hundred random card actions by three people on two boards, day and night."""
    moment = START
    while moment < END:
        moment += timedelta(minutes=rng.randint(5, 400))
        board = rng.choice(boards)
        who = rng.choice(people[board.id])
        lanes = board.lanes
        columns = board.columns
        open_ids = (
            db.session.execute(
                select(Card.id).where(Card.board_id == board.id, Card.status == "open")
            )
            .scalars()
            .all()
        )
        roll = rng.random()
        with clock.fixed(moment):
            try:
                if roll < 0.25 or not open_ids:
                    lane = rng.choice(lanes)
                    estimate = rng.choice((None, 1, 3, 5))
                    cards.create_card(board.id, who, lane.id, {"title": "x", "estimate": estimate})
                elif roll < 0.45:
                    cards.pull_next(board.id, who)
                elif roll < 0.8:
                    card = db.session.get(Card, rng.choice(open_ids))
                    cards.move_card(
                        board.id,
                        who,
                        card.id,
                        lane_id=rng.choice(lanes).id,
                        column_id=rng.choice(columns).id,
                        reason="random history",
                    )
                elif roll < 0.95:
                    assignee = rng.choice([None] + [p.id for p in people[board.id]])
                    cards.assign_card(board.id, who, rng.choice(open_ids), assignee, reason="r")
                else:
                    cards.close_card(board.id, who, rng.choice(open_ids), "wont_do", "random")
            except DomainError:
                db.session.rollback()


def from_scratch(board, periods) -> list[allowance.Load]:
    """Every event of every card, replayed with no shortcut."""
    tz = ZoneInfo(board.timezone)
    rows = db.session.execute(
        select(CardEvent.card_id, CardEvent.at, CardEvent.changes).order_by(
            CardEvent.card_id, CardEvent.id
        )
    )
    active = set(
        db.session.execute(select(BoardColumn.id).where(BoardColumn.kind == "active")).scalars()
    )
    lanes = dict(db.session.execute(select(Lane.id, Lane.kind)).all())
    stints = working_time.stints_from_events(
        (working_time.Change(r.card_id, r.at, r.changes) for r in rows), active, lanes, clock.now()
    )
    done = [
        allowance.Done(c.id, lanes[c.lane_id], c.done_at, c.estimate)
        for c in db.session.execute(
            select(Card).where(Card.board_id == board.id, Card.status == "done")
        ).scalars()
    ]
    overrides = db.session.execute(
        select(CardEvent.at).where(CardEvent.board_id == board.id, CardEvent.kind == "wip_override")
    ).scalars()
    mine = set(db.session.execute(select(Card.id).where(Card.board_id == board.id)).scalars())
    return allowance.loads(periods, tz, stints, done, overrides, cards=mine)


def same(a: allowance.Load, b: allowance.Load) -> None:
    assert a.period == b.period
    for name in ("days", "cards", "points", "unestimated"):
        assert getattr(a, name) == pytest.approx(getattr(b, name), abs=1e-9), name
    assert a.overrides == b.overrides


@pytest.mark.slow("postgres")
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_stored_figures_agree_with_the_history_replayed_from_scratch(ctx, seed):
    rng = random.Random(seed)
    first = make_board("First", expedite=None, support=None, feature=None)
    second = make_board("Second", expedite=None, support=None, feature=None)
    first.timezone = "Europe/Berlin"
    db.session.commit()
    ann, bob, cat = (make_user(n, board=first, role="lead") for n in ("ann", "bob", "cat"))
    boards_ = [first, second]
    from tracker.services import boards as board_service

    board_service.set_membership(second, ann, "lead")
    people = {
        first.id: [actor(u, "lead") for u in (ann, bob, cat)],
        second.id: [actor(ann, "lead")],
    }
    random_history(rng, boards_, people)
    assert db.session.execute(select(func.count()).select_from(CardEvent)).scalar_one() > 100

    # While the last week runs, it is computed live; the finished ones are stored.
    with time_machine.travel(END - timedelta(days=2), tick=False):
        running = reports.build_report(first, count=4)
        stored = db.session.execute(
            select(func.count()).select_from(ReportPeriodCache)
        ).scalar_one()
        assert stored == 3
        expected = from_scratch(first, [load.period for load in running.loads])
        for got, want in zip(running.loads, expected, strict=True):
            same(got, want)

    with time_machine.travel(END + timedelta(weeks=1), tick=False):
        computed = reports.build_report(first, count=5, until=date(2026, 3, 22))
        cached = reports.build_report(first, count=5, until=date(2026, 3, 22))
        expected = from_scratch(first, [load.period for load in computed.loads])
        assert sum(load.total("person_days") for load in expected) > 1
        for a, b, want in zip(computed.loads, cached.loads, expected, strict=True):
            same(a, want)
            same(b, want)
        assert (
            db.session.execute(select(func.count()).select_from(ReportPeriodCache)).scalar_one()
            == 6  # the three of before, 16 Feb and 16 Mar, and 23 Mar for the allowance
        )


def test_changing_the_time_zone_does_not_reuse_stored_figures(ctx):
    board = make_board("Team")
    make_user("ann", board=board, role="lead")
    with time_machine.travel(datetime(2026, 4, 1, 12, tzinfo=UTC), tick=False):
        reports.build_report(board, count=3)
        board.timezone = "America/New_York"
        db.session.commit()
        reports.build_report(board, count=3)
    bases = db.session.execute(select(ReportPeriodCache.basis).distinct()).scalars().all()
    assert len(bases) == 2
