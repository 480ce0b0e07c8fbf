"""Stored flow weeks (services.flow_weeks) agree with a fresh computation of the history,
also after changes that rewrite the past as flow reads it: reopening, moving a card back
out of Done, to another lane or component, and erasing a requester's data."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import func, select

from tests.helpers import actor, make_board, make_user
from tracker import clock
from tracker.domain import flow as rules
from tracker.domain.errors import DomainError
from tracker.extensions import db
from tracker.models import Card, CardEvent, FlowRewrite, FlowWeekCache
from tracker.services import boards, cards, erasure, flow, flow_weeks
from tracker.services.reports import _basis as basis

START = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # a Monday
END = START + timedelta(weeks=3)
COMPONENTS = ("billing", "login", "")
REASONS = ("Waiting for the vendor", "waiting for the vendor ", "Needs a decision")


def act(rng: random.Random, board, who, moment: datetime, rewrite: float = 0.02) -> None:
    """One random card action at `moment`, refused ones skipped; `rewrite`: how often a
    done or closed card is reopened, and a done one moved back out of Done."""
    ids = {
        status: db.session.execute(
            select(Card.id).where(Card.board_id == board.id, Card.status == status)
        )
        .scalars()
        .all()
        for status in ("open", "done", "closed")
    }
    roll = rng.random()
    with clock.fixed(moment):
        try:
            if roll < 0.2 or not ids["open"]:
                cards.create_card(
                    board.id,
                    who,
                    rng.choice(board.lanes).id,
                    {"title": "x", "component": rng.choice(COMPONENTS), "requester": "Ann Q"},
                )
            elif roll < 0.35:
                cards.pull_next(board.id, who)
            elif roll < 0.65:
                cards.move_card(
                    board.id,
                    who,
                    rng.choice(ids["open"]),
                    lane_id=rng.choice(board.lanes).id,
                    column_id=rng.choice(board.columns).id,
                    reason="random",
                )
            elif roll < 0.75:
                card = db.session.get(Card, rng.choice(ids["open"]))
                cards.set_blocked(board.id, who, card.id, not card.blocked, rng.choice(REASONS))
            elif roll < 0.8:
                cards.close_card(board.id, who, rng.choice(ids["open"]), "wont_do", "random")
            elif roll < 0.8 + rewrite and (ids["done"] or ids["closed"]):
                cards.reopen_card(board.id, who, rng.choice(ids["done"] + ids["closed"]), "again")
            elif roll < 0.8 + 2 * rewrite and ids["done"]:
                # moved back out of Done, or to another done column (where there are two)
                card = db.session.get(Card, rng.choice(ids["done"]))
                done = [c.id for c in board.columns if c.kind == "done" and c.id != card.column_id]
                cards.move_card(
                    board.id,
                    who,
                    card.id,
                    lane_id=card.lane_id,
                    column_id=rng.choice([board.columns[1].id, *done]),
                    reason="not done after all",
                )
            else:
                card = db.session.get(Card, rng.choice(ids["open"]))
                cards.edit_card(
                    board.id,
                    who,
                    card.id,
                    card.version,
                    {"title": card.title, "component": rng.choice(COMPONENTS)},
                )
        except DomainError:
            db.session.rollback()


def same(got: flow_weeks.Week, want: flow_weeks.Week) -> None:
    assert got.monday == want.monday
    assert got.cfd == want.cfd, got.monday
    assert got.settled == want.settled
    assert [list(d) for d in got.done] == [list(d) for d in want.done]
    assert got.blocked_hours == pytest.approx(want.blocked_hours, abs=1e-9)
    assert got.blocked_cards == pytest.approx(want.blocked_cards, abs=1e-9)
    assert got.reasons == want.reasons
    assert got.arrived == want.arrived
    assert got.days == pytest.approx(want.days, abs=1e-9)


def mondays(first: date, count: int) -> list[date]:
    return [first + timedelta(weeks=i) for i in range(count)]


def replayed_flow(board, days: list[date]) -> list[dict[int, int]]:
    """The cumulative flow of every card's whole history, with no shortcut."""
    active = {c.id for c in board.columns if c.kind == "active"}
    kinds = {lane.id: lane.kind for lane in board.lanes}
    events: dict[int, list] = {}
    for e in db.session.execute(select(CardEvent).order_by(CardEvent.id)).scalars():
        events.setdefault(e.card_id, []).append(rules.Change(e.card_id, e.at, e.changes, e.reason))
    tracks = [
        rules.replay(c.id, kinds[c.lane_id], c.created_at, events[c.id], active)
        for c in db.session.execute(select(Card).where(Card.board_id == board.id)).scalars()
    ]
    columns = [c.id for c in board.columns]
    return rules.cumulative_flow(tracks, columns, days, ZoneInfo(board.timezone))


