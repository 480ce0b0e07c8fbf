"""Odd input answers 4xx, never 500: ids out of the database's range, digits int() refuses,
NUL and control characters, huge page numbers, extra list entries, dates far from today.

Each test walks every route or form of its kind rather than one example. They run on SQLite
and, with TRACKER_TEST_POSTGRES_URL set, on PostgreSQL (which refuses NUL in text and ids
of 2**31 and more in integer columns).
"""

from __future__ import annotations

import inspect
from datetime import date

import pytest
from werkzeug.datastructures import MultiDict
from werkzeug.routing import IntegerConverter
from wtforms import Form as WTForm
from wtforms.fields import FieldList

from tests.helpers import FILL, Auth, build_world, expected, make_card
from tracker.extensions import db
from tracker.models import Board, Card, Sprint
from tracker.web import forms

HUGE = (2**31, 2**63, 2**64, 10**30)
# int() refuses "²" (it is a digit to str.isdigit(), not a decimal); "٣" is Arabic-Indic 3.
NOT_DECIMAL = ("²", "¹²", "③")
MARKER = 987_654_321
CONTROL = "".join(chr(c) for c in range(32) if chr(c) not in "\t\n\r") + "\x7f"


def status_of(client, method: str, url: str, **kwargs) -> int | str:
    """The status, or the exception the app raised (tests propagate them instead of a 500)."""
    try:
        response = client.open(url, method=method, **kwargs)
    except Exception as error:  # noqa: BLE001 - the test reports it as the 500 it would be
        return f"raised {type(error).__name__}: {str(error)[:120]}"
    response.close()
    return response.status_code


def as_(app, name):
    client = app.test_client()
    assert Auth(client).login(name).status_code == 302
    return client


@pytest.fixture
def world(app):
    with app.app_context():
        return build_world()


# -- ids in URLs ----------------------------------------------------------------------------


def int_rules(app):
    return [
        rule
        for rule in app.url_map.iter_rules()
        if any(isinstance(c, IntegerConverter) for c in rule._converters.values())
    ]


def test_an_id_out_of_the_databases_range_in_any_url_is_a_404(app, world):
    """Every <int:...> route, every int parameter, as a lead and as an admin."""
    rules = int_rules(app)
    assert len(rules) >= 20
    clients = {name: as_(app, name) for name in ("lead", "admin")}
    wrong, tried = [], 0
    for rule in rules:
        method = "GET" if "GET" in rule.methods else "POST"
        for name in (n for n, c in rule._converters.items() if isinstance(c, IntegerConverter)):
            for identity, client in clients.items():
                with app.app_context():
                    values = {arg: FILL[arg](world) for arg in rule.arguments}
                # Built with a marker in range (rule.build checks the converter), then
                # the marker swapped for the number.
                marked = rule.build(values | {name: MARKER}, append_unknown=False)[1]
                for huge in HUGE:
                    url = marked.replace(f"/{MARKER}", f"/{huge}")
                    status = status_of(client, method, url, data={})
                    tried += 1
                    if status not in (404, 422):
                        wrong.append(f"{method} {url} as {identity}: {status}")
    assert wrong == [], "\n".join(wrong)
    assert tried >= len(rules) * len(HUGE) * 2


def test_an_id_in_range_still_reaches_its_page(app, world):
    lead = as_(app, "lead")
    assert lead.get(f"/b/{world.board_id}").status_code == 200
    assert lead.get(f"/b/{2**31 - 1}").status_code == 404
    assert lead.get("/b/0").status_code == 404


# -- numbers in forms and query strings -----------------------------------------------------


def odd_numbers() -> list[str]:
    return [*NOT_DECIMAL, *(str(n) for n in HUGE), "-1", "0", " 7", "1_0", "1e3", "٣"]


