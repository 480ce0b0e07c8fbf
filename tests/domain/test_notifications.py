"""Who hears of a card event (domain.notifications.recipients), mail modes and digests."""

from datetime import UTC, date, datetime

import pytest

from tracker.domain import notifications as rules
from tracker.domain.notifications import Recipient
from tracker.domain.vocabulary import EventKind, MailMode, NoticeKind

ANN, LEE, MIA, OLA = 1, 2, 3, 4
K = NoticeKind


def who(kind, actor=ANN, changes=None, assignee=None, watchers=(), mentioned=(), members=()):
    return rules.recipients(kind, actor, changes or {}, assignee, watchers, mentioned, members)


def test_an_assignment_tells_the_new_assignee():
    changes = {"assignee_id": [None, LEE]}
    assert who(EventKind.ASSIGNED, changes=changes, assignee=LEE) == [Recipient(LEE, K.ASSIGNED)]


def test_any_event_that_gives_the_card_a_new_assignee_tells_them():
    # a move that made someone its holder, or a pull recorded without a change
    moved = who(EventKind.MOVED, actor=ANN, changes={"assignee_id": [None, MIA]}, assignee=MIA)
    assert moved == [Recipient(MIA, K.ASSIGNED)]
    assert who(EventKind.PULLED, actor=ANN, assignee=LEE) == [Recipient(LEE, K.ASSIGNED)]


def test_unassigning_tells_nobody_of_an_assignment():
    changes = {"assignee_id": [LEE, None]}
    assert who(EventKind.ASSIGNED, changes=changes, assignee=None) == []


@pytest.mark.parametrize("kind", list(EventKind))
def test_nobody_hears_of_their_own_act(kind):
    changes = {"assignee_id": [None, ANN], "severity": [None, "S1"], "mentioned": [[], [ANN]]}
    heard = who(kind, ANN, changes, ANN, watchers=[ANN], mentioned=[ANN], members=[ANN])
    assert heard == []


def test_a_comment_tells_the_people_it_mentions_and_the_watchers():
    changes = {"mentioned": [[], [MIA]]}
    heard = who(
        EventKind.COMMENTED,
        changes=changes,
        watchers=[LEE, MIA],
        mentioned=rules.mentioned_ids(changes),
    )
    assert heard == [Recipient(LEE, K.WATCHING), Recipient(MIA, K.MENTIONED)]


def test_mentions_count_on_comments_only():
    assert who(EventKind.EDITED, mentioned=[MIA]) == []


@pytest.mark.parametrize(
    "changes",
    [{}, {"mentioned": "3"}, {"mentioned": [[], "3"]}, {"mentioned": [[], [True, "3", None]]}],
)
def test_malformed_mentions_name_nobody(changes):
    assert rules.mentioned_ids(changes) == set()


def test_watchers_hear_of_comments_and_moves_only():
    heard = {kind: who(kind, watchers=[LEE]) for kind in EventKind}
    hearing = {kind for kind, found in heard.items() if found}
    assert hearing == {EventKind.COMMENTED, EventKind.MOVED, EventKind.PULLED}
    assert heard[EventKind.MOVED] == [Recipient(LEE, K.WATCHING)]


@pytest.mark.parametrize("kind", [EventKind.CREATED, EventKind.ESCALATED])
def test_an_s1_tells_the_boards_members_and_leads(kind):
    heard = who(kind, actor=OLA, changes={"severity": [None, "S1"]}, members=[ANN, LEE])
    assert heard == [Recipient(ANN, K.S1_FILED), Recipient(LEE, K.S1_FILED)]


@pytest.mark.parametrize(
    ("kind", "severity"),
    [(EventKind.CREATED, "S2"), (EventKind.EDITED, "S1"), (EventKind.DEESCALATED, "S2")],
)
def test_other_severities_and_events_tell_the_board_nothing(kind, severity):
    assert who(kind, actor=OLA, changes={"severity": [None, severity]}, members=[ANN]) == []


@pytest.mark.parametrize("kind", [EventKind.BLOCKED, EventKind.UNBLOCKED])
def test_blocking_tells_the_cards_assignee(kind):
    assert who(kind, assignee=LEE, watchers=[MIA]) == [Recipient(LEE, K.BLOCKED)]
    assert who(kind, assignee=None) == []


def test_an_override_tells_the_cards_assignee():
    heard = who(EventKind.WIP_OVERRIDE, actor=LEE, assignee=ANN)
    assert heard == [Recipient(ANN, K.WIP_OVERRIDE)]


