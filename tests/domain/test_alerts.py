"""Alertmanager's payload read into alerts, and what each makes of a card (plain functions)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.domain import alerts
from tracker.domain.errors import InvalidRequest
from tracker.domain.vocabulary import AlertStatus, Severity

DATA = Path(__file__).resolve().parent.parent / "data" / "alertmanager"


def recorded(name: str):
    return json.loads((DATA / name).read_text())


def test_a_firing_alert_is_read_with_its_labels_times_and_source():
    payload = alerts.parse_payload(recorded("firing.json"))
    (alert,) = payload.alerts
    assert alert.status is AlertStatus.FIRING and alert.fingerprint == "5c2d1e8f9a0b3c47"
    assert alert.labels["severity"] == "critical" and alert.name == "HighErrorRate"
    assert alert.starts_at == datetime(2026, 11, 30, 9, 12, 3, 671000, tzinfo=UTC)
    assert alert.ends_at is None  # Alertmanager's zero time: no end yet
    assert alert.generator_url.startswith("http://prometheus-0:9090/graph")
    assert payload.truncated == 0 and payload.receiver == "weatherboard"


def test_a_grouped_payload_keeps_its_alerts_in_order_and_says_how_many_were_left_out():
    payload = alerts.parse_payload(recorded("grouped.json"))
    assert [a.fingerprint for a in payload.alerts] == [
        "a1b2c3d4e5f60718",
        "0f1e2d3c4b5a6978",
        "1122334455667788",
    ]
    assert [a.status for a in payload.alerts] == [AlertStatus.FIRING] * 2 + [AlertStatus.RESOLVED]
    # Nanoseconds are cut to microseconds.
    assert payload.alerts[0].starts_at == datetime(2026, 11, 30, 8, 55, 10, 123456, tzinfo=UTC)
    assert payload.alerts[2].ends_at == datetime(2026, 11, 30, 8, 30, tzinfo=UTC)
    assert payload.truncated == 2


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda p: p.update(version="3"), "version"),
        (lambda p: p.update(alerts=[]), "alerts"),
        (lambda p: p.update(alerts="HighErrorRate"), "alerts"),
        (lambda p: p.update(truncatedAlerts=-1), "truncatedAlerts"),
        (lambda p: p["alerts"][0].update(status="pending"), "alerts[0]"),
        (lambda p: p["alerts"][0].pop("fingerprint"), "alerts[0]"),
        (lambda p: p["alerts"][0].update(fingerprint="../../etc"), "alerts[0]"),
        (lambda p: p["alerts"][0].update(labels=["a"]), "alerts[0].labels"),
        (lambda p: p["alerts"][0]["labels"].update(severity=3), "alerts[0].labels.severity"),
        (lambda p: p["alerts"][0]["labels"].update({"bad name": "x"}), "alerts[0].labels"),
        (lambda p: p["alerts"][0].update(startsAt="yesterday"), "alerts[0].startsAt"),
        (lambda p: p["alerts"][0].update(startsAt="2026-02-30T00:00:00Z"), "alerts[0].startsAt"),
        (lambda p: p["alerts"][0].update(generatorURL="x" * 3000), "alerts[0].generatorURL"),
        (lambda p: p.update(alerts=p["alerts"] * 201), "alerts"),
    ],
)
def test_a_payload_of_the_wrong_shape_is_refused_naming_the_part(change, where):
    payload = recorded("firing.json")
    change(payload)
    with pytest.raises(alerts.InvalidPayload) as refused:
        alerts.parse_payload(payload)
    assert refused.value.where == where


def test_something_that_is_not_an_object_is_refused():
    for value in (None, [], "firing", 4):
        with pytest.raises(alerts.InvalidPayload):
            alerts.parse_payload(value)


def test_the_title_is_the_summary_else_the_alert_name_on_one_bounded_line():
    payload = alerts.parse_payload(recorded("grouped.json"))
    assert alerts.title(payload.alerts[0]) == "Disk on db-2 will fill within 4 hours"
    assert alerts.title(payload.alerts[1]) == "DiskWillFillIn4Hours"  # no summary
    long = recorded("firing.json")
    long["alerts"][0]["annotations"]["summary"] = "Error\n" + "x" * 500
    title = alerts.title(alerts.parse_payload(long).alerts[0])
    assert len(title) == alerts.TITLE_LENGTH and "\n" not in title and title.endswith("…")


def test_the_description_holds_the_labels_the_annotations_and_the_source():
    (alert,) = alerts.parse_payload(recorded("firing.json")).alerts
    text = alerts.description(alert)
    assert "fingerprint 5c2d1e8f9a0b3c47" in text
    assert "Firing since 2026-11-30 09:12 UTC." in text
    assert "Source: http://prometheus-0:9090/graph" in text
    assert "  severity=critical" in text and "  instance=api-7f9c4:8080" in text
    assert "runbook_url:\nhttps://runbooks.example.com/checkout/high-error-rate" in text


def test_a_generator_url_that_is_not_a_web_address_is_left_out():
    payload = recorded("firing.json")
    payload["alerts"][0]["generatorURL"] = "javascript:alert(1)"
    (alert,) = alerts.parse_payload(payload).alerts
    assert alert.generator_url == "" and "javascript" not in alerts.description(alert)


def test_severity_critical_is_s1_anything_else_s2_unless_the_board_maps_it():
    assert alerts.severity({"severity": "critical"}) is Severity.S1
    assert alerts.severity({"severity": "warning"}) is Severity.S2
    assert alerts.severity({}) is Severity.S2
    mapping = alerts.parse_severity_map("page=S1, warning = s3\ninfo=S4")
    assert mapping == {"page": Severity.S1, "warning": Severity.S3, "info": Severity.S4}
    assert alerts.severity({"severity": "warning"}, mapping, Severity.S2) is Severity.S3
    assert alerts.severity({"severity": "critical"}, mapping, Severity.S2) is Severity.S2
    assert alerts.severity({"severity": "odd"}, mapping, Severity.S4) is Severity.S4


@pytest.mark.parametrize("text", ["critical", "critical=S9", "=S1", "critical=high"])
def test_a_severity_mapping_that_cannot_be_read_is_refused(text):
    with pytest.raises(InvalidRequest):
        alerts.parse_severity_map(text)


def test_a_repeat_with_the_same_labels_notes_nothing_and_a_change_one_line():
    before = {"alertname": "HighErrorRate", "instance": "a", "gone": "x"}
    assert alerts.labels_changed_note(before, dict(before)) is None
    note = alerts.labels_changed_note(
        before, {"alertname": "HighErrorRate", "instance": "b", "new": "y"}
    )
    assert note == "Alert fired again with changed labels: -gone; instance: a → b; +new=y"


def test_the_resolved_note_says_when_and_that_the_card_stays_open():
    (alert,) = alerts.parse_payload(recorded("resolved.json")).alerts
    note = alerts.resolved_note(alert, datetime(2026, 12, 1, tzinfo=UTC))
    assert note == "Alert resolved at 2026-11-30 09:41 UTC. The card stays open."


label_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
labels = st.dictionaries(
    st.from_regex(r"[a-z_][a-z0-9_]{0,10}", fullmatch=True), label_text, max_size=8
)


@given(labels, labels)
def test_a_labels_note_is_one_bounded_line_and_only_for_a_change(before, after):
    note = alerts.labels_changed_note(before, after)
    assert (note is None) == (before == after)
    if note is not None:
        assert "\n" not in note and len(note) <= alerts.NOTE_LENGTH


@given(st.text(max_size=400), st.text(max_size=50))
def test_any_summary_or_name_makes_a_bounded_one_line_title(summary, name):
    alert = alerts.Alert(
        AlertStatus.FIRING, "f1", {"alertname": name}, {"summary": summary}, None, None, ""
    )
    title = alerts.title(alert)
    assert 0 < len(title) <= alerts.TITLE_LENGTH and "\n" not in title
