"""The capacity report page, its settings, its CSV, and a lead's sprints, through HTTP."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
import time_machine
from sqlalchemy import select

from tests.helpers import actor, column, lane, make_board, make_user
from tracker import clock
from tracker.extensions import db
from tracker.models import AuditEvent, Sprint, User
from tracker.services import cards, reports
from tracker.services.reports import SprintInput

NOW = datetime(2026, 3, 25, 12, 0, tzinfo=UTC)  # Wednesday of the fourth sprint


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


def work(board, who, kind: str, start: datetime, end: datetime) -> None:
    """A card of `kind` that `who` pulls at start and finishes at end."""
    with clock.fixed(start):
        cards.create_card(board.id, who, lane(board, kind).id, {"title": f"{kind} {start:%d %H}"})
        pulled = cards.pull_next(board.id, who).card
        assert pulled is not None and pulled.lane.kind == kind
    with clock.fixed(end):
        cards.move_card(
            board.id,
            who,
            pulled.id,
            lane_id=pulled.lane_id,
            column_id=column(board, "Done").id,
        )


@pytest.fixture
def team(ctx):
    """A UTC board with people in every role, three finished one-week sprints and a running
    one (10 person-days planned each). Support took 1, 2 and 3 person-days; features 4, 3, 2."""
    board = make_board("Team")
    lead = make_user("lead", board=board, role="lead")
    member = make_user("member", board=board, role="member")
    make_user("viewer", board=board, role="viewer")
    make_user("support", board=board, role="support")
    make_user("outsider")
    mia = actor(member)
    with clock.fixed(at(1, 12)):
        for n, (start, end) in enumerate(((2, 8), (9, 15), (16, 22), (23, 29)), start=1):
            reports.add_sprint(
                board.id,
                actor(lead, "lead"),
                SprintInput(f"Sprint {n}", date(2026, 3, start), date(2026, 3, end), 10, None),
            )
    # Sprint 1: support Mon 09–17, feature Tue 09 – Fri 17.
    work(board, mia, "support", at(2, 9), at(2, 17))
    work(board, mia, "feature", at(3, 9), at(6, 17))
    # Sprint 2: support Mon 09 – Wed 09, feature Wed 09 – Fri 17.
    work(board, mia, "support", at(9, 9), at(11, 9))
    work(board, mia, "feature", at(11, 9), at(13, 17))
    # Sprint 3: support Mon 09 – Thu 09, feature Thu 09 – Fri 17.
    work(board, mia, "support", at(16, 9), at(19, 9))
    work(board, mia, "feature", at(19, 9), at(20, 17))
    return board.id


@pytest.fixture
def now():
    with time_machine.travel(NOW, tick=False):
        yield


def page(client, auth, who: str, board_id: int, **query):
    auth.login(who)
    return client.get(f"/b/{board_id}/report", query_string=query)


@pytest.mark.parametrize("who", ["lead", "member", "viewer"])
def test_the_report_shows_chart_allowance_table_and_emergencies(client, auth, team, now, who):
    answer = page(client, auth, who, team)
    assert answer.status_code == 200
    html = answer.text
    assert "<svg" in html and "<title" in html and "<desc" in html
    assert headline_of(html) == (
        "Hold back 2 person-days for support next sprint. The next sprint is not planned yet: "
        "against Sprint 4, the sprint under way, that leaves 8 for features."
    )
    assert "ranging from 1 to 3" in html
    assert "Sprint 4" in html and "(running)" in html
    assert 'id="report-table"' in html and 'id="expedite-table"' in html
    assert "Support is taking over" not in html
    assert ("Report settings" in html) == (who == "lead")


def test_support_staff_get_403_and_outsiders_404(client, auth, team, now):
    assert page(client, auth, "support", team).status_code == 403
    auth.logout()
    assert page(client, auth, "outsider", team).status_code == 404
    assert client.get(f"/b/{team}/report.csv").status_code == 404


def test_the_board_links_to_the_report_except_for_support(client, auth, team, now):
    auth.login("member")
    assert f"/b/{team}/report" in client.get(f"/b/{team}").text
    assert f"/b/{team}/sprints" not in client.get(f"/b/{team}").text
    auth.logout()
    auth.login("support")
    assert f"/b/{team}/report" not in client.get(f"/b/{team}").text


def test_changing_n_changes_the_allowance(client, auth, team, now):
    auth.login("lead")
    answer = client.post(
        f"/b/{team}/report/settings",
        data={"window_size": 1, "measure": "person_days", "threshold": 50},
    )
    assert answer.status_code == 303
    html = client.get(f"/b/{team}/report").text
    assert headline_of(html) == (
        "Hold back 3 person-days for support next sprint. The next sprint is not planned yet: "
        "against Sprint 4, the sprint under way, that leaves 7 for features."
    )
    assert "Report settings saved." in html


def test_the_alarm_speaks_when_support_share_is_above_the_threshold(client, auth, team, now):
    auth.login("lead")
    client.post(
        f"/b/{team}/report/settings",
        data={"window_size": 3, "measure": "person_days", "threshold": 35},
    )
    html = client.get(f"/b/{team}/report").text
    # Shares 1/5, 2/5 and 3/5: 40 % on average, above 35 %.
    assert "Support is taking over" in html and "took 40% of the team" in html


def report_in(client, team: int, measure: str) -> str:
    """The report after the lead sets the measure (N = 3, threshold 50 %)."""
    settings = {"window_size": 3, "measure": measure, "threshold": 50}
    client.post(f"/b/{team}/report/settings", data=settings)
    return client.get(f"/b/{team}/report").text


def test_the_measure_can_be_cards(client, auth, team, now):
    auth.login("lead")
    html = report_in(client, team, "cards")
    assert "Hold back 1 card for support next sprint." in html
    assert "choose one of those to see what is left for features" in html


def test_in_points_the_unestimated_support_work_is_named(client, auth, team, now):
    """Unestimated cards are not zero points: the box says how many it leaves out."""
    auth.login("lead")
    html = report_in(client, team, "points")
    assert "Hold back 0 points" not in html  # missing data, not an allowance
    assert "the 3 support and expedite cards done in the last 3 sprints have no estimate" in html
    assert "had no estimate" not in report_in(client, team, "person_days")


def test_bad_settings_are_refused_with_the_input_kept(client, auth, team, now):
    auth.login("lead")
    answer = client.post(
        f"/b/{team}/report/settings",
        data={"window_size": 40, "measure": "person_days", "threshold": 50},
    )
    assert answer.status_code == 422
    assert "Average over 1 to 12 finished periods." in answer.text
    assert 'value="40"' in answer.text


def test_only_leads_change_settings(client, auth, team, now):
    auth.login("member")
    answer = client.post(
        f"/b/{team}/report/settings",
        data={"window_size": 1, "measure": "person_days", "threshold": 50},
    )
    assert answer.status_code == 403
    assert reports.settings_of(team).window_size == 3


def test_csv_export_has_one_row_per_period_with_every_measure(client, auth, team, now):
    auth.login("viewer")
    answer = client.get(f"/b/{team}/report.csv")
    assert answer.status_code == 200
    assert answer.mimetype == "text/csv"
    assert answer.headers["Content-Disposition"].startswith("attachment;")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [r["period"] for r in rows] == ["Sprint 1", "Sprint 2", "Sprint 3", "Sprint 4"]
    first = rows[0]
    assert (first["support_person_days"], first["feature_person_days"]) == ("1", "4")
    assert (first["support_cards_done"], first["feature_cards_done"]) == ("1", "1")
    assert first["support_share_percent"] == "20.0" and first["finished"] == "yes"
    assert rows[2]["support_person_days"] == "3" and rows[3]["finished"] == "no"


def test_a_board_without_sprints_reports_by_calendar_week(client, auth, team, now):
    db.session.execute(db.delete(Sprint))
    db.session.commit()
    html = page(client, auth, "lead", team).text
    assert "runs by calendar week" in html
    assert "Week of 23 Mar 2026" in html
    # The last three finished weeks took 1, 2 and 3 person-days of support.
    assert "Hold back 2 person-days for support next week." in html


def test_the_range_picker_shows_fewer_periods(client, auth, team, now):
    html = page(client, auth, "lead", team, count=6, until="2026-03-10").text
    assert "Sprint 2" in html and "Sprint 3</th>" not in html
    # The allowance still looks at the last finished sprints, whatever the range.
    assert "Hold back 2 person-days" in html


# -- sprints ----------------------------------------------------------------------------------


def sprint_form(**values):
    data = {
        "name": "Sprint 5",
        "start_on": "2026-03-30",
        "end_on": "2026-04-12",
        "capacity_days": "36.5",
        "capacity_points": "",
    }
    return data | values


def test_a_lead_adds_a_sprint_and_the_report_uses_its_capacity(client, auth, team, now):
    auth.login("lead")
    page_html = client.get(f"/b/{team}/sprints").text
    assert "Sprint 4" in page_html and 'value="2026-03-30"' in page_html  # next one prefilled
    before = client.get(f"/b/{team}/report").text
    assert "Sprint under way: Sprint 4" in before and "No later sprint is planned yet" in before
    assert "that leaves 8 for features" in before  # Sprint 4's 10 planned − 2 held back
    answer = client.post(f"/b/{team}/sprints", data=sprint_form())
    assert answer.status_code == 303
    assert db.session.query(Sprint).filter_by(name="Sprint 5").one().capacity_days == 36.5
    after = client.get(f"/b/{team}/report").text
    assert "Next sprint: Sprint 5 (30 Mar – 12 Apr 2026), planned capacity 36.5" in after
    assert "Hold back 2 person-days for support next sprint; 34.5 left for features." in after
    assert "No later sprint is planned yet" not in after


def test_a_sprint_ending_before_it_starts_is_refused_with_the_input_kept(client, auth, team, now):
    auth.login("lead")
    answer = client.post(
        f"/b/{team}/sprints", data=sprint_form(name="Backwards", end_on="2026-03-29")
    )
    assert answer.status_code == 422
    assert "before it starts" in answer.text
    assert 'value="Backwards"' in answer.text and 'value="36.5"' in answer.text
    assert db.session.query(Sprint).filter_by(name="Backwards").first() is None


def test_overlapping_sprints_are_refused(client, auth, team, now):
    auth.login("lead")
    answer = client.post(f"/b/{team}/sprints", data=sprint_form(start_on="2026-03-28"))
    assert answer.status_code == 422
    assert "overlap Sprint 4" in answer.text


def test_a_bad_date_gets_a_field_message(client, auth, team, now):
    auth.login("lead")
    answer = client.post(f"/b/{team}/sprints", data=sprint_form(start_on="30/03/2026"))
    assert answer.status_code == 422
    assert "Not a valid date value." in answer.text


def test_a_lead_edits_and_removes_a_sprint(client, auth, team, now):
    auth.login("lead")
    sprint = db.session.query(Sprint).filter_by(name="Sprint 4").one()
    data = {
        f"s{sprint.id}-{k}": v
        for k, v in sprint_form(
            name="Sprint 4", start_on="2026-03-23", end_on="2026-03-29", capacity_days="20"
        ).items()
    }
    assert client.post(f"/b/{team}/sprints/{sprint.id}", data=data).status_code == 303
    db.session.expire_all()
    assert db.session.get(Sprint, sprint.id).capacity_days == 20
    assert "that leaves 18 for features" in client.get(f"/b/{team}/report").text
    bad = data | {f"s{sprint.id}-start_on": "2026-03-22"}
    answer = client.post(f"/b/{team}/sprints/{sprint.id}", data=bad)
    assert answer.status_code == 422 and "overlap Sprint 3" in answer.text
    assert client.post(f"/b/{team}/sprints/{sprint.id}/delete").status_code == 303
    db.session.expire_all()
    assert db.session.get(Sprint, sprint.id) is None
    # The audit log keeps what changed and what went, by whom.
    trail = db.session.execute(
        select(AuditEvent).where(AuditEvent.target_type == "sprint").order_by(AuditEvent.id)
    ).scalars()
    acts = [(r.action, r.target_id, r.detail) for r in trail if r.target_id == sprint.id]
    before = {"name": "Sprint 4", "start": "2026-03-23", "end": "2026-03-29"}
    assert acts == [
        ("sprint.added", sprint.id, {"new": before | {"person_days": 10, "points": None}}),
        (
            "sprint.changed",
            sprint.id,
            {
                "old": before | {"person_days": 10, "points": None},
                "new": before | {"person_days": 20, "points": None},
            },
        ),
        ("sprint.removed", sprint.id, {"old": before | {"person_days": 20, "points": None}}),
    ]


def test_only_leads_manage_sprints(client, auth, team, now):
    auth.login("member")
    assert client.get(f"/b/{team}/sprints").status_code == 403
    assert client.post(f"/b/{team}/sprints", data=sprint_form()).status_code == 403


@pytest.mark.slow("postgres")
def test_warm_reports_stores_finished_periods_ahead_of_the_first_view(app):
    from sqlalchemy import func, select

    from tracker.demo import seed
    from tracker.models import ReportPeriodCache

    with app.app_context():
        seed(weeks=6)
        assert (
            db.session.execute(select(func.count()).select_from(ReportPeriodCache)).scalar_one()
            == 0
        )
    result = app.test_cli_runner().invoke(args=["warm-reports"])
    assert result.exit_code == 0, result.output
    assert "1 board." in result.output
    with app.app_context():
        assert (
            db.session.execute(select(func.count()).select_from(ReportPeriodCache)).scalar_one()
            >= 2
        )


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def test_csv_export_neutralises_sprint_names_a_spreadsheet_would_run(client, auth, team, now):
    names = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2", "@SUM(A1)"]
    sprints = db.session.execute(select(Sprint).order_by(Sprint.start_on)).scalars().all()
    for sprint, name in zip(sprints, names, strict=True):
        sprint.name = name
    db.session.commit()
    auth.login("viewer")
    rows = list(csv.reader(io.StringIO(client.get(f"/b/{team}/report.csv").text)))
    assert [row[0] for row in rows[1:]] == ["'" + name for name in names]
    assert not [cell for row in rows for cell in row if cell.startswith(FORMULA_START)]


# -- the headline -----------------------------------------------------------------------------


def headline_of(html: str) -> str:
    """The allowance box's headline (its .big paragraph), as text."""
    import re

    found = re.search(r'<p class="big">(.*?)</p>', html, re.S)
    assert found, "no headline"
    return " ".join(found.group(1).split())


