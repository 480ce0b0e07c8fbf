"""History replay, ranks, periods, column rules, and the domain's purity."""

import ast
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tracker.domain import board_setup, history, ranks
from tracker.domain.board_setup import ColumnSpec, check_columns
from tracker.domain.errors import InvalidRequest
from tracker.domain.periods import valid_timezone, week_of


def test_replay_folds_changes_in_order():
    events = [
        history.diff({}, {"title": "A", "lane_id": 1, "column_id": 10, "blocked": False}),
        history.diff({"column_id": 10}, {"column_id": 11}),
        history.diff(
            {"blocked": False, "blocked_reason": ""}, {"blocked": True, "blocked_reason": "vendor"}
        ),
    ]
    assert history.replay(events) == {
        "title": "A",
        "lane_id": 1,
        "column_id": 11,
        "blocked": True,
        "blocked_reason": "vendor",
    }


def test_diff_only_records_tracked_fields_that_changed():
    assert history.diff({"title": "A", "rank": 1}, {"title": "A", "rank": 2}) == {}


def test_rank_between():
    assert ranks.rank_between(None, None) == ranks.STEP
    assert ranks.rank_between(None, 10.0) < 10.0
    assert ranks.rank_between(10.0, None) > 10.0
    assert 1.0 < ranks.rank_between(1.0, 2.0) < 2.0
    assert ranks.needs_respacing(1.0, 1.0 + 1e-9)
    assert ranks.spaced(3) == [1024.0, 2048.0, 3072.0]


def test_week_is_monday_to_monday_in_the_board_zone():
    # Sunday 23:30 UTC is already Monday in Berlin.
    start, end = week_of(datetime(2026, 11, 29, 23, 30, tzinfo=UTC), ZoneInfo("Europe/Berlin"))
    assert start == datetime(2026, 11, 29, 23, 0, tzinfo=UTC)
    assert (end - start).days == 7


def test_timezones():
    assert valid_timezone("Europe/Berlin")
    assert not valid_timezone("Mars/Olympus")


def defaults():
    return [ColumnSpec(kind, name) for kind, name in board_setup.DEFAULT_COLUMNS]


def test_default_columns_are_valid():
    check_columns(defaults())


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ([], "at least"),
        ([ColumnSpec("active", "Doing"), ColumnSpec("done", "Done")], "first column"),
        ([ColumnSpec("queue", "Ready"), ColumnSpec("active", "Doing")], "last column"),
        ([ColumnSpec("queue", "Ready"), ColumnSpec("done", "Done")], "active column"),
        ([ColumnSpec("queue", "A"), ColumnSpec("active", "a"), ColumnSpec("done", "D")], "same"),
        (
            [
                ColumnSpec("queue", "R"),
                ColumnSpec("active", "A"),
                ColumnSpec("queue", "Q"),
                ColumnSpec("done", "D"),
            ],
            "queue, then active",
        ),
    ],
)
def test_bad_columns_are_refused(columns, message):
    with pytest.raises(InvalidRequest, match=message):
        check_columns(columns)


def test_domain_imports_only_the_standard_library():
    allowed_prefixes = ("tracker.domain", "__future__")
    for path in Path("tracker/domain").glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                root = name.split(".")[0]
                assert name.startswith(allowed_prefixes) or root in _stdlib(), (path, name)


def _stdlib():
    import sys

    return sys.stdlib_module_names
