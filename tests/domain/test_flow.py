"""Flow metrics (domain.flow): replayed histories, the cumulative flow's bands, cycle times
against a naive recomputation, percentiles against the standard library, the Pareto and
the forecast."""

from __future__ import annotations

import statistics
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.domain.flow import (
    Change,
    aging,
    block_reasons,
    cumulative_flow,
    cycle_points,
    forecast,
    pareto,
    quantile,
    replay,
    thin,
    throughput,
    weekly_arrivals,
)

BERLIN = ZoneInfo("Europe/Berlin")
READY, DOING, REVIEW, DONE = 10, 11, 12, 13
COLUMNS = [READY, DOING, REVIEW, DONE]
ACTIVE = frozenset({DOING, REVIEW})
START = datetime(2026, 3, 2, 9, tzinfo=BERLIN)  # a Monday


def moved(at, old, new, **more):
    return Change(1, at, {"column_id": [old, new], **more})


def test_a_card_done_reopened_and_done_again_is_measured_to_its_last_done():
    events = [
        moved(START + timedelta(days=1), READY, DOING),
        moved(START + timedelta(days=3), DOING, DONE, status=["open", "done"]),
        moved(START + timedelta(days=4), DONE, READY, status=["done", "open"]),
        moved(START + timedelta(days=5), READY, DOING),
        moved(START + timedelta(days=8), DOING, DONE, status=["open", "done"]),
    ]
    track = replay(
        1, "support", START, [Change(1, START, {"column_id": [None, READY]}), *events], ACTIVE
    )
    assert track.started_at == START + timedelta(days=1)  # the first entry into work
    assert track.cycle_time == timedelta(days=7)
    assert track.lead_time == timedelta(days=8)
    assert [p.days for p in cycle_points([track])] == [7.0]


def test_a_closed_card_leaves_the_flow_and_has_no_cycle_time():
    events = [
        Change(1, START, {"column_id": [None, READY]}),
        moved(START + timedelta(days=1), READY, DOING),
        Change(1, START + timedelta(days=2), {"status": ["open", "closed"]}),
    ]
    track = replay(1, "feature", START, events, ACTIVE)
    assert track.cycle_time is None
    days = [date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4)]
    flow = cumulative_flow([track], COLUMNS, days, BERLIN)
    assert [sum(day.values()) for day in flow] == [1, 1, 0]
    assert flow[1][DOING] == 1


# Random histories: a card moves between columns, is done, reopened, closed, blocked.
steps = st.lists(
    st.tuples(
        st.floats(0.01, 3.0),  # days after the previous step
        st.sampled_from(["move", "done", "reopen", "close", "block", "unblock"]),
        st.sampled_from([READY, DOING, REVIEW]),
    ),
    max_size=12,
)
histories = st.lists(st.tuples(st.floats(0, 20), steps), min_size=1, max_size=12)


def build(history):
    """Tracks from random histories, and for each card the naive answers: (created, first
    active, last done while done, closed)."""
    tracks, naive = [], []
    for card_id, (offset, card_steps) in enumerate(history, start=1):
        created = START + timedelta(days=offset)
        at, column, status, blocked = created, READY, "open", False
        events = [Change(card_id, at, {"column_id": [None, READY]})]
        first_active, done_at, closed_at = None, None, None
        for gap, kind, target in card_steps:
            at += timedelta(days=gap)
            if status == "closed":
                break
            if kind == "move" and status == "open" and target != column:
                events.append(Change(card_id, at, {"column_id": [column, target]}))
                column = target
                if column in ACTIVE and first_active is None:
                    first_active = at
            elif kind == "done" and status == "open":
                events.append(
                    Change(card_id, at, {"column_id": [column, DONE], "status": ["open", "done"]})
                )
                column, status, done_at = DONE, "done", at
            elif kind == "reopen" and status == "done":
                events.append(
                    Change(card_id, at, {"column_id": [DONE, READY], "status": ["done", "open"]})
                )
                column, status, done_at = READY, "open", None
            elif kind == "close" and status == "open":
                events.append(Change(card_id, at, {"status": ["open", "closed"]}))
                status, closed_at = "closed", at
            elif kind == "block" and not blocked:
                events.append(Change(card_id, at, {"blocked": [False, True]}, "waiting"))
                blocked = True
            elif kind == "unblock" and blocked:
                events.append(Change(card_id, at, {"blocked": [True, False]}))
                blocked = False
        tracks.append(replay(card_id, "support", created, events, ACTIVE))
        naive.append((created, first_active, done_at, closed_at))
    return tracks, naive


