"""Bad input on purpose: generated values posted into every form and htmx endpoint, and
generated query strings sent to every page, as every role. Never a 500, never a partial
write, never the posted markup unescaped in a page.

Seeded (SEED) and bounded (EXAMPLES, QUERY_VALUES), so a run is repeatable: the form test
took 99 s alone on SQLite on 2026-12-01 (218 s before its write check, tests.helpers.fingerprint,
read the rows on the driver's cursor). PostgreSQL (which refuses NUL in text and ids of 2**31
and more) gets fewer examples."""

from __future__ import annotations

import inspect
import random
import re
import sys
from collections import defaultdict
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from werkzeug.exceptions import MethodNotAllowed, NotFound

from tests.helpers import (
    IDENTITIES,
    Auth,
    build_world,
    expected,
    fingerprint,
    join_senders,
    url_for_rule,
)
from tracker.extensions import db
from tracker.models import Board
from tracker.services import webhooks
from tracker.web import forms
from tracker.web.access import PUBLIC, ROUTES

PAYLOADS = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>')
# Logging out takes no input and ends the session the other examples need; the permission
# walk in test_permissions posts to it.
# alerts.alertmanager reads a JSON payload, not a form, behind a bearer token: its own
# tests send it recorded, truncated and broken payloads (tests/test_alerts.py).
NOT_FUZZED = {"auth.logout", "alerts.alertmanager"}
EXAMPLES = {"sqlite": 20, "postgresql": 6}
# The odd values a query parameter gets on every route that reads it: every one on SQLite,
# every other one on PostgreSQL.
QUERY_VALUES = (
    *(str(n) for n in (2**31 - 1, 2**31, 2**63, 2**64, 10**30, -1, 0)),
    *("²", "٣", "1_0", "0001-01-01", "9999-12-31", "2026-02-30"),
    *("\x00", "a\x00b", "\x01\x1b[31m\x7f", "²:1", ""),
)
QUERY_STRIDE = {"sqlite": 1, "postgresql": 2}
SEED = 20261130
# What odd input looks like: ids past every integer column, digits int() refuses ("²") or
# takes ("٣", "1_0", " 7"), NUL and other control characters, dates at the calendar's ends
# and impossible ones, floats that are not numbers.
HOSTILE_VALUES = (
    *(str(n) for n in (2**31 - 1, 2**31, 2**63, 2**64, 10**30, -1, 0, -(2**31) - 1)),
    *("²", "¹²", "③", "٣", "1_0", " 7", "007", "1e3", "nan", "inf", "-0"),
    *("0001-01-01", "9999-12-31", "0000-00-00", "2026-02-30", "1999-12-31", "2101-01-01"),
    *("\x00", "a\x00b", "\x01\x1b[31m\x7f", "\t\r\n", "1:2", "²:1", f"{2**63}:1", ""),
)


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


def hostile():
    """The odd values above, numbers of any size, control characters, very long strings."""
    return st.one_of(
        st.sampled_from(HOSTILE_VALUES),
        st.integers(-(2**70), 2**70).map(str),
        st.text(st.characters(max_codepoint=0x9F), max_size=12),  # C0 and C1 controls
        st.builds(lambda c, n: c * n, st.sampled_from("9²\x00a<"), st.integers(200, 12_000)),
    )


