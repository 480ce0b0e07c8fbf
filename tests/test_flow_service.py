"""Flow metrics read from the database (services.flow), on SQLite and PostgreSQL: a small
board with a known history, and the figures read for a range against a replay of every
card's whole history."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select

from tests.helpers import actor, column, lane, make_board, make_user
from tracker import clock
from tracker.domain import flow as rules
from tracker.extensions import db
from tracker.models import Card, CardEvent
from tracker.services import board_view, cards, flow

NOW = datetime(2026, 3, 27, 12, 0, tzinfo=UTC)  # a Friday


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


@pytest.fixture
def history(ctx):
    """A UTC board: support cards in billing (three) and login (one), five features of ten
    days (f0 blocked twice), one card closed, one done before the range and one still in
    progress."""
    board = make_board("Team")
    mia = actor(make_user("mia", board=board, role="member"))
    done = column(board, "Done").id
    doing = column(board, "In progress").id
    made = {}

    def new(kind, day, title, component=""):
        with clock.fixed(at(day, 8)):
            card = cards.create_card(
                board.id, mia, lane(board, kind).id, {"title": title, "component": component}
            )
        made[title] = card.id
        return card

    def move(title, day, hour, column_id):
        card = db.session.get(Card, made[title])
        with clock.fixed(at(day, hour)):
            cards.move_card(
                board.id, mia, card.id, lane_id=card.lane_id, column_id=column_id, take=True
            )

    new("support", 2, "old", "billing")
    move("old", 2, 9, doing)
    move("old", 3, 9, done)  # done before the range (which starts Monday 9 March)
    for n, (day, component) in enumerate(((10, "billing"), (11, "billing"), (12, "login"))):
        new("support", day, f"s{n}", component)
        move(f"s{n}", day, 9, doing)
        move(f"s{n}", day + n + 1, 9, done)
    new("support", 16, "s3", "billing")
    new("feature", 9, "f0")
    move("f0", 10, 9, doing)
    for day, hours in ((11, 4), (13, 2)):
        with clock.fixed(at(day, 9)):
            cards.set_blocked(board.id, mia, made["f0"], True, "Waiting for the vendor")
        with clock.fixed(at(day, 9 + hours)):
            cards.set_blocked(board.id, mia, made["f0"], False)
    move("f0", 20, 9, done)
    for n in range(1, 5):  # four more features that took ten days, without a block
        new("feature", 9, f"f{n}")
        move(f"f{n}", 10, 9, doing)
        move(f"f{n}", 20, 9, done)
    new("feature", 17, "closed")
    with clock.fixed(at(18, 9)):
        cards.close_card(board.id, mia, made["closed"], "wont_do", "Not needed")
    new("feature", 23, "wip")
    move("wip", 23, 9, doing)
    return board, made


@pytest.fixture
def now():
    with time_machine.travel(NOW, tick=False):
        yield


def test_cycle_lead_and_throughput_of_the_cards_done_in_the_range(history, now):
    board, made = history
    figures = flow.cycle_times(board, flow.week_range(3, date(2026, 3, 27)))
    by_ref = {d.card.title: (d.cycle, d.lead) for d in figures.done}
    assert "old" not in by_ref  # done before the range
    assert by_ref["s0"] == (1, pytest.approx(1 + 1 / 24))
    assert by_ref["s2"] == (3, pytest.approx(3 + 1 / 24))
    assert by_ref["f0"] == (10, pytest.approx(11 + 1 / 24))
    assert figures.cycle_percentiles["support"][0.5] == 2
    # s2 was done on Sunday the 15th: the week of the 9th.
    assert [dict(c) for _, c in figures.throughput] == [{"support": 3}, {"feature": 5}, {}]


def test_cumulative_flow_counts_cards_done_before_the_range_and_drops_closed_ones(history, now):
    board, made = history
    figures = flow.cumulative_flow(board, flow.week_range(3, date(2026, 3, 27)))
    names = {c.id: c.name for c in figures.columns}
    day = {
        d: {names[c]: n for c, n in counts.items()}
        for d, counts in zip(figures.days, figures.counts, strict=True)
    }
    assert day[date(2026, 3, 9)] == {"Ready": 5, "In progress": 0, "Review": 0, "Done": 1}
    assert day[date(2026, 3, 17)]["Ready"] == 2  # s3 and the card closed on the 18th
    assert day[date(2026, 3, 18)]["Ready"] == 1
    assert day[date(2026, 3, 27)] == {"Ready": 1, "In progress": 1, "Review": 0, "Done": 9}
    assert figures.days[-1] == date(2026, 3, 27)  # never past today
    only_features = flow.cumulative_flow(board, flow.week_range(3, date(2026, 3, 27)), "feature")
    assert sum(only_features.counts[-1].values()) == 6


def test_the_range_read_matches_a_replay_of_every_card(history, now):
    """The service reads some cards and some events; replaying every event of every card
    must give the same cumulative flow and the same blocked time."""
    board, _ = history
    rng = flow.week_range(2, date(2026, 3, 20))
    tz = ZoneInfo(board.timezone)
    columns = [c.id for c in flow._columns(board.id)]
    active = {c.id for c in flow._columns(board.id) if c.kind == "active"}
    events: dict[int, list] = {}
    for e in db.session.execute(select(CardEvent).order_by(CardEvent.id)).scalars():
        events.setdefault(e.card_id, []).append(rules.Change(e.card_id, e.at, e.changes, e.reason))
    kinds = flow._lane_kinds(board.id)
    tracks = [
        rules.replay(c.id, kinds[c.lane_id], c.created_at, events[c.id], active)
        for c in db.session.execute(select(Card)).scalars()
    ]
    service = flow.cumulative_flow(board, rng)
    assert service.counts == rules.cumulative_flow(tracks, columns, service.days, tz)
    blocked = flow.blocked_time(board, rng)
    assert [round(h, 6) for _, h in blocked.weeks] == [6.0, 0.0]
    assert blocked.reasons == [("Waiting for the vendor", 2)]
    assert [(b.card.title, b.hours) for b in blocked.cards] == [("f0", 6.0)]


def test_aging_flags_work_older_than_its_kinds_85th_percentile(history, ctx):
    board, made = history
    with time_machine.travel(at(30, 9), tick=False):
        ages = flow.aging(board)
        assert [(a.card.title, a.days, a.old) for a in ages.cards] == [("wip", 7, False)]
        view = board_view.load_board_view(board, done_per_lane=5)
        assert [t.aged for cell in view.cells.values() for t in cell if t.id == made["wip"]] == [""]
        assert view.aging_next == at(23, 9) + timedelta(days=10)
    with time_machine.travel(at(23, 9) + timedelta(days=11), tick=False):
        view = board_view.load_board_view(board, done_per_lane=5)
        assert view.aging_next is None
        marks = {t.id: t.aged for cell in view.cells.values() for t in cell if t.aged}
        assert marks == {
            made["wip"]: "In progress since 23 Mar: longer than 85% of recent feature cards "
            "took (10 days)"
        }


def test_where_support_comes_from_names_the_components_behind_most_of_it(history, now):
    board, _ = history
    figures = flow.where_support_comes_from(board, flow.week_range(3, date(2026, 3, 27)))
    assert [(r.name, r.value) for r in figures.cards] == [("billing", 3), ("login", 1)]
    assert figures.cards_behind == ["billing", "login"]  # billing alone is 75%, under 80%
    days = Counter({r.name: r.value for r in figures.days})
    assert set(days) == {"billing", "login"}
    assert figures.days_behind == ["billing", "login"]


def test_the_forecast_draws_from_the_last_twelve_weeks(history, now):
    board, _ = history
    figures = flow.arrivals_forecast(board)
    assert figures.period_name is not None and figures.weeks_ahead == 1  # no sprints: next week
    assert [n for _, n in figures.weekly][-3:] == [1, 3, 1]
    assert figures.figures == rules.forecast([n for _, n in figures.weekly], 1)
