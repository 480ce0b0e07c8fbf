"""The one plain-status rule: where a request's card sits, in words a requester reads."""

import pytest

from tracker.domain.intake import PlainStatus, request_status

# Ready (queue), In progress and Review (active), Done: ids out of order on purpose.
COLUMNS = [(7, "queue"), (3, "active"), (9, "active"), (1, "done")]


@pytest.mark.parametrize(
    ("status", "column_id", "reason", "expected"),
    [
        ("open", 7, "", PlainStatus("received", "received")),
        ("open", 3, "", PlainStatus("working", "being worked on")),
        ("open", 9, "", PlainStatus("review", "in review")),
        ("open", 1, "", PlainStatus("done", "done")),
        ("done", 1, "", PlainStatus("done", "done")),
        ("closed", 3, "Duplicate: of SUP-2", PlainStatus("closed", "closed (Duplicate: of SUP-2)")),
        ("open", None, "", PlainStatus("received", "received")),
        ("open", 42, "", PlainStatus("received", "received")),
    ],
)
def test_request_status_reads_the_column_the_card_sits_in(status, column_id, reason, expected):
    assert request_status(status, column_id, COLUMNS, reason) == expected


def test_the_first_active_column_is_work_and_any_later_one_review_whatever_the_ids():
    reordered = [(7, "queue"), (9, "active"), (3, "active"), (1, "done")]
    assert request_status("open", 9, reordered).key == "working"
    assert request_status("open", 3, reordered).key == "review"