@given(histories)
def test_cumulative_flow_bands_sum_to_the_cards_existing_that_day(history):
    tracks, naive = build(history)
    days = [START.date() + timedelta(days=i) for i in range(60)]
    for day, counts in zip(days, cumulative_flow(tracks, COLUMNS, days, BERLIN), strict=True):
        end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=BERLIN)
        existing = sum(
            1
            for created, _, _, closed in naive
            if created < end and (closed is None or closed >= end)
        )
        assert sum(counts.values()) == existing


@given(histories)
def test_cumulative_flow_places_each_card_where_its_history_says(history):
    """The sweep gives, day by day, the column a plain replay to that day's end finds."""
    tracks, _ = build(history)
    days = [START.date() + timedelta(days=i) for i in range(-1, 60)]
    flow = cumulative_flow(tracks, COLUMNS, days, BERLIN)
    for day, counts in zip(days, flow, strict=True):
        moment = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=BERLIN)
        moment -= timedelta(microseconds=1)
        expected = dict.fromkeys(COLUMNS, 0)
        for track in tracks:
            column = track.column_at(moment)
            if column is not None:
                expected[column] += 1
        assert counts == expected


@given(histories)
def test_cycle_and_lead_times_match_a_naive_recomputation(history):
    tracks, naive = build(history)
    expected_cycle = sorted(
        (done - first).total_seconds() / 86400
        for _, first, done, _ in naive
        if first is not None and done is not None
    )
    expected_lead = sorted(
        (done - created).total_seconds() / 86400
        for created, _, done, _ in naive
        if done is not None
    )
    assert sorted(p.days for p in cycle_points(tracks)) == pytest.approx(expected_cycle)
    assert sorted(p.days for p in cycle_points(tracks, lead=True)) == pytest.approx(expected_lead)


@given(st.lists(st.floats(0, 1000, allow_nan=False), min_size=2, max_size=50))
def test_percentiles_match_the_standard_library_inclusive_method(values):
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    for q in (50, 85, 95):
        assert quantile(values, q / 100) == pytest.approx(cuts[q - 1], abs=1e-6)


def test_throughput_counts_by_the_week_of_the_last_done():
    tracks, _ = build([(0, [(1, "move", DOING), (1, "done", READY)]), (0, [(9, "done", READY)])])
    weeks = [date(2026, 3, 2), date(2026, 3, 9)]
    assert [dict(c) for c in throughput(tracks, weeks, BERLIN)] == [{"support": 1}, {"support": 1}]


def test_aging_flags_cards_older_than_their_kinds_85th_percentile():
    tracks, _ = build([(0, [(1, "move", DOING)]), (5, [(0.5, "move", REVIEW)])])
    now = START + timedelta(days=7)
    ages = aging(tracks, ACTIVE, now, {"support": [1, 2, 3, 4, 5]})
    assert [(a.card_id, round(a.days, 2), a.old) for a in ages] == [(1, 6.0, True), (2, 1.5, False)]
    # Against fewer than AGING_MIN_HISTORY finished cards, nothing is flagged.
    few = aging(tracks, ACTIVE, now, {"support": [1, 2, 3, 4]})
    assert [(a.p85, a.old) for a in few] == [(None, False), (None, False)]


