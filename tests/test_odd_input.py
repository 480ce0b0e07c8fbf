"""Odd input answers 4xx, never 500: ids out of the database's range, digits int() refuses,
NUL and control characters, huge page numbers, extra list entries, dates far from today.

Each test walks every route or form of its kind rather than one example. They run on SQLite
and, with TRACKER_TEST_POSTGRES_URL set, on PostgreSQL (which refuses NUL in text and ids
of 2**31 and more in integer columns).
"""

from __future__ import annotations

import pytest
from werkzeug.routing import IntegerConverter

from tests.helpers import Auth
from tests.test_permissions import FILL, build_world

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


def test_the_id_pattern_matches_exactly_one_to_the_limit():
    import re

    from tracker.params import up_to

    for high in (5, 9, 10, 99, 100, 2019, 2147):
        pattern = re.compile(up_to(high))
        assert [n for n in range(0, 3000) if pattern.fullmatch(str(n))] == list(
            range(1, min(high, 2999) + 1)
        ), high
    pattern = re.compile(up_to(2**31 - 1))
    assert pattern.fullmatch(str(2**31 - 1)) and pattern.fullmatch("2147483639")
    for odd in ("0", "007", str(2**31), "2147483650", str(10**10), "²", "٣", "-1"):
        assert not pattern.fullmatch(odd), odd