def test_odd_numbers_in_query_strings_are_not_a_500(app, world):
    """Every query parameter a view reads as a number: audit person and page, the archive
    page, the report's count, the live poll's version, the new card's lane."""
    board = world.board_id
    pages = {
        "admin": [
            "/admin/audit?person={v}",
            "/admin/audit?page={v}",
            "/admin/audit.csv?person={v}",
        ],
        "lead": [
            f"/b/{board}/audit?person={{v}}",
            f"/b/{board}/audit?page={{v}}",
            f"/b/{board}/audit.csv?person={{v}}",
            f"/b/{board}/done?page={{v}}",
            f"/b/{board}/report?count={{v}}",
            f"/b/{board}/live?v={{v}}",
            f"/b/{board}/cards/new?lane={{v}}",
        ],
    }
    wrong = []
    for identity, urls in pages.items():
        client = as_(app, identity)
        for url in urls:
            for value in odd_numbers():
                status = status_of(client, "GET", url.format(v=value))
                if not isinstance(status, int) or status >= 500:
                    wrong.append(f"GET {url.format(v=value)}: {status}")
    assert wrong == [], "\n".join(wrong)


def test_odd_numbers_in_form_fields_are_refused(app, world):
    """Every form field that carries an id: move targets, assignee, membership, erasure."""
    with app.app_context():
        card_id = world.file_request()
        user_id = world.user_ids["member"]
    base = f"/b/{world.board_id}/cards/{card_id}"
    lead, admin = as_(app, "lead"), as_(app, "admin")
    posts = []
    for value in odd_numbers():
        posts += [
            (lead, f"{base}/move", {"target": f"{value}:1"}),
            (lead, f"{base}/move", {"target": f"1:{value}"}),
            (lead, f"{base}/move", {"lane_id": value, "column_id": value}),
            (lead, f"{base}/move", {"lane_id": "1", "column_id": "1", "after": value}),
            (lead, f"{base}/assign", {"assignee": value}),
            (admin, "/admin/memberships", {"board_id": value, "user_id": user_id, "role": "lead"}),
            (admin, "/admin/memberships", {"board_id": world.board_id, "user_id": value}),
            (admin, "/admin/erasure", {"q": "Dana", "confirm": "y", "card_id": value}),
        ]
    wrong = []
    for client, url, data in posts:
        status = status_of(client, "POST", url, data=data)
        if not isinstance(status, int) or status >= 500:
            wrong.append(f"POST {url} {data}: {status}")
    assert wrong == [], "\n".join(wrong)
    with app.app_context():
        card = db.session.get(Card, card_id)
        assert card.assignee_id is None and card.requester == "Dana"


def test_huge_page_numbers_show_the_last_page(app, world):
    lead = as_(app, "lead")
    for value in ("0", "-5", str(2**31), str(2**63), str(10**30), "²"):
        response = lead.get(f"/b/{world.board_id}/done?page={value}")
        assert response.status_code == 200, value
        assert "Page 1 of 1" in response.text or "No " in response.text, value


# -- text: NUL and control characters -------------------------------------------------------


def form_classes():
    return [
        cls
        for _, cls in inspect.getmembers(forms, inspect.isclass)
        if issubclass(cls, WTForm) and cls.__module__ == forms.__name__
    ]


def test_every_form_drops_nul_and_control_characters_from_its_text(app):
    """One filter for every field of every form (passwords keep what was typed)."""
    dirty = "a\x00b" + CONTROL + "c\td\r\ne"
    with app.test_request_context(method="POST"):
        wrong = []
        for cls in form_classes():
            form = cls(formdata=None)
            names = {}
            for field in form:
                if isinstance(field, FieldList):
                    for sub in field.unbound_field.args[0]()._fields:
                        names[f"{field.name}-0-{sub}"] = f"{field.name}.0.{sub}"
                else:
                    names[field.name] = field.name
            form = cls(formdata=MultiDict({name: dirty for name in names}))
            for field_name, path in names.items():
                field = form
                for part in path.split("."):
                    field = field[int(part)] if part.isdigit() else field[part]
                if field.type == "PasswordField":
                    continue
                data = field.data
                if isinstance(data, str) and any(ch in data for ch in CONTROL):
                    wrong.append(f"{cls.__name__}.{field_name}: {data!r}")
    assert wrong == [], "\n".join(wrong)
    bases = (forms.Form, forms.SubForm, forms.FlaskForm, forms.PlainForm, forms.ActionForm)
    unclean = [
        cls.__name__
        for cls in form_classes()
        if cls not in bases and not issubclass(cls, forms.CleanText)
    ]
    assert unclean == [], "derive these from tracker.web.forms.Form or SubForm"