def test_headline_when_the_next_sprint_is_planned(client, auth, team, now):
    reports.add_sprint(
        team,
        actor(db.session.execute(select(User).filter_by(username="lead")).scalar_one(), "lead"),
        SprintInput("Sprint 5", date(2026, 3, 30), date(2026, 4, 5), 12, None),
    )
    said = headline_of(page(client, auth, "lead", team).text)
    assert said == "Hold back 2 person-days for support next sprint; 10 left for features."


def test_headline_says_it_falls_back_to_the_running_sprint(client, auth, team, now):
    """No Sprint 5 yet: what is left for features is Sprint 4's, and the headline says so."""
    said = headline_of(page(client, auth, "lead", team).text)
    assert said == (
        "Hold back 2 person-days for support next sprint. The next sprint is not planned yet: "
        "against Sprint 4, the sprint under way, that leaves 8 for features."
    )


def test_headline_in_points_with_only_unestimated_support_cards(client, auth, team, now):
    """No estimate on any support card: no "hold back 0 points", but why and what to do."""
    auth.login("lead")
    html = report_in(client, team, "points")
    said = headline_of(html)
    assert "Hold back" not in said and "0 points" not in said
    assert said == (
        "No allowance in points: the 3 support and expedite cards done in the last "
        "3 sprints have no estimate."
    )
    assert (
        "Estimate support and expedite cards when they are done, or measure this report "
        "in person-days, which needs no estimates." in html
    )
    assert (
        "A lead of this board sets the measure." not in html
        and '<a href="#settings">Report settings</a> set the measure.' in html
    )
    assert "line.allowance" not in html and 'class="allowance"' not in html  # no line at 0


def test_headline_before_any_sprint_has_finished(client, auth, team, now):
    db.session.execute(db.delete(Sprint).where(Sprint.name != "Sprint 4"))
    db.session.commit()
    html = page(client, auth, "lead", team).text
    assert headline_of(html) == "No finished sprint yet: the allowance needs at least one."
    assert "Hold back" not in html


@pytest.mark.parametrize(
    ("window", "said"), [(1, "1 finished sprint,"), (3, "3 finished sprints,")]
)
def test_the_alarm_counts_the_sprints_it_averages(client, auth, team, now, window, said):
    """Over the last sprint alone, support took 3 of 5 person-days (60%)."""
    auth.login("lead")
    client.post(
        f"/b/{team}/report/settings",
        data={"window_size": window, "measure": "person_days", "threshold": 35},
    )
    html = client.get(f"/b/{team}/report").text
    assert "Support is taking over" in html and f"over the last {said} more than" in html
