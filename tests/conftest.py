"""Fixtures and run set-up.

Databases: each pytest-xdist worker (or the one process without xdist) has its own: a
SQLite file in its own temporary folder and, with TRACKER_TEST_POSTGRES_URL, a throwaway
PostgreSQL database of its own, dropped at the end. Tests share them: each test empties the
tables after itself (`app`), and no test assumes anything about rows it did not make.

What runs here: a test that needs PostgreSQL, Redis or the browser is marked so
(`postgres`, `redis`, `browser`) and is deselected, not skipped, when that part is not set
up; the run's summary says in one line per part what was left out and why. With
TRACKER_REQUIRE_BROWSER=1 the browser tests are kept and fail when Chromium is missing.

Hypothesis: under CI (or `--hypothesis-profile=ci`) the "ci" profile runs with a seed
chosen for the whole run and printed in the summary; `--hypothesis-seed=N` repeats it.
"""

from __future__ import annotations

import os
import random

import pytest
from hypothesis import HealthCheck, settings

from tests.helpers import (
    PG_URL,
    REDIS_URL,
    Auth,
    BoardSpec,
    app_config,
    browser_required,
    build_board,
    close_new_apps,
    missing_browser,
    postgres_database,
    serve_app,
    wipe,
)
from tracker.extensions import db

BACKENDS = ["sqlite", "postgres"]
BROWSER_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "browser") + os.sep

# --- What runs here --------------------------------------------------------------------

WHY_LEFT_OUT = {
    "postgres": "TRACKER_TEST_POSTGRES_URL is not set",
    "redis": "TRACKER_TEST_REDIS_URL is not set",
}
LEFT_OUT = pytest.StashKey[dict]()


def needs(item) -> set[str]:
    """The optional parts a collected test needs: "postgres" (marked so, a backend
    parameter named "postgres", or the pg_url fixture), "redis" (the redis_prefix fixture)
    and "browser" (everything in tests/browser/)."""
    parts = {name for name in ("postgres", "redis", "browser") if item.get_closest_marker(name)}
    callspec = getattr(item, "callspec", None)
    if "pg_url" in item.fixturenames or (
        callspec is not None and any(value == "postgres" for value in callspec.params.values())
    ):
        parts.add("postgres")
    if "redis_prefix" in item.fixturenames:
        parts.add("redis")
    if str(item.path).startswith(BROWSER_DIR):
        parts.add("browser")
    return parts


def unavailable_parts(config) -> dict[str, str]:
    """The optional parts this run leaves out, with the reason for each."""
    why = {}
    if not PG_URL:
        why["postgres"] = WHY_LEFT_OUT["postgres"]
    if not REDIS_URL:
        why["redis"] = WHY_LEFT_OUT["redis"]
    reason = missing_browser(config)
    if reason and not browser_required():
        why["browser"] = f"{reason}; TRACKER_REQUIRE_BROWSER=1 makes them fail instead"
    return why


def slow_here(item) -> None:
    """`@pytest.mark.slow("postgres")` is slow on the named backends only: drop the mark
    from the test's other parametrisations (a bare `slow` is slow everywhere)."""
    mark = item.get_closest_marker("slow")
    callspec = getattr(item, "callspec", None)
    if mark is None or not mark.args or callspec is None:
        return
    if not set(mark.args) & {v for v in callspec.params.values() if isinstance(v, str)}:
        item.own_markers[:] = [m for m in item.own_markers if m.name != "slow"]


def pytest_collection_modifyitems(config, items):
    """Mark each test with the optional parts it needs; deselect those this run lacks."""
    why = unavailable_parts(config)
    kept, left_out = [], []
    counts: dict[str, int] = {}
    for item in items:
        slow_here(item)
        parts = needs(item)
        for part in parts:
            item.add_marker(part)
        lacking = sorted(parts & why.keys())
        if lacking:
            left_out.append(item)
            for part in lacking:
                counts[part] = counts.get(part, 0) + 1
        else:
            kept.append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept
    config.stash[LEFT_OUT] = {part: (counts[part], why[part]) for part in counts}


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """pytest-xdist: the controller learns from a worker what its collection left out."""
    left_out = getattr(node, "workeroutput", {}).get("left_out")
    if left_out is not None:
        node.config.stash[LEFT_OUT] = left_out


def pytest_sessionfinish(session):
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # a pytest-xdist worker: tell the controller
        workeroutput["left_out"] = session.config.stash.get(LEFT_OUT, {})


def pytest_terminal_summary(terminalreporter, config):
    for part, (count, reason) in sorted(config.stash.get(LEFT_OUT, {}).items()):
        terminalreporter.write_line(f"deselected {count} tests that need {part}: {reason}")
    seed = config.stash.get(HYPOTHESIS_SEED, None)
    if seed is not None:
        terminalreporter.write_line(
            f"hypothesis: profile ci, seed {seed}; repeat with --hypothesis-seed={seed}"
        )


# --- Hypothesis --------------------------------------------------------------------------

HYPOTHESIS_SEED = pytest.StashKey[str]()


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    """Under CI (or --hypothesis-profile=ci): the "ci" profile, with one seed for the whole
    run (chosen here, passed to every xdist worker, printed in the summary) so that
    `--hypothesis-seed=N` repeats every example of the run, whichever worker ran it.

    Runs before Hypothesis's own pytest_configure, which reads the seed option. Without a
    forced seed Hypothesis seeds each test at random; Hypothesis keeps no example database
    when a seed is forced (the seed alone repeats the run), so the profile sets none.
    """
    settings.register_profile(
        "ci",
        derandomize=False,
        database=None,
        deadline=None,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    profile = config.getoption("hypothesis_profile", None)
    if profile is None and os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
        profile = "ci"
        settings.load_profile("ci")
    if profile != "ci":
        return
    if config.getoption("hypothesis_seed", None) is None:
        config.option.hypothesis_seed = str(random.SystemRandom().randrange(10**9))
    config.stash[HYPOTHESIS_SEED] = config.option.hypothesis_seed


# --- Apps and databases ------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_url():
    """A throwaway PostgreSQL database of this worker's own, dropped at the end."""
    url, drop = postgres_database()
    yield url
    drop()


@pytest.fixture(scope="session", params=BACKENDS)
def app_session(request, tmp_path_factory):
    if request.param == "postgres":
        url = request.getfixturevalue("pg_url")
    else:
        url = "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite3")
    yield from serve_app(app_config(url))


@pytest.fixture(autouse=True)
def _close_apps():
    """Close the database connections of the apps a test made with helpers.new_app."""
    yield
    close_new_apps()


@pytest.fixture
def app(app_session):
    yield app_session
    wipe(app_session)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def auth(client):
    return Auth(client)


@pytest.fixture
def ctx(app):
    """An app context for calling services directly."""
    with app.app_context():
        yield
        db.session.remove()


# --- The board ---------------------------------------------------------------------------


@pytest.fixture
def board_spec() -> BoardSpec:
    """The board a test module works on; a module describes its own by overriding this
    fixture (see helpers.BoardSpec). By default: a member, ann, and a lead, lee."""
    return BoardSpec()


@pytest.fixture
def board(app, board_spec) -> dict:
    """The board `board_spec` describes, made before the test; returns its ids (see
    helpers.build_board)."""
    with app.app_context():
        return build_board(board_spec)