def test_nul_in_search_terms_is_not_a_500(app, world):
    """The archive search and the erasure search (PostgreSQL refuses NUL in text)."""
    with app.app_context():
        board = db.session.get(Board, world.board_id)
        lead = world.person("lead")
        make_card(board, lead, title="Export a\x01b", at="Done")
    lead, admin = as_(app, "lead"), as_(app, "admin")
    for term in ("Exp\x00ort", "\x00", "a\x01b\x1f", "Dana\x00"):
        response = lead.get(f"/b/{world.board_id}/done", query_string={"q": term})
        assert response.status_code == 200, repr(term)
        assert admin.get("/admin/erasure", query_string={"q": term}).status_code in (200, 422)
        status = status_of(admin, "POST", "/admin/erasure", data={"q": term})
        assert status == 422, (repr(term), status)
    found = lead.get(f"/b/{world.board_id}/done", query_string={"q": "Exp\x00ort"})
    assert "Export" in found.text


# -- list-shaped forms ----------------------------------------------------------------------


def settings_data(board: Board, lanes: int, columns: int, timezone: str = "UTC") -> dict:
    data = {"timezone": timezone, "per_person_limit": "", "pull_order": "support,feature"}
    lane_ids = [lane.id for lane in board.lanes]
    for i in range(lanes):
        lane_id = lane_ids[i] if i < len(lane_ids) else lane_ids[0]
        data |= {f"lanes-{i}-lane_id": lane_id, f"lanes-{i}-name": f"L{i}"}
        data |= {f"lanes-{i}-wip_limit": "", f"lanes-{i}-mode": "strict"}
    column_ids = [column.id for column in board.columns]
    for i in range(columns):
        column_id = column_ids[i] if i < len(column_ids) else column_ids[0]
        data |= {f"columns-{i}-column_id": column_id, f"columns-{i}-wip_limit": ""}
    return data


def test_a_settings_form_with_more_or_fewer_entries_than_the_board_is_refused(app, world):
    with app.app_context():
        board = db.session.get(Board, world.board_id)
        lanes, columns = len(board.lanes), len(board.columns)
        shapes = [
            (lanes + 1, columns),
            (lanes, columns + 1),
            (lanes + 5, columns + 5),
            (12, 25),  # more than the form's max_entries
            (lanes - 1, columns),
            (0, 0),
        ]
        # A refused form is shown again: with a bad time zone too, so the page is rendered
        # from the posted entries.
        posts = [
            (shape + (zone,), settings_data(board, *shape, zone))
            for shape in shapes
            for zone in ("UTC", "Nowhere/Atlantis")
        ]
        good = settings_data(board, lanes, columns)
    lead = as_(app, "lead")
    url = f"/b/{world.board_id}/settings"
    for shape, data in posts:
        assert status_of(lead, "POST", url, data=data) == 422, shape
    assert lead.post(url, data=good).status_code == 303


