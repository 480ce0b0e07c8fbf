"""Browser fixtures: Debian's Chromium driven by Playwright against a live app on loopback.

No `playwright install`: the browser is the system's /usr/bin/chromium. When it or
Playwright is missing, tests/conftest.py deselects the browser tests and the run's summary
says why in one line; with TRACKER_REQUIRE_BROWSER=1 (CI sets it) they run and fail.

Every browser test also fails (at teardown) when any page it opened logged a console
error, threw an uncaught exception, had a request fail (refused, reset, blocked) or got a
4xx/5xx answer, for the page itself or any request it made (scripts, styles, the favicon,
htmx polls): see `_no_page_errors`. A test that deliberately provokes an error answer
says so with a narrow opt-out naming the status codes it expects, for example

    @pytest.mark.allow_status(422)   # the refused drag's 422 answer is the point

which lets those answers through, with the console lines about them (Chromium's "Failed
to load resource: ... status of 422", htmx's "Response Status Error Code 422 from ..."),
and nothing else. Two aborted requests are not errors: a link that downloads (Chromium
aborts its navigation once the download starts), and a request whose answer had come in
when the page moved on (an htmx HX-Redirect navigates away from its own finished request).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from werkzeug.serving import make_server

from tests.helpers import CHROMIUM, app_config, browser_required, missing_browser, serve_app, wipe
from tracker import database
from tracker.extensions import db

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def unavailable(reason: str):
    """Skip, or fail when the run requires the browser."""
    if browser_required():
        pytest.fail(f"TRACKER_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session", autouse=True)
def _browser_available(pytestconfig):
    """Before any Playwright fixture: skip, or fail when required, if there is no browser."""
    reason = missing_browser(pytestconfig)
    if reason is not None:
        unavailable(reason)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright's launch arguments, pointed at the system Chromium."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": ARGS}


@pytest.fixture(scope="session")
def browser(launch_browser):
    """One Chromium for the whole session; a browser that will not start skips (or fails)."""
    try:
        instance = launch_browser()
    except Exception as error:  # Playwright raises its own Error types
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        unavailable(f"Chromium did not start: {first_line}")
    yield instance
    instance.close()


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    """The app on a throwaway SQLite file, with CSRF protection ON (the real header path)."""
    url = "sqlite:///" + str(tmp_path_factory.mktemp("browser-db") / "live.sqlite3")
    yield from serve_app(app_config(url, WTF_CSRF_ENABLED=True))


@pytest.fixture(scope="session")
def live_server(live_app) -> Iterator[str]:
    """The app served by werkzeug in a thread on 127.0.0.1, any free port."""
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def live_db(live_app):
    """An app context on the live server's database, emptied after each test.

    The test's own transactions begin as reads (tracker.database.reading): one the test
    leaves open while the browser works must not hold the SQLite write lock that the live
    server's answers need (outside a request a transaction may write, so it would)."""
    with live_app.app_context(), database.reading():
        yield
        db.session.remove()
    wipe(live_app)


@dataclass
class PageErrors:
    """What went wrong in a test's pages, except the answers its allow_status marker expects."""

    allowed: frozenset[int]
    problems: list[str] = field(default_factory=list)
    # Set when the test's body has run: in teardown the database is emptied under a page
    # that may still poll (the emergency banner), and what it then gets is not the test's.
    stopped: bool = False
    downloads: set[str] = field(default_factory=set)
    answered: list = field(default_factory=list)  # requests whose answer came in

    def watch(self, context) -> None:
        """Listen to every page of a browser context (pages opened later included)."""
        context.on("console", self.console)
        context.on("weberror", self.page_error)
        context.on("requestfailed", self.request_failed)
        context.on("response", self.response)
        context.on("page", lambda page: page.on("download", self.download))

    def page_error(self, error) -> None:
        if not self.stopped:
            self.problems.append(f"page error: {error.error}")

    def console(self, message) -> None:
        if self.stopped or message.type != "error":
            return
        text = message.text
        if any(
            f"status of {code} " in text or f"Error Code {code} " in text for code in self.allowed
        ):
            return
        where = message.location.get("url", "") if message.location else ""
        self.problems.append(f"console error: {text} ({where})")

    def request_failed(self, request) -> None:
        if self.stopped:
            return
        failure = request.failure or "no reason"
        if failure == "net::ERR_ABORTED" and any(request is seen for seen in self.answered):
            return  # answered, then cut off by the page navigating away
        self.problems.append(
            f"request failed: {request.method} {request.url}: {failure} (on {page_of(request)})"
        )

    def response(self, response) -> None:
        self.answered.append(response.request)
        if not self.stopped and response.status >= 400 and response.status not in self.allowed:
            request = response.request
            self.problems.append(f"{response.status} answer: {request.method} {response.url}")

    def download(self, download) -> None:
        # Chromium reports a link that downloads as a request it aborted (net::ERR_ABORTED).
        self.downloads.add(download.url)

    def found(self) -> list[str]:
        return [
            problem
            for problem in self.problems
            if not (
                problem.startswith("request failed: ")
                and "net::ERR_ABORTED" in problem
                and any(f" {url}: " in problem for url in self.downloads)
            )
        ]


def page_of(request) -> str:
    """The address of the page a request was made for, to say which page lost it."""
    try:
        return request.frame.url or "a blank page"
    except Exception:  # a request of a worker, or of a frame already gone
        return "a page already gone"


PAGE_ERRORS = pytest.StashKey["PageErrors"]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    """After the test's body: its pages' errors are counted up to here, not in teardown."""
    yield
    errors = item.stash.get(PAGE_ERRORS, None)
    if errors is not None:
        errors.stopped = True


@pytest.fixture(autouse=True)
def _no_page_errors(request, monkeypatch) -> Iterator[None]:
    """Fail a browser test whose pages logged a console error, threw, lost a request or got
    a 4xx/5xx answer (see the module docstring for the allow_status opt-out).

    Every context the test opens through the session's browser is watched: pytest-playwright's
    `context`/`page` fixtures and a test's own browser.new_context() alike.
    """
    if "browser" not in request.fixturenames:
        yield
        return
    marker = request.node.get_closest_marker("allow_status")
    errors = PageErrors(frozenset(marker.args) if marker else frozenset())
    browser = request.getfixturevalue("browser")
    original = browser.new_context

    def new_context(*args, **kwargs):
        context = original(*args, **kwargs)
        errors.watch(context)
        return context

    monkeypatch.setattr(browser, "new_context", new_context)
    request.node.stash[PAGE_ERRORS] = errors
    yield
    found = errors.found()
    if found:
        pytest.fail(
            "The page had errors:\n  "
            + "\n  ".join(found)
            + "\n(a test that provokes an error answer on purpose: @pytest.mark.allow_status)",
            pytrace=False,
        )