def test_block_reasons_most_frequent_first():
    tracks, _ = build([(0, [(1, "block", READY), (1, "unblock", READY), (1, "block", READY)])])
    tracks[0].blocks.append((START + timedelta(days=4), None, "Waiting "))
    assert block_reasons(tracks, START, START + timedelta(days=30)) == [("waiting", 3)]
    now = START + timedelta(days=30)
    # Blocked from day 1 to day 2, and again from day 3 on.
    assert tracks[0].blocked_between(START, START + timedelta(days=2.5), now) == timedelta(days=1)
    assert tracks[0].blocked_between(START, START + timedelta(days=3.5), now) == timedelta(days=1.5)


def test_pareto_names_the_fewest_components_behind_eighty_percent():
    rows, behind = pareto({"billing": 50, "login": 30, "search": 15, "export": 5, "none": 0})
    assert [r.name for r in rows] == ["billing", "login", "search", "export"]
    assert [round(r.cumulative_share, 2) for r in rows] == [0.5, 0.8, 0.95, 1.0]
    assert behind == ["billing", "login"]


def test_forecast_is_reproducible_and_within_what_history_allows():
    weekly = [3, 5, 4, 8, 2, 6, 5, 4, 3, 7, 5, 4]
    first = forecast(weekly, 2, seed=7)
    assert first == forecast(weekly, 2, seed=7)
    assert 2 * min(weekly) <= first[0.5] <= first[0.85] <= first[0.95] <= 2 * max(weekly)
    assert forecast([], 2) is None
    assert forecast([4, 4, 4], 1.5, trials=100) == {0.5: 6, 0.85: 6, 0.95: 6}


def test_weekly_arrivals():
    created = [START, START + timedelta(days=1), START + timedelta(days=8)]
    assert weekly_arrivals(created, [date(2026, 3, 2), date(2026, 3, 9)], BERLIN) == [2, 1]


@given(
    st.lists(st.tuples(st.none() | st.floats(0, 100), st.floats(0, 200)), max_size=300),
    st.integers(16, 120),
)
def test_a_thinned_scatter_keeps_the_longest_times_and_at_most_its_limit(cards, limit):
    cycles = [c for c, _ in cards]
    leads = [lead for _, lead in cards]
    kept = thin(cycles, leads, limit)
    assert kept == sorted(set(kept))
    if len(cards) <= limit:
        assert kept == list(range(len(cards)))
        return
    assert len(kept) == limit
    share = limit // 8
    longest_cycle = sorted((c for c in cycles if c is not None), reverse=True)[:share]
    assert (
        sorted((cycles[i] for i in kept if cycles[i] is not None), reverse=True)[
            : len(longest_cycle)
        ]
        == longest_cycle
    )
    assert (
        sorted((leads[i] for i in kept), reverse=True)[:share]
        == sorted(leads, reverse=True)[:share]
    )


def test_a_card_closed_and_reopened_is_off_the_board_only_while_closed():
    events = [
        Change(1, START, {"column_id": [None, READY]}),
        Change(1, START + timedelta(days=1), {"status": ["open", "closed"]}),
        Change(
            1,
            START + timedelta(days=3),
            {"column_id": [READY, READY], "status": ["closed", "open"]},
        ),
    ]
    track = replay(1, "support", START, events, ACTIVE)
    days = [START.date() + timedelta(days=i) for i in range(5)]
    counts = [c[READY] for c in cumulative_flow([track], COLUMNS, days, BERLIN)]
    assert counts == [1, 0, 0, 1, 1]


def test_a_block_ends_when_its_card_is_done():
    events = [
        Change(1, START, {"column_id": [None, DOING]}),
        Change(1, START + timedelta(hours=1), {"blocked": [False, True]}, "vendor"),
        Change(
            1, START + timedelta(hours=3), {"column_id": [DOING, DONE], "status": ["open", "done"]}
        ),
    ]
    track = replay(1, "support", START, events, ACTIVE)
    later = START + timedelta(days=5)
    assert track.blocked_between(START, later, later) == timedelta(hours=2)
