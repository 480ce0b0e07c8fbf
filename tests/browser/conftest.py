"""Browser fixtures: Debian's Chromium driven by Playwright against a live app on loopback.

No `playwright install`: the browser is the system's /usr/bin/chromium. When it or
Playwright is missing the browser tests skip with one line saying why; with
TRACKER_REQUIRE_BROWSER=1 (CI sets it) they fail instead.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from tests.conftest import serve_app, wipe
from tests.conftest import test_config as make_test_config
from tracker.extensions import db

CHROMIUM = "/usr/bin/chromium"
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
HERE = os.path.dirname(os.path.abspath(__file__))


def browser_required() -> bool:
    return os.environ.get("TRACKER_REQUIRE_BROWSER", "").strip() == "1"


def missing_browser(config) -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[test]')"
    if not config.pluginmanager.has_plugin("playwright"):
        return "the pytest-playwright plugin is not loaded (pip install -e '.[test]')"
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    return None


def unavailable(reason: str):
    """Skip, or fail when the run requires the browser."""
    if browser_required():
        pytest.fail(f"TRACKER_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def pytest_collection_modifyitems(config, items):
    """Mark every test in this folder `browser`."""
    for item in items:
        if str(item.path).startswith(HERE + os.sep):
            item.add_marker(pytest.mark.browser)


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
    yield from serve_app(make_test_config(url, WTF_CSRF_ENABLED=True))


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
    """An app context on the live server's database, emptied after each test."""
    with live_app.app_context():
        yield
        db.session.remove()
    wipe(live_app)
