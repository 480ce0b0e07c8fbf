"""The support rotation page and the board's "on support duty" line, as a lead, a member
and a viewer meet them (services.rotation, web.rotation)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from tests.helpers import Auth, BoardSpec, actor, make_card
from tracker.extensions import db
from tracker.models import AuditEvent, Board, Card, CardEvent, RotationTerm, User
from tracker.services import rotation

# Monday 30 November 2026, mid-morning in UTC (the test board's zone).
NOW = datetime(2026, 11, 30, 10, tzinfo=UTC)


@pytest.fixture
def board_spec() -> BoardSpec:
    people = {"lee": "lead", "ann": "member", "mia": "member", "noor": "member"}
    return BoardSpec(people=people | {"val": "viewer", "sue": "support"})


@pytest.fixture(autouse=True)
def _monday():
    with time_machine.travel(NOW, tick=False):
        yield


def login(client, name):
    assert Auth(client).login(name).status_code == 302
    return client


def setup_data(board, *, pool=("ann", "mia", "noor"), **over):
    data = {"enabled": "y", "on_duty": "2", "term_periods": "2", "staggered": "y"} | over
    data = {k: v for k, v in data.items() if v is not None}
    return {**data, "pool": [str(board[name]) for name in pool]}


def terms(app, board) -> list[tuple[date, int, str]]:
    with app.app_context():
        rows = db.session.execute(
            select(RotationTerm.start_on, RotationTerm.seat, User.username)
            .outerjoin(User, User.id == RotationTerm.user_id)
            .where(RotationTerm.board_id == board["board"])
            .order_by(RotationTerm.start_on, RotationTerm.seat)
        )
        return [tuple(row) for row in rows]


def test_a_lead_sets_up_a_staggered_rotation_and_the_board_says_who_is_on_duty(app, client, board):
    login(client, "lee")
    url = f"/b/{board['board']}/rotation"
    answer = client.post(url, data=setup_data(board))
    assert answer.status_code == 303
    schedule = terms(app, board)
    # Weeks (no sprints): seat 0 takes two-week terms, seat 1 starts with one week; fair
    # order is by name when nobody has served: ann, mia, noor.
    assert schedule[:4] == [
        (date(2026, 11, 30), 0, "ann"),
        (date(2026, 11, 30), 1, "mia"),
        (date(2026, 12, 7), 1, "noor"),
        (date(2026, 12, 14), 0, "mia"),
    ]
    page = client.get(url).text
    assert "on duty now" in page and "Ann" in page
    board_page = client.get(f"/b/{board['board']}").text
    duty = "Ann Person (until Fri 11 Dec), Mia Person (until Fri 04 Dec)"
    assert f"On support duty</a>:\n{duty} · next: Noor Person from Mon 07 Dec" in board_page
    with app.app_context():
        audit = db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "rotation.changed")
        ).scalar_one()
        assert audit.detail["enabled"] == [False, True]
        assert audit.detail["on_duty"] == [1, 2]


def test_a_board_without_a_rotation_says_nothing_about_duty(client, board):
    login(client, "ann")
    assert "On support duty" not in client.get(f"/b/{board['board']}").text


def test_the_first_set_up_offers_two_on_duty_staggered(client, board):
    login(client, "lee")
    page = client.get(f"/b/{board['board']}/rotation").text
    assert re.search(r'<input[^>]*name="on_duty"[^>]*value="2"', page)
    assert re.search(
        r'<input[^>]*checked[^>]*name="staggered"|<input[^>]*name="staggered"[^>]*checked', page
    )
    assert not re.search(
        r'<input[^>]*checked[^>]*name="enabled"|<input[^>]*name="enabled"[^>]*checked', page
    )


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"term_periods": "1"}, "Staggered terms need terms of at least 2 weeks"),
        ({"on_duty": "9"}, "1 to 4 people."),
        ({"on_duty": "two"}, "Not a valid integer value."),
    ],
)
def test_a_set_up_that_cannot_run_is_refused_and_the_form_keeps_what_was_typed(
    app, client, board, over, message
):
    login(client, "lee")
    answer = client.post(f"/b/{board['board']}/rotation", data=setup_data(board, **over))
    assert answer.status_code == 422
    assert message in answer.text
    assert f'value="{board["mia"]}" checked' in answer.text
    assert terms(app, board) == []


def test_the_pool_takes_only_people_who_may_hold_cards(app, client, board):
    login(client, "lee")
    data = setup_data(board, pool=("ann", "val"))
    answer = client.post(f"/b/{board['board']}/rotation", data=data)
    assert answer.status_code == 422
    assert "Only people who may hold cards" in answer.text
    assert f'value="{board["val"]}"' not in answer.text  # a viewer is not offered


@pytest.mark.parametrize("name", ["ann", "val", "sue"])
def test_others_read_the_schedule_but_cannot_change_it(app, client, board, name):
    with app.app_context():
        lee = actor(db.session.get(User, board["lee"]), "lead")
        pool = [board["ann"], board["mia"]]
        rotation.save_setup(
            board["board"], lee, enabled=True, on_duty=1, term_periods=1, staggered=False, pool=pool
        )
    before = terms(app, board)
    login(client, name)
    url = f"/b/{board['board']}/rotation"
    page = client.get(url)
    assert page.status_code == 200
    assert "Ann" in page.text and "<form" not in page.text.split("<main", 1)[1]
    assert client.post(url, data=setup_data(board)).status_code == 403
    assert client.post(f"{url}/swap", data={"one": "1", "other": "2"}).status_code == 403
    assert terms(app, board) == before


def _ids(app, board) -> list[int]:
    with app.app_context():
        query = select(RotationTerm.id).where(RotationTerm.board_id == board["board"])
        return list(
            db.session.execute(query.order_by(RotationTerm.start_on, RotationTerm.seat)).scalars()
        )


def test_a_lead_swaps_two_terms_and_replaces_one_person(app, client, board):
    login(client, "lee")
    url = f"/b/{board['board']}/rotation"
    client.post(url, data=setup_data(board, on_duty="1", term_periods="1", staggered=None))
    ids = _ids(app, board)
    assert [name for _, _, name in terms(app, board)[:3]] == ["ann", "mia", "noor"]
    answer = client.post(f"{url}/swap", data={"one": ids[0], "other": ids[2]})
    assert answer.status_code == 303
    assert [name for _, _, name in terms(app, board)[:3]] == ["noor", "mia", "ann"]
    replace = client.post(f"{url}/terms/{ids[1]}", data={f"t{ids[1]}-person": board["ann"]})
    assert replace.status_code == 303
    assert [name for _, _, name in terms(app, board)[:3]] == ["noor", "ann", "ann"]
    with app.app_context():
        actions = db.session.execute(
            select(AuditEvent.detail).where(AuditEvent.action == "rotation.changed")
        ).scalars()
        assert {"term 2026-12-07 seat 1": ["Mia Person", "Ann Person"]} in list(actions)


def test_an_edit_that_puts_someone_on_duty_twice_at_once_is_refused(app, client, board):
    login(client, "lee")
    url = f"/b/{board['board']}/rotation"
    client.post(url, data=setup_data(board))
    before = terms(app, board)
    ids = _ids(app, board)
    # Seat 0 (ann) and seat 1 (mia) both run this week: mia cannot take seat 0 too.
    answer = client.post(f"{url}/terms/{ids[0]}", data={f"t{ids[0]}-person": board["mia"]})
    assert answer.status_code == 422
    assert "That would put Mia Person on duty twice at once" in answer.text
    assert terms(app, board) == before


def test_away_dates_hand_the_term_to_the_next_in_order_and_the_past_stays(app, client, board):
    login(client, "lee")
    url = f"/b/{board['board']}/rotation"
    client.post(url, data=setup_data(board, on_duty="1", term_periods="1", staggered=None))
    assert [name for _, _, name in terms(app, board)[:3]] == ["ann", "mia", "noor"]
    data = {"person": board["mia"], "start_on": "2026-12-08", "end_on": "2026-12-09"}
    assert client.post(f"{url}/away", data=data).status_code == 303
    # ann's running term stays; mia is away in the week of 7 Dec, so noor takes it and
    # mia keeps her place: she takes the next week.
    assert [name for _, _, name in terms(app, board)[:3]] == ["ann", "noor", "mia"]
    with time_machine.travel(NOW + timedelta(days=7), tick=False):
        client.post(f"{url}/regenerate")
        assert terms(app, board)[:2] == [
            (date(2026, 11, 30), 0, "ann"),
            (date(2026, 12, 7), 0, "noor"),
        ]


def test_bad_away_dates_are_refused_in_place(client, board):
    login(client, "lee")
    url = f"/b/{board['board']}/rotation"
    client.post(url, data=setup_data(board))
    data = {"person": board["mia"], "start_on": "2026-12-09", "end_on": "2026-12-08"}
    answer = client.post(f"{url}/away", data=data)
    assert answer.status_code == 422
    assert "The last day away comes on or after the first." in answer.text
    assert 'value="2026-12-09"' in answer.text


# Pulling with the rotation on ----------------------------------------------------------------


def _rotation_with(app, board, on_duty: list[str]):
    """A one-seat rotation for each name on duty now (weekly terms)."""
    with app.app_context():
        lee = actor(db.session.get(User, board["lee"]), "lead")
        pool = [board[name] for name in on_duty]
        rotation.save_setup(
            board["board"],
            lee,
            enabled=True,
            on_duty=len(pool),
            term_periods=1,
            staggered=False,
            pool=pool,
        )


def _card(app, board, kind: str, title: str) -> int:
    with app.app_context():
        board_row = db.session.get(Board, board["board"])
        ann = actor(db.session.get(User, board["ann"]))
        return make_card(board_row, ann, kind, title).id


def _history(app, card_id: int) -> list[tuple[str, str]]:
    with app.app_context():
        rows = db.session.execute(
            select(CardEvent.kind, CardEvent.reason)
            .where(CardEvent.card_id == card_id)
            .order_by(CardEvent.id)
        )
        return [tuple(row) for row in rows]


def test_on_duty_pulls_support_first_and_off_duty_pulls_feature(app, board):
    support = _card(app, board, "support", "Login fails")
    feature = _card(app, board, "feature", "Dark mode")
    _rotation_with(app, board, ["mia"])
    ann = login(app.test_client(), "ann")
    ann.post(f"/b/{board['board']}/pull")
    mia = login(app.test_client(), "mia")
    mia.post(f"/b/{board['board']}/pull")
    with app.app_context():
        assert db.session.get(Card, feature).assignee_id == board["ann"]
        assert db.session.get(Card, support).assignee_id == board["mia"]
    assert "interrupted" not in [kind for kind, _ in _history(app, support)]


def test_off_duty_is_told_why_support_is_left_and_takes_it_only_when_nobody_on_duty_is_free(
    app, board
):
    support = _card(app, board, "support", "Login fails")
    _rotation_with(app, board, ["mia"])
    ann = login(app.test_client(), "ann")
    answer = ann.post(f"/b/{board['board']}/pull", follow_redirects=True)
    assert "Nothing to pull right now." in answer.text
    assert "Support: left to those on support duty, free to take it (Mia Person)" in answer.text
    # Mia takes something else; now nobody on duty is free, and ann's pull is an interruption.
    busy = _card(app, board, "feature", "Mia's feature")
    mia = login(app.test_client(), "mia")
    with app.app_context():
        place = db.session.get(Card, busy)
        target = {"lane_id": place.lane_id, "column_id": board["In progress"]}
    assert mia.post(f"/b/{board['board']}/cards/{busy}/move", data=target).status_code == 303
    ann.post(f"/b/{board['board']}/pull")
    with app.app_context():
        assert db.session.get(Card, support).assignee_id == board["ann"]
    kinds = _history(app, support)
    assert kinds[-1] == (
        "interrupted",
        "Ann Person took it while off support duty (on duty: Mia Person)",
    )
    page = ann.get(f"/b/{board['board']}/cards/{support}").text
    assert "noted an interruption: Ann Person took it while off support duty" in page


def test_a_support_card_dragged_into_work_off_duty_is_an_interruption(app, board):
    support = _card(app, board, "support", "Login fails")
    _rotation_with(app, board, ["mia"])
    ann = login(app.test_client(), "ann")
    with app.app_context():
        lane_id = db.session.get(Card, support).lane_id
    target = {"lane_id": lane_id, "column_id": board["In progress"]}
    assert ann.post(f"/b/{board['board']}/cards/{support}/move", data=target).status_code == 303
    assert _history(app, support)[-1][0] == "interrupted"
