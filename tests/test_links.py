"""Every link on every page, as every role: a link to something that is not a page (a CSV,
an attachment, /metrics) must not be boosted by htmx (`<body hx-boost="true">`), or htmx
fetches it and swaps its text in place of the page instead of the browser downloading it.

The walk starts at the boards list and follows every same-site link (a few of each kind of
URL), on the demo board, which has every kind of page and data.
"""

from __future__ import annotations

from collections import defaultdict, deque
from urllib.parse import parse_qsl, urljoin, urlsplit

import pytest

from tests.html_tree import Element, parse
from tracker import demo

# A person of each board role, and a site admin without a membership (see demo.PEOPLE).
PEOPLE = ("lead", "mia", "sam", "vic", "admin")
PER_KIND = 2  # pages of one kind (endpoint and query keys) walked; their links all checked
HTMX_VERBS = ("hx-get", "hx-post", "hx-put", "hx-patch", "hx-delete")


@pytest.fixture
def demo_site(app):
    with app.app_context():
        demo.seed(weeks=4)
    return app


def links(page: Element):
    """(href, boosted?, has a download attribute) of every <a href> in the page, with
    htmx's rule for boosting: the nearest hx-boost (the link's own or an ancestor's) is
    "true", the link makes no htmx request of its own, and it leaves neither page nor site."""

    def walk(element: Element, boost: str | None):
        boost = element.attrs.get("hx-boost", boost)
        href = element.attrs.get("href")
        if element.tag == "a" and href is not None:
            own_request = any(verb in element.attrs for verb in HTMX_VERBS)
            elsewhere = href.startswith(("#", "mailto:")) or urlsplit(href).netloc
            blank = element.attrs.get("target") == "_blank"
            boosted = boost == "true" and not (own_request or elsewhere or blank)
            yield href, boosted, "download" in element.attrs
        for child in element.children:
            if isinstance(child, Element):
                yield from walk(child, boost)

    yield from walk(page, None)


def kind_of(app, url: str) -> tuple[str, tuple[str, ...]]:
    """A URL's kind: its endpoint and the names of its query parameters."""
    parts = urlsplit(url)
    adapter = app.url_map.bind("localhost")
    try:
        endpoint, _ = adapter.match(parts.path, method="GET")
    except Exception:  # a redirect or a 404/405 from routing: its path is its kind
        endpoint = parts.path
    return endpoint, tuple(sorted({k for k, _ in parse_qsl(parts.query)}))


@pytest.mark.slow("postgres")
def test_no_boosted_link_leads_to_something_that_is_not_a_page(demo_site):
    app = demo_site
    wrong: list[str] = []
    checked_kinds: set[tuple] = set()
    for username in PEOPLE:
        client = app.test_client()
        answer = client.post("/login", data={"username": username, "password": demo.DEMO_PASSWORD})
        assert answer.status_code in (302, 303), f"{username} could not log in"
        content_types: dict[str, str] = {}
        walked: dict[tuple, int] = defaultdict(int)
        queue: deque[str] = deque(["/"])
        seen: set[str] = {"/"}
        while queue:
            url = queue.popleft()
            with client.get(url, follow_redirects=True) as answer:
                content_types[url] = answer.mimetype
                if answer.mimetype != "text/html" or answer.status_code != 200:
                    continue
                html = answer.text
            for href, boosted, download in links(parse(html)):
                target = urljoin(url, href)
                parts = urlsplit(target)
                if parts.netloc not in ("", "localhost"):
                    continue
                target = parts.path + (f"?{parts.query}" if parts.query else "")
                kind = kind_of(app, target)
                if target not in content_types:
                    with client.get(target, follow_redirects=True) as answer:
                        content_types[target] = answer.mimetype
                mimetype = content_types[target]
                checked_kinds.add(kind)
                if boosted and (download or mimetype != "text/html"):
                    wrong.append(f"{username} on {url}: {href} ({mimetype}) is boosted")
                if mimetype == "text/html" and target not in seen and walked[kind] < PER_KIND:
                    walked[kind] += 1
                    seen.add(target)
                    queue.append(target)
    # The walk reached the pages the downloads are on (a guard against walking nothing).
    endpoints = {kind[0] for kind in checked_kinds}
    assert {"reports.export", "audit.export_board", "audit.export_all"} <= endpoints, endpoints
    assert wrong == [], "\n".join(wrong)