def test_each_person_hears_once_for_the_most_specific_reason():
    changes = {"assignee_id": [None, LEE], "severity": [None, "S1"]}
    heard = who(EventKind.CREATED, OLA, changes, LEE, watchers=[LEE, MIA], members=[LEE, MIA])
    assert heard == [Recipient(LEE, K.ASSIGNED), Recipient(MIA, K.S1_FILED)]


def test_may_notify_is_true_whenever_someone_could_hear():
    everyone = {"watchers": [LEE], "mentioned": [LEE], "members": [LEE]}
    samples = [{}, {"assignee_id": [None, LEE]}, {"severity": [None, "S1"]}, {"title": ["a", "b"]}]
    for kind in EventKind:
        for changes in samples:
            if who(kind, OLA, changes, LEE, **everyone):
                assert rules.may_notify(kind, changes), (kind, changes)
    assert not rules.may_notify(EventKind.EDITED, {"title": ["a", "b"]})
    assert not rules.may_notify(EventKind.REORDERED, {})


def test_mail_defaults_are_at_once_for_assigned_mentioned_and_on_duty_only():
    modes = rules.all_modes({})
    assert {k for k, mode in modes.items() if mode == MailMode.NOW} == {
        K.ASSIGNED,
        K.MENTIONED,
        K.ON_DUTY,
    }
    assert {mode for k, mode in modes.items() if k not in (K.ASSIGNED, K.MENTIONED, K.ON_DUTY)} == {
        MailMode.OFF
    }


def test_a_choice_overrides_the_default_and_nonsense_is_ignored():
    prefs = rules.with_mode({}, K.ASSIGNED, MailMode.DIGEST)
    prefs = rules.with_mode(prefs, K.WATCHING, MailMode.NOW)
    assert rules.mail_mode(prefs, K.ASSIGNED) == MailMode.DIGEST
    assert rules.mail_mode(prefs, K.WATCHING) == MailMode.NOW
    assert rules.mail_mode({K.MENTIONED: "sometimes"}, K.MENTIONED) == MailMode.NOW
    with pytest.raises(ValueError):
        rules.with_mode({}, K.ASSIGNED, "sometimes")
    with pytest.raises(ValueError):
        rules.with_mode({}, "birthdays", MailMode.NOW)


def test_the_digest_covers_yesterday_in_the_persons_zone():
    now = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)  # 2 March 03:00 UTC: still 1 March in New York
    assert rules.digest_day(now, "UTC") == date(2026, 3, 1)
    assert rules.digest_day(now, "America/New_York") == date(2026, 2, 28)
    start, end = rules.day_bounds(date(2026, 3, 1), "Europe/Berlin")
    assert start.astimezone(UTC) == datetime(2026, 2, 28, 23, 0, tzinfo=UTC)
    assert (end - start).total_seconds() == 24 * 3600


def test_the_day_of_a_clock_change_is_its_own_length():
    start, end = rules.day_bounds(date(2026, 3, 29), "Europe/Berlin")
    assert (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds() == 23 * 3600


@pytest.mark.parametrize("kind", list(NoticeKind))
def test_every_kind_reads_as_a_sentence_naming_the_card(kind):
    told = rules.Told(kind, EventKind.MOVED, "Ann", "SUP-1", "Login fails", "Review", "why")
    words = rules.sentence(told)
    assert "SUP-1: Login fails" in words and "Ann" in words


def test_the_people_on_duty_hear_of_an_s1_or_s2_filed_or_an_escalation():
    filed_s2 = {"severity": [None, "S2"]}
    got = rules.recipients(EventKind.CREATED, 1, filed_s2, None, [], [], [2, 3], on_duty=[3, 4])
    assert [(r.user_id, r.kind) for r in got] == [(3, K.ON_DUTY), (4, K.ON_DUTY)]
    got = rules.recipients(
        EventKind.CREATED, 1, {"severity": [None, "S1"]}, None, [], [], [2, 3], on_duty=[3]
    )
    assert [(r.user_id, r.kind) for r in got] == [(2, K.S1_FILED), (3, K.ON_DUTY)]
    assert (
        rules.recipients(EventKind.ESCALATED, 1, {}, None, [], [], [], on_duty=[1, 3])[0].user_id
        == 3
    )
    assert (
        rules.recipients(
            EventKind.CREATED, 1, {"severity": [None, "S3"]}, None, [], [], [], on_duty=[3]
        )
        == []
    )
    assert rules.may_notify(EventKind.CREATED, filed_s2) and rules.may_notify(
        EventKind.ESCALATED, {}
    )