def test_a_columns_form_with_unknown_or_extra_entries_is_not_a_500(app, world):
    lead = as_(app, "lead")
    url = f"/b/{world.board_id}/settings/columns"
    odd = [
        {f"columns-{i}-column_id": str(2**40 + i) for i in range(3)},
        {f"columns-{i}-name": f"C{i}" for i in range(20)},
        {"columns-0-column_id": "²", "columns-0-name": "X"},
        {"columns-0-column_id": "-1", "columns-0-name": "X", "columns-0-position": "²"},
    ]
    for data in odd:
        status = status_of(lead, "POST", url, data=data)
        assert isinstance(status, int) and status < 500, (data, status)


# -- dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "start, end",
    [("0001-01-01", "0001-01-14"), ("9999-12-18", "9999-12-31"), ("1999-12-20", "2000-01-02")],
)
def test_a_sprint_far_from_today_is_refused_with_a_field_message(app, world, start, end):
    lead = as_(app, "lead")
    data = {"name": "Odd", "start_on": start, "end_on": end, "capacity_days": "10"}
    response = lead.post(f"/b/{world.board_id}/sprints", data=data)
    assert response.status_code == 422
    assert "Give a date between 1 January 2000 and 31 December 2100." in response.text
    with app.app_context():
        assert db.session.execute(db.select(Sprint).where(Sprint.name == "Odd")).first() is None


def test_a_sprint_far_from_today_already_stored_does_not_break_the_pages(app, world):
    """A row written before the form refused such dates: pages work, the lead can delete it."""
    from tracker import clock

    with app.app_context():
        odd = [
            Sprint(
                board_id=world.board_id,
                name=name,
                start_on=start,
                end_on=end,
                capacity_days=5,
                created_at=clock.now(),
            )
            for name, start, end in (
                ("Year one", date(1, 1, 1), date(1, 1, 14)),
                ("Year 9999", date(9999, 12, 18), date(9999, 12, 31)),
            )
        ]
        db.session.add_all(odd)
        db.session.commit()
        ids = [s.id for s in odd]
    lead, viewer = as_(app, "lead"), as_(app, "viewer")
    base = f"/b/{world.board_id}"
    for url in ("/sprints", "/report", "/report?until=0001-01-01", "/report?until=9999-12-31"):
        assert status_of(lead, "GET", base + url) == 200, url
    assert status_of(viewer, "GET", base + "/report") == 200
    assert status_of(lead, "GET", base + "/report.csv") == 200
    for sprint_id in ids:
        assert status_of(lead, "POST", f"{base}/sprints/{sprint_id}/delete") == 303
    with app.app_context():
        assert db.session.execute(db.select(Sprint.id).where(Sprint.id.in_(ids))).first() is None


def test_report_and_audit_dates_far_from_today_are_not_a_500(app, world):
    lead, admin = as_(app, "lead"), as_(app, "admin")
    base = f"/b/{world.board_id}"
    for value in ("0001-01-01", "9999-12-31", "0000-00-00", "2026-02-30", "²"):
        for client, url in (
            (lead, f"{base}/report?until={value}"),
            (lead, f"{base}/audit?since={value}&until={value}"),
            (admin, f"/admin/audit?since={value}&until={value}"),
            (admin, f"/admin/audit.csv?since={value}&until={value}"),
        ):
            status = status_of(client, "GET", url)
            assert isinstance(status, int) and status < 500, (url, status)
    assert expected("reports.show", "lead") == "allowed"


def test_the_id_pattern_matches_exactly_one_to_the_limit():
    import re

    from tracker.web.params import up_to

    for high in (5, 9, 10, 99, 100, 2019, 2147):
        pattern = re.compile(up_to(high))
        assert [n for n in range(0, 3000) if pattern.fullmatch(str(n))] == list(
            range(1, min(high, 2999) + 1)
        ), high
    pattern = re.compile(up_to(2**31 - 1))
    assert pattern.fullmatch(str(2**31 - 1)) and pattern.fullmatch("2147483639")
    for odd in ("0", "007", str(2**31), "2147483650", str(10**10), "²", "٣", "-1"):
        assert not pattern.fullmatch(odd), odd