def values_for(seen: set[str]):
    """Generated values for one field: what the page offers, and everything it should not."""
    anything = [
        hostile(),
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
    """Each field either left out or given a generated value; and a few fields no page
    offers: list entries past the board's (lanes-25-name) or any name at all."""
    known = st.fixed_dictionaries(
        {}, optional={name: values_for(seen) for name, seen in sorted(fields.items())}
    )
    entries = sorted(
        {
            re.sub(r"-\d+-", f"-{n}-", name)
            for name in fields
            if re.search(r"-\d+-", name)
            for n in (9, 25)
        }
    )
    names = st.one_of(st.text(max_size=12), *([st.sampled_from(entries)] if entries else []))
    extra = st.dictionaries(names, hostile(), max_size=3)
    return st.tuples(known, extra).map(lambda pair: pair[1] | pair[0])


def check_page(response, posted: str, where: str) -> None:
    assert response.status_code < 500, where
    for payload in PAYLOADS:
        if payload in posted:
            assert payload.encode() not in response.get_data(), f"unescaped in {where}"


def query_keys(module_name: str) -> list[str]:
    """What a view module reads from query strings: request.args.get("...") in its source,
    and the fields of the forms it builds from request.args."""
    source = inspect.getsource(sys.modules[module_name])
    keys = set(re.findall(r'request\.args\.get\(\s*"(\w+)"', source))
    for name in set(re.findall(r"(\w+Form)\(request\.args\)", source)):
        keys |= {n for n, value in vars(getattr(forms, name)).items() if hasattr(value, "bind")}
    return sorted(keys)


def test_generated_query_strings_never_break_a_page(app):
    """Every GET route with generated query strings, as every identity: never a 500, never
    the markup unescaped. On a route whose module reads query parameters, each parameter
    gets every odd value (one query per value, spread over the identities allowed there,
    with random keys beside); everyone else tries random keys and values."""
    with app.app_context():
        world = build_world()
        dialect = db.engine.dialect.name
        world.sprint(), world.component()
    clients = {None: app.test_client()}
    for name in IDENTITIES:
        clients[name] = app.test_client()
        assert Auth(clients[name]).login(name).status_code == 302
    pages = [r for r in app.url_map.iter_rules() if "GET" in r.methods and r.endpoint != "static"]
    assert len(pages) >= 20
    read = {
        rule.endpoint: query_keys(app.view_functions[rule.endpoint].__module__) for rule in pages
    }
    every_key = sorted(set().union(*read.values()))
    assert {"page", "q", "until", "person", "since", "count", "v"} <= set(every_key), every_key
    rng = random.Random(SEED)
    for rule in pages:
        allowed = [i for i in clients if expected(rule.endpoint, i) == "allowed"]
        keys = read[rule.endpoint]
        for n in range(0, len(QUERY_VALUES) if keys else 0, QUERY_STRIDE[dialect]):
            query = {key: QUERY_VALUES[(n + j) % len(QUERY_VALUES)] for j, key in enumerate(keys)}
            identity = allowed[n % len(allowed)]
            get_page(app, world, clients, rule, identity, query | odd_query(rng, every_key))
        for identity in clients:
            get_page(app, world, clients, rule, identity, odd_query(rng, every_key))


def odd_query(rng: random.Random, keys: list[str]) -> dict[str, str]:
    """One to three keys (known or made up) with random odd values."""
    alphabet = "".join(map(chr, range(0x20))) + "²٣9a<>&\x7f\u0085"
    makers = (
        lambda: rng.choice(HOSTILE_VALUES),
        lambda: str(rng.randint(-(2**70), 2**70)),
        lambda: "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12))),
        lambda: rng.choice("9²\x00a<") * rng.randint(200, 12_000),
        lambda: rng.choice(PAYLOADS),
    )
    query = {}
    for _ in range(rng.randint(1, 3)):
        key = rng.choice(keys) if rng.random() < 0.7 else rng.choice(makers[2:])()[:20]
        query[key] = rng.choice(makers)()
    return query


def get_page(app, world, clients, rule, identity, query) -> None:
    with app.app_context():
        url = url_for_rule(world, rule)
    htmx = len(query) % 2 == 0
    headers = {"HX-Request": "true"} if htmx else {}
    where = f"GET {url} as {identity or 'anonymous'} (htmx={htmx}) with {query!r:.300}"
    try:
        response = clients[identity].get(url, query_string=query, headers=headers)
    except Exception as error:  # tests propagate what would be a 500
        raise AssertionError(f"{where}: raised {error!r:.300}") from error
    check_page(response, "".join(query.values()), where)
    response.close()


@pytest.mark.slow
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

    @seed(SEED)
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
        join_senders()  # a sender woken by an earlier example writes after it answered
        with app.app_context():
            # Webhook deliveries the world or an earlier example queued: tried now (the
            # world's hook is refused at once), not by a sender a later commit wakes.
            webhooks.deliver_pending()
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


def test_the_fingerprint_sees_a_write_and_nothing_else(app):
    """The guard the fuzz test puts on every refused request: reading leaves the fingerprint
    as it was; a change to any one value of a row moves it (so the guard can fail)."""
    with app.app_context():
        build_world()
        before = fingerprint()
        db.session.execute(db.select(Board)).all()
        assert fingerprint() == before
        board = db.session.execute(db.select(Board)).scalars().first()
        board.name += "!"
        db.session.commit()
        assert fingerprint() != before
