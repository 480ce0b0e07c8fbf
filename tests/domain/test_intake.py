"""Support intake rules: where a request goes, where it ranks, and its status in words."""

import pytest

from tracker.domain import intake
from tracker.domain.errors import InvalidRequest


def test_severity_order_and_unknowns_last():
    assert [intake.priority(s) for s in ("S1", "S2", "S3", "S4")] == [0, 1, 2, 3]
    assert intake.priority(None) == intake.priority("") == intake.priority("S9") == 4


def test_s1_goes_to_expedite_and_the_rest_to_support():
    assert intake.lane_kind_for("S1") == "expedite"
    assert {intake.lane_kind_for(s) for s in ("S2", "S3", "S4")} == {"support"}
    with pytest.raises(InvalidRequest, match="S1 to S4"):
        intake.lane_kind_for("S5")


@pytest.mark.parametrize(
    ("queue", "severity", "after"),
    [
        ([], "S2", 0),
        ([(1, "S3"), (2, "S4")], "S2", 0),  # above everything less urgent
        ([(1, "S2"), (2, "S3"), (3, "S4")], "S2", 1),  # below the older S2
        ([(1, "S2"), (2, "S3"), (3, "S4")], "S3", 2),
        ([(1, "S2"), (2, "S3"), (3, "S4")], "S4", 3),
        ([(1, "S2"), (2, None), (3, "S3")], "S3", 3),  # cards without severity count lowest
        ([(1, None), (2, None)], "S4", 0),
        ([(1, "S3"), (2, "S2"), (3, "S4")], "S2", 2),  # a hand-made order is respected
        ([(1, "S1"), (2, "S1")], "S1", 2),
    ],
)
def test_a_new_request_goes_after_every_card_as_urgent_or_more(queue, severity, after):
    assert intake.slot_after(queue, severity) == after


@pytest.mark.parametrize(
    ("status", "kind", "index", "key", "label"),
    [
        ("open", "queue", None, "received", "received"),
        ("open", "active", 0, "working", "being worked on"),
        ("open", "active", 1, "review", "in review"),
        ("open", "active", 2, "review", "in review"),
        ("open", "done", None, "done", "done"),
        ("done", "done", None, "done", "done"),
        ("closed", "queue", None, "closed", "closed (Won't do: out of scope)"),
    ],
)
def test_plain_status(status, kind, index, key, label):
    reason = "Won't do: out of scope" if status == "closed" else ""
    assert intake.plain_status(status, kind, index, reason) == intake.PlainStatus(key, label)


def test_component_names():
    assert intake.clean_component_name("  Mobile \t app ", ["Checkout"]) == "Mobile app"
    for name, message in (
        ("", "Give the component a name."),
        ("x" * 81, "at most 80"),
        ("OTHER", "Other is always offered"),
        ("checkout", "Checkout is already in the list."),
    ):
        with pytest.raises(InvalidRequest, match=message):
            intake.clean_component_name(name, ["Checkout"])
    with pytest.raises(InvalidRequest, match="at most 100 components"):
        intake.clean_component_name("One more", [f"c{i}" for i in range(100)])


def test_a_request_names_a_listed_component_or_other():
    assert intake.check_component("Checkout", ["Checkout"]) == "Checkout"
    assert intake.check_component("Other", []) == "Other"
    with pytest.raises(InvalidRequest, match="from the list"):
        intake.check_component("checkout", ["Checkout"])


def test_visibility_and_first_names():
    assert intake.check_visibility("reply") == "reply"
    with pytest.raises(InvalidRequest):
        intake.check_visibility("public")
    assert intake.first_name("Sam Support Person") == "Sam"
    assert intake.first_name("  ") == ""


def test_a_status_token_is_derived_from_the_seed_and_the_secret_alone():
    token = intake.status_token("secret", "seed-1")
    assert token == intake.status_token(b"secret", "seed-1")  # the sender gets it again
    assert (
        len(
            {token, intake.status_token("other", "seed-1"), intake.status_token("secret", "seed-2")}
        )
        == 3
    )
    assert "seed-1" not in token and len(token) == 43 and token.isascii()
