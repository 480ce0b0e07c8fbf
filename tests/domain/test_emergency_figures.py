"""The emergency figures' rule: when an expedite card opened, was pulled and was done, and
which period it counts in. Plain values, no database."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from tracker.domain.emergency_figures import Emergency, Step, emergency, expedite_summary
from tracker.domain.periods import weeks

BERLIN = ZoneInfo("Europe/Berlin")
READY, DOING, REVIEW, DONE = 10, 11, 12, 13
ACTIVE = {DOING, REVIEW}
T0 = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)  # a Tuesday


def t(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def filed(column: int = READY, at: float = 0) -> Step:
    return Step("created", t(at), column)


def moved(column: int, at: float) -> Step:
    return Step("moved", t(at), column)


def escalated(at: float) -> Step:
    return Step("escalated", t(at), None)


def figures(history, *, status="open", done_at=None, created=0) -> Emergency:
    return emergency(7, t(created), status, done_at, history, ACTIVE)


# -- opened -------------------------------------------------------------------------------


def test_a_card_filed_in_expedite_opens_when_it_is_created():
    result = figures([filed(), moved(DOING, 30)])
    assert result == Emergency(7, t(0), t(30), None)


def test_an_escalated_card_opens_at_its_first_escalation_not_its_creation_nor_a_later_one():
    history = [filed(), escalated(60), moved(DOING, 90), escalated(200)]
    assert figures(history).opened_at == t(60)


# -- pulled -------------------------------------------------------------------------------


def test_work_before_the_escalation_is_not_the_pull_the_escalation_of_active_work_is():
    """In progress as a feature, then escalated while someone is on it: pulled at once."""
    history = [filed(), moved(DOING, 10), escalated(60), moved(REVIEW, 90)]
    result = figures(history)
    assert (result.opened_at, result.pulled_at) == (t(60), t(60))


def test_an_escalated_card_waiting_in_ready_is_pulled_when_it_first_enters_an_active_column():
    history = [filed(), moved(DOING, 10), moved(READY, 20), escalated(60), moved(DOING, 75)]
    result = figures(history)
    assert (result.opened_at, result.pulled_at) == (t(60), t(75))


def test_entering_an_active_column_at_the_very_moment_it_opened_is_a_pull():
    history = [filed(DOING)]
    assert figures(history).pulled_at == t(0)


def test_the_first_entry_into_an_active_column_counts_not_a_later_one():
    history = [filed(), moved(DOING, 5), moved(READY, 10), moved(REVIEW, 50)]
    assert figures(history).pulled_at == t(5)


def test_a_card_that_never_entered_an_active_column_was_not_pulled():
    history = [filed(), moved(DONE, 40)]
    assert figures(history, status="done", done_at=t(40)).pulled_at is None


# -- done -----------------------------------------------------------------------------------


def test_done_counts_only_while_the_card_is_done():
    history = [filed(), moved(DOING, 5), moved(DONE, 45)]
    assert figures(history, status="done", done_at=t(45)).done_at == t(45)
    assert figures(history, status="open", done_at=t(45)).done_at is None  # reopened
    assert figures(history, status="closed", done_at=t(45)).done_at is None


# -- which period it counts in ----------------------------------------------------------------


def local(day: int, hour: float) -> datetime:
    return datetime(2026, 3, day, tzinfo=BERLIN) + timedelta(hours=hour)


def test_an_emergency_counts_in_the_period_it_opened_in_from_midnight_to_midnight():
    first, second = weeks(date(2026, 3, 9), 2)  # 2–8 and 9–15 March
    at_start = Emergency(1, local(2, 0), None, None)
    last_moment = Emergency(2, local(9, 0) - timedelta(microseconds=1), None, None)
    at_next = Emergency(3, local(9, 0), None, None)
    rows = expedite_summary([first, second], BERLIN, [at_start, last_moment, at_next])
    assert [row.count for row in rows] == [2, 1]


def test_an_emergency_opened_before_or_after_the_periods_counts_nowhere():
    """A card filed in Expedite before the span and never escalated opened before it: the
    report need not read expedite cards older than the span."""
    old_card = figures([filed(), moved(DOING, 5)], created=-14 * 24 * 60)
    (row,) = expedite_summary(weeks(date(2026, 3, 3), 1), BERLIN, [old_card])
    assert old_card.opened_at < datetime(2026, 3, 2, tzinfo=BERLIN)
    assert row.count == 0 and row.pulled_median is None

    later = Emergency(1, local(16, 0), None, None)
    (row,) = expedite_summary(weeks(date(2026, 3, 3), 1), BERLIN, [later])
    assert row.count == 0


def test_a_pull_or_done_recorded_before_the_opening_waits_zero_not_a_negative_time():
    early = Emergency(1, local(3, 10), local(3, 9), local(3, 9.5))
    (row,) = expedite_summary(weeks(date(2026, 3, 3), 1), BERLIN, [early])
    assert row.pulled_median == timedelta() and row.done_median == timedelta()


def test_waits_are_wall_clock_times_from_the_opening():
    """Emergencies do not wait for office hours: a night counts in full."""
    night = Emergency(1, local(3, 22), local(4, 1), local(4, 7))
    (row,) = expedite_summary(weeks(date(2026, 3, 3), 1), BERLIN, [night])
    assert row.pulled_median == timedelta(hours=3)
    assert row.done_median == row.done_p85 == timedelta(hours=9)