@pytest.mark.slow("postgres")
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_stored_weeks_agree_with_the_history_computed_afresh(ctx, seed):
    rng = random.Random(seed)
    board = make_board("Team", expedite=None, support=None, feature=None)
    board.timezone = "Europe/Berlin"
    db.session.commit()
    ann = make_user("ann", board=board, role="lead")
    admin = make_user("ada", admin=True)
    lead = actor(ann, "lead")
    # Two done columns: the random moves take done cards from one to the other too.
    specs = [(c.id, c.kind, c.name) for c in board.columns] + [(None, "done", "Released")]
    boards.update_columns(board.id, lead, specs)
    db.session.expire_all()
    moment = START
    while moment < END:
        moment += timedelta(minutes=rng.randint(5, 300))
        act(rng, board, lead, moment)
    weeks = mondays(date(2026, 3, 2), 4)

    # While the last week runs it is computed live; the three finished ones are stored.
    with time_machine.travel(END + timedelta(days=2), tick=False):
        shown = flow_weeks.weeks(board, weeks)
        assert db.session.execute(select(func.count()).select_from(FlowWeekCache)).scalar_one() == 3
        fresh = flow_weeks.compute(board, weeks)
        for got, want in zip(shown, fresh, strict=True):
            same(got, want)
        again = flow_weeks.weeks(board, weeks)  # now read back from the stored rows
        for got, want in zip(again, fresh, strict=True):
            same(got, want)
        assert sum(len(w.done) for w in fresh) > 5
        cfd = flow.cumulative_flow(board, flow.week_range(4, END.date()))
        assert cfd.counts == replayed_flow(board, cfd.days)

    # A week later: changes that rewrite the past, then the stored weeks again.
    later = END + timedelta(weeks=1)
    for minutes in range(30, 600, 7):
        act(rng, board, lead, later + timedelta(minutes=minutes), rewrite=0.08)
    rewrites = db.session.execute(select(func.count()).select_from(FlowRewrite)).scalar_one()
    assert rewrites > 0
    requested = db.session.execute(select(Card.id).where(Card.requester != "")).scalars().all()
    with clock.fixed(later + timedelta(hours=11)):
        erasure.erase(actor(admin, "admin"), requested[:3])
    weeks = mondays(date(2026, 3, 2), 5)  # up to the running week
    with time_machine.travel(later + timedelta(days=1), tick=False):
        shown = flow_weeks.weeks(board, weeks)
        fresh = flow_weeks.compute(board, weeks)
        for got, want in zip(shown, fresh, strict=True):
            same(got, want)
        cfd = flow.cumulative_flow(board, flow.week_range(5, later.date()))
        assert cfd.counts == replayed_flow(board, cfd.days)


def test_a_reopen_spoils_the_stored_week_of_the_last_done(ctx):
    board = make_board("Team")
    ann = actor(make_user("ann", board=board, role="lead"), "lead")
    done = next(c for c in board.columns if c.kind == "done")
    with clock.fixed(START + timedelta(hours=1)):
        card = cards.create_card(board.id, ann, board.lanes[1].id, {"title": "x"})
    with clock.fixed(START + timedelta(hours=2)):
        cards.move_card(board.id, ann, card.id, lane_id=card.lane_id, column_id=done.id)
    monday = START.date()
    with time_machine.travel(START + timedelta(weeks=2), tick=False):
        assert [d[0] for d in flow_weeks.weeks(board, [monday])[0].done] == [card.id]
    with clock.fixed(START + timedelta(weeks=2, hours=1)):
        cards.reopen_card(board.id, ann, card.id, "not fixed")
    assert db.session.execute(select(func.count()).select_from(FlowWeekCache)).scalar_one() == 0
    with time_machine.travel(START + timedelta(weeks=2, hours=2), tick=False):
        assert flow_weeks.weeks(board, [monday])[0].done == []


