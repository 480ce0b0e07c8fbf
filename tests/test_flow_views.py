"""The Flow page through HTTP: who may see it, each chart with its table and CSV, one chart
alone for htmx, and the page's parts without the layout."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest

from tests.test_flow_service import NOW, at, history  # noqa: F401 (the fixture)
from tracker.web.presenters.flow import SECTIONS

CHART_TITLES = (
    "cfd-svg-title",
    "cycle-svg-title",
    "lead-svg-title",
    "throughput-svg-title",
    "aging-svg-title",
    "blocked-svg-title",
    "pareto-person-days-title",
    "pareto-cards-title",
    "forecast-svg-title",
)


@pytest.fixture
def team(history, client):  # noqa: F811
    from tests.helpers import make_user
    from tracker.extensions import db

    board, made = history
    for role in ("lead", "viewer", "support"):
        make_user(role, board=board, role=role)
    make_user("outsider")
    db.session.commit()
    return board.id


@pytest.fixture
def now():
    import time_machine

    with time_machine.travel(NOW, tick=False):
        yield


QUERY = {"weeks": 4, "until": "2026-03-27"}


@pytest.mark.parametrize("who", ["lead", "mia", "viewer"])
def test_the_page_shows_every_chart_with_its_table_and_csv_link(client, auth, team, now, who):
    auth.login(who)
    answer = client.get(f"/b/{team}/flow", query_string=QUERY)
    assert answer.status_code == 200
    assert "HX-Request" in answer.headers["Vary"]
    html = answer.text
    for title in CHART_TITLES:
        assert f'id="{title}"' in html, title
    for table in ("cfd-table", "cycle-table", "throughput-table", "aging-table", "blocked-table"):
        assert f'id="{table}"' in html
    for name in SECTIONS:
        assert f"/b/{team}/flow/{name}.csv?" in html
    assert "<html" in html and 'aria-current="page"' in html  # the whole page, Flow marked
    assert re.search(r"[a-z, ]+ (is|are) behind 80% of the support and expedite person-days", html)
    assert "style=" not in html.split("<main", 1)[1] and "<script" not in html.split("<main")[1]


def test_htmx_gets_the_charts_without_the_page_or_one_chart_alone(client, auth, team, now):
    auth.login("mia")
    whole = client.get(f"/b/{team}/flow", query_string=QUERY, headers={"HX-Request": "true"})
    assert whole.status_code == 200 and "<html" not in whole.text
    assert all(f'id="flow-{name}"' in whole.text for name in SECTIONS)
    for name in SECTIONS:
        one = client.get(
            f"/b/{team}/flow",
            query_string={**QUERY, "section": name},
            headers={"HX-Request": "true"},
        )
        assert one.status_code == 200
        ids = [s for s in SECTIONS if f'id="flow-{s}"' in one.text]
        assert ids == [name]
    # A boosted link or form (htmx on the body) gets the whole page, as without htmx.
    boosted = client.get(
        f"/b/{team}/flow", query_string=QUERY, headers={"HX-Request": "true", "HX-Boosted": "true"}
    )
    assert "<html" in boosted.text and 'id="flow-forecast"' in boosted.text
    # Without htmx, `section` is ignored: the whole page.
    page = client.get(f"/b/{team}/flow", query_string={**QUERY, "section": "cfd"})
    assert "<html" in page.text and 'id="flow-forecast"' in page.text


def test_the_lane_kind_filter_narrows_the_cumulative_flow(client, auth, team, now):
    auth.login("mia")

    def last_row(kind):
        answer = client.get(
            f"/b/{team}/flow",
            query_string={**QUERY, "section": "cfd", "kind": kind},
            headers={"HX-Request": "true"},
        )
        last = answer.text.split('id="cfd-table"')[1].split("</tbody>")[0].split("<tr>")[-1]
        return [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', last)]

    assert sum(last_row("feature")) == 6
    assert sum(last_row("support")) == 5
    assert sum(last_row("")) == 11
    assert sum(last_row("nonsense")) == 11


@pytest.mark.parametrize("name", SECTIONS)
def test_each_chart_downloads_as_csv(client, auth, team, now, name):
    auth.login("viewer")
    answer = client.get(f"/b/{team}/flow/{name}.csv", query_string=QUERY)
    assert answer.status_code == 200
    assert answer.mimetype == "text/csv"
    assert (
        f"flow-{name}-board-{team}-2026-03-02-2026-03-29.csv"
        in answer.headers["Content-Disposition"]
    )
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert len(rows) > 1 and rows[0]


def test_the_cycle_csv_lists_the_cards_done(client, auth, team, now):
    auth.login("viewer")
    rows = list(csv.DictReader(io.StringIO(client.get(f"/b/{team}/flow/cycle.csv").text)))
    assert sorted(r["title"] for r in rows) == [
        "f0",
        "f1",
        "f2",
        "f3",
        "f4",
        "old",
        "s0",
        "s1",
        "s2",
    ]
    assert {r["title"]: r["cycle_days"] for r in rows}["f0"] == "10.00"


def test_support_staff_get_403_outsiders_404_and_no_link(client, auth, team, now):
    auth.login("support")
    assert client.get(f"/b/{team}/flow").status_code == 403
    assert client.get(f"/b/{team}/flow/cfd.csv").status_code == 403
    assert f"/b/{team}/flow" not in client.get(f"/b/{team}").text
    auth.logout()
    auth.login("outsider")
    assert client.get(f"/b/{team}/flow").status_code == 404
    assert client.get(f"/b/{team}/flow/cfd.csv").status_code == 404
    auth.logout()
    auth.login("viewer")
    assert f'href="/b/{team}/flow"' in client.get(f"/b/{team}").text
    assert client.get(f"/b/{team}/flow/nothing.csv").status_code == 404


def test_the_capacity_report_shows_the_forecast_beside_the_allowance(client, auth, team, now):
    from tracker.extensions import db
    from tracker.models import Board
    from tracker.services import flow

    figures = flow.arrivals_forecast(db.session.get(Board, team))
    auth.login("viewer")
    html = client.get(f"/b/{team}/report").text
    allowance = html.split('id="allowance"')[1].split("</div>")[0]
    assert (
        f"arriving in {figures.period_name}: at most {figures.figures[0.5]} (50% likely), "
        f"{figures.figures[0.85]} (85%) or {figures.figures[0.95]} (95%)"
    ) in allowance


def test_the_board_tile_gets_its_aging_marker_when_it_crosses_the_percentile(
    client,
    auth,
    team,
    history,  # noqa: F811
):
    """The feature "wip" entered work on 23 March at 9:00 (and Review on the 27th at 15:00,
    when its days in the column move on); the five features finished before took ten days.
    The board's kept grid is good only until the tile crosses its percentile."""
    import time_machine

    from tests.helpers import actor, column
    from tracker import clock
    from tracker.extensions import db
    from tracker.models import Card, User
    from tracker.services import cards

    board, made = history
    mia = actor(db.session.execute(db.select(User).filter_by(username="mia")).scalar_one())
    card = db.session.get(Card, made["wip"])
    with clock.fixed(at(27, 15)):
        cards.move_card(
            board.id, mia, card.id, lane_id=card.lane_id, column_id=column(board, "Review").id
        )
    auth.login("lead")
    before = at(23, 9) + timedelta(days=9, hours=23)  # 2 April, 8:00
    with time_machine.travel(before, tick=False):
        page = client.get(f"/b/{team}")
        tile = re.search(rf'<li[^>]*id="card-{made["wip"]}".*?</li>', page.text).group(0)
        assert 'class="aged"' not in tile
    with time_machine.travel(before + timedelta(hours=2), tick=False):
        # The same board version, day, and days in the column: the kept grid expired.
        page = client.get(f"/b/{team}")
        tile = re.search(rf'<li[^>]*id="card-{made["wip"]}".*?</li>', page.text).group(0)
        assert 'class="aged"' in tile
        assert "longer than 85% of recent feature cards took (10 days)" in tile
