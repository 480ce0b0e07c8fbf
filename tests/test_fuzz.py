"""Bad input on purpose: generated values posted into every form and htmx endpoint as every
role. Never a 500, never a partial write, never the posted markup unescaped in a page."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from html.parser import HTMLParser
from urllib.parse import urlsplit

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.exceptions import MethodNotAllowed, NotFound

from tests.helpers import Auth
from tests.test_permissions import IDENTITIES, build_world, expected, url_for_rule
from tracker.access import PUBLIC, ROUTES
from tracker.extensions import db

PAYLOADS = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>')
# Left out of the "a refused request wrote nothing" fingerprint: the audit log records
# refusals too (a failed login is audited; append-only, with its own tests), and the report
# page re-rendered with a 422 fills its cache of computed periods (derived data).
NOT_FINGERPRINTED = ("audit", "report_period_cache")
# Logging out takes no input and ends the session the other examples need; the permission
# walk in test_permissions posts to it.
NOT_FUZZED = {"auth.logout"}
EXAMPLES = {"sqlite": 20, "postgresql": 6}


class FormFields(HTMLParser):
    """Every POST form's action and the names (and offered values) of its fields."""

    def __init__(self):
        super().__init__()
        self.forms: list[tuple[str, dict[str, set[str]]]] = []
        self._current: dict[str, set[str]] | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            action = attrs.get("hx-post") or attrs.get("action")
            if (attrs.get("method") or "get").lower() == "post" or attrs.get("hx-post"):
                self._current = defaultdict(set)
                self.forms.append((action or "", self._current))
            else:
                self._current = None
        elif self._current is not None and tag in ("input", "textarea", "select"):
            name = attrs.get("name")
            if name:
                values = self._current[name]
                if attrs.get("value") is not None:
                    values.add(attrs["value"])
                self._select = name if tag == "select" else None
        elif self._current is not None and tag == "option" and self._select:
            self._current[self._select].add(attrs.get("value") or "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None
        elif tag == "select":
            self._select = None


def collect_forms(app, world) -> dict[str, dict[str, set[str]]]:
    """GET every page as lead, admin, support and anonymous; gather each POST endpoint's
    fields from the forms that post to it."""
    adapter = app.url_map.bind("localhost")
    fields: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    clients = [app.test_client()]
    for name in ("lead", "admin", "support"):
        client = app.test_client()
        Auth(client).login(name)
        clients.append(client)
    pages = [r for r in app.url_map.iter_rules() if "GET" in r.methods and r.endpoint != "static"]
    for rule in pages:
        for client in clients:
            with app.app_context():
                url = url_for_rule(world, rule)
            response = client.get(url)
            if "html" not in response.content_type:
                continue
            parser = FormFields()
            parser.feed(response.text)
            for action, form in parser.forms:
                path = urlsplit(action).path or urlsplit(url).path
                try:
                    endpoint, _ = adapter.match(path, method="POST")
                except (NotFound, MethodNotAllowed):
                    continue
                for field, values in form.items():
                    fields[endpoint][field] |= values
    return fields


def fingerprint() -> str:
    """Every row of every table (bar NOT_FINGERPRINTED), hashed: the test database is small."""
    digest = hashlib.sha256()
    for table in db.metadata.sorted_tables:
        if table.name.startswith(NOT_FINGERPRINTED):
            continue
        rows = db.session.execute(select(table).order_by(*table.primary_key.columns)).all()
        digest.update(repr((table.name, rows)).encode())
    db.session.rollback()
    return digest.hexdigest()


def values_for(seen: set[str]):
    """Generated values for one field: what the page offers, and everything it should not."""
    anything = [
        st.just(""),
        st.text(st.characters(codec="utf-8"), max_size=30),  # NUL and every plane
        st.sampled_from(PAYLOADS),
        st.tuples(st.text(max_size=8), st.sampled_from(PAYLOADS), st.text(max_size=8)).map("".join),
        st.integers(-(2**70), 2**70).map(str),
        st.floats().map(str),  # nan, inf, -0.0, 1e+300
        st.builds(lambda c, n: c * n, st.characters(codec="utf-8"), st.integers(200, 12_000)),
    ]
    if seen:  # half the time what the page offers, so valid forms get through too
        return st.one_of(st.sampled_from(sorted(seen)), st.one_of(anything))
    return st.one_of(anything)


def form_data(fields: dict[str, set[str]]):
    """Each field either left out or given a generated value."""
    return st.fixed_dictionaries(
        {}, optional={name: values_for(seen) for name, seen in sorted(fields.items())}
    )


def check_page(response, posted: str, where: str) -> None:
    assert response.status_code < 500, where
    for payload in PAYLOADS:
        if payload in posted:
            assert payload not in response.get_data(as_text=True), f"unescaped in {where}"


def test_generated_input_never_breaks_a_form(app):
    with app.app_context():
        world = build_world()
        dialect = db.engine.dialect.name
        world.sprint(), world.component()  # so the pages show their edit and remove forms
    forms = collect_forms(app, world)
    every_field = defaultdict(set)
    for fields in forms.values():
        for name, seen in fields.items():
            every_field[name] |= seen
    clients = {None: app.test_client()}
    for name in IDENTITIES:
        clients[name] = app.test_client()
        assert Auth(clients[name]).login(name).status_code == 302
    targets = [
        rule
        for rule in app.url_map.iter_rules()
        if "POST" in rule.methods and rule.endpoint not in NOT_FUZZED
    ]
    assert len(targets) >= 10

    for rule in targets:
        # A POST endpoint no page offers a form for gets every field name seen anywhere.
        fields = forms.get(rule.endpoint) or every_field
        fuzz(app, world, clients, rule, fields, EXAMPLES[dialect])


def fuzz(app, world, clients, rule, fields, examples) -> None:
    """Post generated forms to one endpoint, mostly as people allowed to use it."""
    allowed = [i for i in clients if expected(rule.endpoint, i) == "allowed"]
    if ROUTES[rule.endpoint] == PUBLIC:
        allowed = [None]  # the login form is for people not yet signed in

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        identity=st.one_of(st.sampled_from(allowed), st.sampled_from(list(clients))),
        htmx=st.booleans(),
        data=form_data(fields),
    )
    def post(identity, htmx, data):
        client = clients[identity]
        with app.app_context():
            url = url_for_rule(world, rule)
            before = fingerprint()
        headers = {"HX-Request": "true"} if htmx else {}
        response = client.post(url, data=data, headers=headers)
        where = f"POST {url} as {identity or 'anonymous'} (htmx={htmx}) with {data!r:.300}"
        posted = "".join(data.values())
        check_page(response, posted, where)
        if not 200 <= response.status_code < 400:
            with app.app_context():
                assert fingerprint() == before, f"refused ({response.status_code}), wrote: {where}"
        location = response.headers.get("Location", "")
        if response.status_code in (301, 302, 303) and location.startswith("/"):
            check_page(client.get(location), posted, f"the page after {where}")

    post()