def test_a_rewrite_during_a_read_keeps_what_that_read_stored_from_being_used(ctx):
    """A request that read the history just before a rewrite committed stores figures the
    rewrite spoiled: the rewrite's row keeps them from being used."""
    board = make_board("Team")
    monday = START.date()
    with time_machine.travel(START + timedelta(weeks=2), tick=False):
        flow_weeks.weeks(board, [monday])
        assert len(flow_weeks._stored(board, flow_weeks.WEEK, [monday], basis(board), [])) == 1
        # A rewrite whose time was taken 30 s before the read began, committed after it.
        with clock.fixed(clock.now() - timedelta(seconds=30)):
            flow_weeks.forget(db.session(), board.id, START, clock.now())
        db.session.execute(select(FlowRewrite)).all()
        db.session.commit()
        assert db.session.execute(select(func.count()).select_from(FlowWeekCache)).scalar_one() == 0
        db.session.add(  # what the read stored after the rewrite removed the rows
            FlowWeekCache(
                board_id=board.id,
                part=flow_weeks.WEEK,
                week_on=monday,
                ends_at=START + timedelta(weeks=1),
                basis=basis(board),
                computed_at=clock.now(),
            )
        )
        db.session.commit()
        assert flow_weeks._stored(board, flow_weeks.WEEK, [monday], basis(board), []) == {}


def test_an_event_dated_in_the_settled_past_spoils_the_weeks_after_it(ctx):
    from tracker import store
    from tracker.domain.vocabulary import EventKind

    board = make_board("Team")
    ann = actor(make_user("ann", board=board, role="lead"), "lead")
    with clock.fixed(START + timedelta(hours=1)):
        card = cards.create_card(board.id, ann, board.lanes[1].id, {"title": "x"})
    with time_machine.travel(START + timedelta(weeks=3), tick=False):
        flow_weeks.weeks(board, mondays(START.date(), 3))  # three weeks ended: all stored
        assert db.session.execute(select(func.count()).select_from(FlowWeekCache)).scalar_one() == 3
        card = db.session.get(Card, card.id)
        at = START + timedelta(weeks=1, days=2)  # in the second week, written now
        store.append_event(card, EventKind.COMMENTED, ann.id, store.snapshot(card), at=at)
        db.session.commit()
        spoiled = db.session.execute(select(FlowRewrite)).scalars().one()
        assert (spoiled.board_id, spoiled.since) == (None, at)
        kept = db.session.execute(select(FlowWeekCache.week_on)).scalars().all()
        assert kept == [START.date()]  # the first week ended before the event


def test_a_done_card_moved_to_another_done_column_spoils_the_stored_weeks(ctx):
    """A board may end in two done columns (Done, Released): a done card moved between them
    moves in the cumulative flow of the weeks after it, as a fresh computation shows."""
    board = make_board("Team")
    ann = actor(make_user("ann", board=board, role="lead"), "lead")
    specs = [(c.id, c.kind, c.name) for c in board.columns] + [(None, "done", "Released")]
    boards.update_columns(board.id, ann, specs)
    db.session.expire_all()
    done, released = (c for c in board.columns if c.kind == "done")
    with clock.fixed(START + timedelta(hours=1)):
        card = cards.create_card(board.id, ann, board.lanes[1].id, {"title": "x"})
    with clock.fixed(START + timedelta(hours=2)):
        cards.move_card(board.id, ann, card.id, lane_id=card.lane_id, column_id=done.id)
    with time_machine.travel(START + timedelta(weeks=2), tick=False):
        flow_weeks.weeks(board, mondays(START.date(), 2))  # both weeks ended: stored
    with clock.fixed(START + timedelta(weeks=2, hours=1)):
        cards.move_card(board.id, ann, card.id, lane_id=card.lane_id, column_id=released.id)
    weeks = mondays(START.date(), 4)
    with time_machine.travel(START + timedelta(weeks=3, days=1), tick=False):
        shown = flow_weeks.weeks(board, weeks)
        fresh = flow_weeks.compute(board, weeks)
        for got, want in zip(shown, fresh, strict=True):
            same(got, want)
        again = flow_weeks.weeks(board, weeks)
        for got, want in zip(again, fresh, strict=True):
            same(got, want)
