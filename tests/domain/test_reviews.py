"""The post-incident review (domain.reviews): sections, written, late, titles, Markdown."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.domain.errors import InvalidRequest
from tracker.domain.reviews import (
    SECTION_KEYS,
    Action,
    Line,
    add_working_days,
    check_sections,
    check_title,
    is_late,
    is_written,
    markdown,
    permanent_fix_title,
    review_due,
)

UTC_ZONE = ZoneInfo("UTC")
FRIDAY = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)


def test_a_review_is_written_once_every_section_says_something():
    full = dict.fromkeys(SECTION_KEYS, "something")
    assert is_written(full)
    assert not is_written(full | {"impact": "  "})
    assert check_sections({"impact": "  long outage "})["impact"] == "long outage"
    with pytest.raises(InvalidRequest, match="Impact"):
        check_sections({"impact": "x" * 10_001})


def test_five_working_days_skip_the_weekend():
    assert add_working_days(date(2026, 11, 27), 5) == date(2026, 12, 4)  # Fri -> next Fri
    assert review_due(FRIDAY, UTC_ZONE) == date(2026, 12, 4)
    assert not is_late(FRIDAY, None, FRIDAY + timedelta(days=7), UTC_ZONE)
    assert is_late(FRIDAY, None, FRIDAY + timedelta(days=8), UTC_ZONE)
    assert not is_late(FRIDAY, FRIDAY + timedelta(days=7), FRIDAY + timedelta(days=30), UTC_ZONE)
    assert is_late(FRIDAY, FRIDAY + timedelta(days=8), FRIDAY + timedelta(days=8), UTC_ZONE)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)), st.integers(0, 30))
def test_working_days_land_on_a_weekday_with_the_right_count_between(day, count):
    end = add_working_days(day, count)
    between = [day + timedelta(days=i) for i in range(1, (end - day).days + 1)]
    assert sum(1 for d in between if d.weekday() < 5) == count
    assert count == 0 or end.weekday() < 5


def test_titles():
    assert permanent_fix_title(" rolled  back ") == "Make the temporary fix permanent: rolled back"
    assert permanent_fix_title("") == "Make the temporary fix permanent"
    assert len(permanent_fix_title("x" * 500)) == 200
    assert check_title("  Alert   on 502s ") == "Alert on 502s"
    with pytest.raises(InvalidRequest, match="Give the follow-up a title"):
        check_title(" ")


def test_the_markdown_holds_every_section_the_actions_and_the_timeline():
    text = markdown(
        "Post-incident review: EXP-1 Checkout",
        ["Opened 2026-11-30 14:00 UTC"],
        ["Mia"],
        {"what_happened": "It broke."},
        [Action("SUP-9", "Alert on 502s", "Done", True), Action("FEAT-2", "Fix", "Ready", False)],
        [Line("2026-11-30 14:02", "Mia", "pulled it")],
    )
    assert text.startswith("# Post-incident review: EXP-1 Checkout\n")
    assert "## What happened\n\nIt broke." in text
    assert "## Impact\n\n_Who was affected" in text  # an empty section shows its prompt
    assert "- [x] SUP-9 Alert on 502s (Done)" in text and "- [ ] FEAT-2 Fix (Ready)" in text
    assert "- 2026-11-30 14:02 · Mia: pulled it" in text
