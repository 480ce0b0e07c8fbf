"""The emergency banner's words: waits in plain words, oldest first, a key that follows them."""

from datetime import UTC, datetime, timedelta

import pytest

from tracker.domain.emergency import Waiting, banner, waited

NOW = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


def s1(card_id: int, ref: str, minutes_ago: float, title: str = "Checkout is down") -> Waiting:
    return Waiting(card_id, ref, title, NOW - timedelta(minutes=minutes_ago))


@pytest.mark.parametrize(
    ("minutes", "words"),
    [
        (-3, "less than 1 min"),  # a clock a little behind the database's
        (0, "less than 1 min"),
        (1, "1 min"),
        (4, "4 min"),
        (59, "59 min"),
        (60, "1 h"),
        (125, "2 h 5 min"),
        (24 * 60 - 1, "23 h 59 min"),
        (24 * 60, "1 d"),
        (27 * 60 + 40, "1 d 3 h"),
    ],
)
def test_waits_in_plain_words(minutes, words):
    assert waited(minutes) == words


def test_one_line_per_waiting_card_oldest_first():
    shown = banner([s1(9, "EXP-9", 2.5), s1(3, "EXP-3", 4.9), s1(4, "EXP-4", 125)], NOW)
    assert [a.text for a in shown.alarms] == [
        "Production emergency: EXP-4 — unassigned for 2 h 5 min",
        "Production emergency: EXP-3 — unassigned for 4 min",
        "Production emergency: EXP-9 — unassigned for 2 min",
    ]
    assert [a.card_id for a in shown.alarms] == [4, 3, 9]
    assert shown and shown.key


def test_no_waiting_card_no_banner():
    shown = banner([], NOW)
    assert not shown
    assert shown.alarms == ()
    assert shown.key == ""


def test_the_key_changes_exactly_when_what_is_shown_changes():
    first = banner([s1(3, "EXP-3", 4.1)], NOW)
    assert banner([s1(3, "EXP-3", 4.8)], NOW).key == first.key  # same words
    assert banner([s1(3, "EXP-3", 5.0)], NOW).key != first.key  # a minute later
    assert banner([s1(3, "EXP-3", 4.1), s1(5, "EXP-5", 0)], NOW).key != first.key
    assert banner([s1(3, "EXP-3", 4.1, "Checkout is down again")], NOW).key != first.key
    assert banner([s1(4, "EXP-3", 4.1)], NOW).key != first.key  # another card, same ref
