"""The support rotation in the capacity report: cover beside yesterday's weather, support
on and off duty per sprint, and fairness per person (services.reports, rotation figures)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
import time_machine

from tests.helpers import Auth, BoardSpec, actor, column, lane, make_card
from tracker.extensions import db
from tracker.models import Board, Rotation, RotationPerson, RotationTerm, User
from tracker.services import cards, reports


@pytest.fixture
def board_spec() -> BoardSpec:
    return BoardSpec(people={"lee": "lead", "ann": "member", "mia": "member", "bob": "member"})


def at(month: int, day: int, hour: int) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def who(board, name: str, role: str = "member"):
    return actor(db.session.get(User, board[name]), role)


@pytest.fixture
def history(app, board):
    """Sprint 1 (16-27 Nov, finished): ann on duty does 3 person-days of support; bob, off
    duty, takes a support card into work (an interruption) and spends 2 days on it. Sprint
    2 runs (mia on duty); sprint 3 (ann on duty) is planned at 40 person-days."""
    with app.app_context():
        b = db.session.get(Board, board["board"])
        lead = who(board, "lee", "lead")
        for name, start, end in (
            ("Sprint 1", date(2026, 11, 16), date(2026, 11, 27)),
            ("Sprint 2", date(2026, 11, 30), date(2026, 12, 11)),
            ("Sprint 3", date(2026, 12, 14), date(2026, 12, 25)),
        ):
            reports.add_sprint(b.id, lead, reports.SprintInput(name, start, end, 40, None))
        db.session.add(Rotation(board_id=b.id, enabled=True, on_duty=1, term_periods=1))
        db.session.add_all(RotationPerson(board_id=b.id, user_id=board[n]) for n in ("ann", "mia"))
        for person, start, end in (
            ("ann", date(2026, 11, 16), date(2026, 11, 29)),
            ("mia", date(2026, 11, 30), date(2026, 12, 13)),
            ("ann", date(2026, 12, 14), date(2026, 12, 27)),
        ):
            db.session.add(
                RotationTerm(
                    board_id=b.id, seat=0, start_on=start, end_on=end, user_id=board[person]
                )
            )
        db.session.commit()
        support = lane(b, "support").id
        doing, done = column(b, "In progress").id, column(b, "Done").id
        with time_machine.travel(at(11, 13, 12), tick=False):
            first = make_card(b, lead, "support", "Login fails")
            second = make_card(b, lead, "support", "Export is slow")
        with time_machine.travel(at(11, 16, 9), tick=False):
            pulled = cards.pull_next(b.id, who(board, "ann"))
            assert pulled.card.id == first.id
        with time_machine.travel(at(11, 17, 9), tick=False):
            cards.move_card(
                b.id, who(board, "bob"), second.id, lane_id=support, column_id=doing, take=True
            )
        for card_id, day in ((first.id, 18), (second.id, 18)):
            with time_machine.travel(at(11, day, 17), tick=False):
                cards.move_card(b.id, lead, card_id, lane_id=support, column_id=done)
        db.session.remove()
    return board


def report_page(app, board) -> str:
    client = app.test_client()
    assert Auth(client).login("lee").status_code == 302
    with time_machine.travel(at(12, 2, 12), tick=False):
        answer = client.get(f"/b/{board['board']}/report")
    assert answer.status_code == 200
    return answer.text


def row(html: str, table: str, heading: str) -> list[str]:
    """The cells of the row of `table` whose heading is `heading`, as text."""
    body = html.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
    match = re.search(rf'<th scope="row">{re.escape(heading)}</th>(.*?)</tr>', body, re.S)
    assert match, heading
    return [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r"<td[^>]*>(.*?)</td>", match.group(1), re.S)
    ]


def test_support_on_and_off_duty_per_sprint_and_the_marked_sprint(app, history):
    html = report_page(app, history)
    # Ann: Mon 09:00 to Wed 17:00, 3 person-days on duty; Bob: Tue 09:00 to Wed 17:00, 2 off.
    assert row(html, "rotation-table", "Sprint 1") == [
        "3",
        "2",
        "60% off duty did over a quarter",
        "1",
    ]
    assert 'class="marked"' in html


def test_the_next_sprints_cover_beside_yesterdays_weather_and_what_is_left(app, history):
    html = report_page(app, history)
    # Sprint 3: ann's term, 10 working days; yesterday's weather: sprint 1's 5 support days.
    assert (
        "Sprint 3: Rotation covers 10 person-days; yesterday&#39;s weather says 5: the rotation "
        "covers it." in html
    )
    assert (
        "planned 40 − 10 (the larger of the rotation's cover and yesterday's weather) = 30" in html
    )
    assert "Hold back 10 person-days for support next sprint; 30 left for features." in html


def test_fairness_over_the_last_six_months(app, history):
    html = report_page(app, history)
    assert row(html, "fairness-table", "Ann Person") == ["1", "3", "0", "0"]
    assert row(html, "fairness-table", "Bob Person") == ["0", "0", "2", "1"]
    assert row(html, "fairness-table", "Mia Person") == ["1", "0", "0", "0"]


def test_the_figures_are_the_same_from_the_stored_periods(app, history):
    first = report_page(app, history)  # computes and stores sprint 1
    second = report_page(app, history)  # reads it back
    for html in (first, second):
        assert row(html, "rotation-table", "Sprint 1")[:2] == ["3", "2"]
        assert row(html, "fairness-table", "Bob Person") == ["0", "0", "2", "1"]


def test_a_board_without_a_rotation_shows_none_of_it(app, board):
    assert 'id="rotation"' not in report_page(app, board)


def test_the_csv_carries_the_rotation_columns(app, history):
    client = app.test_client()
    Auth(client).login("lee")
    with time_machine.travel(at(12, 2, 12), tick=False):
        lines = client.get(f"/b/{history['board']}/report.csv").text.splitlines()
    assert lines[0].endswith(
        "support_days_on_duty,support_days_off_duty,absorbed_percent,interruptions"
    )
    sprint_1 = next(line for line in lines if line.startswith("Sprint 1,"))
    assert sprint_1.endswith(",3,2,60.0,1")
