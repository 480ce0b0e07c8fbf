"""Alerts from monitoring: Prometheus Alertmanager's webhook payload (version 4) read into
plain alerts, and what each one makes of an Expedite card (title, description, severity,
the notes a repeat or a resolution adds).

Everything here takes plain values: the service (tracker.services.alerts) holds the board
lock, finds the open card of a fingerprint and writes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tracker.domain.errors import InvalidRequest
from tracker.domain.vocabulary import AlertStatus, Severity

VERSION = "4"  # the webhook payload version Alertmanager has sent since 0.x (and still does)
MAX_ALERTS = 200  # alerts in one payload (Alertmanager's max_alerts is 0 = all by default)
MAX_LABELS = 64  # labels or annotations of one alert
KEY_LENGTH = 128
VALUE_LENGTH = 2_000
URL_LENGTH = 2_000
TITLE_LENGTH = 200  # the card's title column
DESCRIPTION_LENGTH = 10_000  # the longest description intake takes
NOTE_LENGTH = 500  # a repeat's one-line note
FINGERPRINT = re.compile(r"[A-Za-z0-9]{1,64}")
LABEL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
SEVERITY_LABEL = "severity"
# Alertmanager's "no end yet" time, sent as endsAt of a firing alert.
NO_END = datetime(1, 1, 1, tzinfo=UTC)
# label value -> severity, unless the board sets its own; anything else is DEFAULT_SEVERITY.
DEFAULT_MAP: Mapping[str, Severity] = {"critical": Severity.S1}
DEFAULT_SEVERITY = Severity.S2
ALERT_SEVERITIES = (Severity.S1, Severity.S2, Severity.S3, Severity.S4)


class InvalidPayload(InvalidRequest):
    """The payload is not an Alertmanager webhook of version 4; `where` names the part."""

    def __init__(self, message: str, where: str = "") -> None:
        super().__init__(message)
        self.where = where


@dataclass(frozen=True)
class Alert:
    """One alert of a payload, checked."""

    status: AlertStatus
    fingerprint: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime | None
    ends_at: datetime | None
    generator_url: str

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "")


@dataclass(frozen=True)
class Payload:
    """A checked payload: its alerts in the order sent, and how many Alertmanager left out
    (truncatedAlerts: more alerts than its max_alerts setting)."""

    alerts: tuple[Alert, ...]
    truncated: int
    receiver: str


def _text(value: Any, where: str, limit: int) -> str:
    if not isinstance(value, str):
        raise InvalidPayload(f"{where} must be a string.", where)
    if len(value) > limit:
        raise InvalidPayload(f"{where} is longer than {limit} characters.", where)
    return value.replace("\x00", "")


def _pairs(value: Any, where: str, *, names: bool) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidPayload(f"{where} must be an object of strings.", where)
    if len(value) > MAX_LABELS:
        raise InvalidPayload(f"{where} has more than {MAX_LABELS} entries.", where)
    found = {}
    for key, item in value.items():
        key = _text(key, f"{where} name", KEY_LENGTH)
        if names and not LABEL_NAME.fullmatch(key):
            raise InvalidPayload(f"{where} has a name that is not a label name: {key!r}.", where)
        found[key] = _text(item, f"{where}.{key}", VALUE_LENGTH)
    return found


def parse_time(value: Any, where: str) -> datetime | None:
    """An RFC 3339 time as Alertmanager writes it (nanoseconds included), in UTC; None for
    a missing one or Alertmanager's zero time."""
    if value in (None, ""):
        return None
    text = _text(value, where, 64)
    match = re.fullmatch(
        r"(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", text
    )
    if not match:
        raise InvalidPayload(f"{where} is not a time such as 2026-11-30T12:00:00Z.", where)
    day, clock, fraction, zone = match.groups()
    micro = (fraction or ".0")[1:7].ljust(6, "0")
    zone = "+00:00" if zone in ("Z", "z") else zone
    try:
        at = datetime.fromisoformat(f"{day}T{clock}.{micro}{zone}").astimezone(UTC)
    except ValueError:
        raise InvalidPayload(f"{where} is not a real time.", where) from None
    return None if at <= NO_END else at


def parse_payload(data: Any) -> Payload:
    """Check a decoded JSON payload's shape and read its alerts; InvalidPayload names the
    first part that is wrong."""
    if not isinstance(data, dict):
        raise InvalidPayload("The payload must be a JSON object.")
    if str(data.get("version", "")) != VERSION:
        raise InvalidPayload(f'Only Alertmanager webhook version "{VERSION}" is read.', "version")
    alerts = data.get("alerts")
    if not isinstance(alerts, list) or not alerts:
        raise InvalidPayload("alerts must be a list of at least one alert.", "alerts")
    if len(alerts) > MAX_ALERTS:
        raise InvalidPayload(f"At most {MAX_ALERTS} alerts in one payload.", "alerts")
    truncated = data.get("truncatedAlerts", 0)
    if not isinstance(truncated, int) or isinstance(truncated, bool) or truncated < 0:
        raise InvalidPayload("truncatedAlerts must be a whole number.", "truncatedAlerts")
    receiver = _text(data.get("receiver") or "", "receiver", KEY_LENGTH)
    return Payload(
        tuple(_alert(a, f"alerts[{i}]") for i, a in enumerate(alerts)), truncated, receiver
    )


def _alert(value: Any, where: str) -> Alert:
    if not isinstance(value, dict):
        raise InvalidPayload(f"{where} must be an object.", where)
    try:
        status = AlertStatus(value.get("status"))
    except ValueError:
        raise InvalidPayload(f"{where}.status must be firing or resolved.", where) from None
    fingerprint = value.get("fingerprint")
    if not isinstance(fingerprint, str) or not FINGERPRINT.fullmatch(fingerprint):
        raise InvalidPayload(f"{where}.fingerprint is missing or not a fingerprint.", where)
    labels = _pairs(value.get("labels"), f"{where}.labels", names=True)
    annotations = _pairs(value.get("annotations"), f"{where}.annotations", names=False)
    url = _text(value.get("generatorURL") or "", f"{where}.generatorURL", URL_LENGTH)
    if url and not url.lower().startswith(("http://", "https://")):
        url = ""  # only a web address is worth showing as a link
    return Alert(
        status,
        fingerprint,
        labels,
        annotations,
        parse_time(value.get("startsAt"), f"{where}.startsAt"),
        parse_time(value.get("endsAt"), f"{where}.endsAt"),
        url,
    )


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _bounded(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def title(alert: Alert) -> str:
    """The card's title: the summary annotation, else the alert's name, on one line."""
    text = _one_line(alert.annotations.get("summary", "")) or _one_line(alert.name)
    return _bounded(text or f"Alert {alert.fingerprint}", TITLE_LENGTH)


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _label_lines(labels: Mapping[str, str]) -> list[str]:
    return [f"  {key}={_one_line(value)}" for key, value in sorted(labels.items())]


def description(alert: Alert) -> str:
    """The card's description: what fired, its labels, annotations and where it came from."""
    lines = [f"Opened by an Alertmanager alert (fingerprint {alert.fingerprint})."]
    if alert.starts_at is not None:
        lines.append(f"Firing since {_stamp(alert.starts_at)}.")
    if alert.generator_url:
        lines.append(f"Source: {alert.generator_url}")
    extra = {k: v for k, v in alert.annotations.items() if k != "summary"}
    for key, value in sorted(extra.items()):
        lines += ["", f"{key}:", value.strip()]
    lines += ["", "Labels:", *_label_lines(alert.labels)]
    return _bounded("\n".join(lines), DESCRIPTION_LENGTH)


def parse_severity_map(text: str) -> dict[str, Severity]:
    """A board's mapping from the `severity` label's value to a card severity, written
    "critical=S1, page=S1, warning=S2" (commas or new lines between pairs)."""
    found: dict[str, Severity] = {}
    for part in re.split(r"[,\n]", text or ""):
        part = part.strip()
        if not part:
            continue
        value, sep, severity = part.partition("=")
        value, severity = value.strip(), severity.strip().upper()
        if not sep or not value or len(value) > KEY_LENGTH:
            raise InvalidRequest(
                f"Write each pair as label value = severity, e.g. critical=S1; not {part[:40]!r}."
            )
        if severity not in ALERT_SEVERITIES:
            raise InvalidRequest(f"{severity[:10] or 'Nothing'} is not a severity: use S1 to S4.")
        found[value] = Severity(severity)
    if len(found) > MAX_LABELS:
        raise InvalidRequest(f"At most {MAX_LABELS} pairs.")
    return found


def format_severity_map(mapping: Mapping[str, str]) -> str:
    return ", ".join(f"{value}={severity}" for value, severity in mapping.items())


def severity(
    labels: Mapping[str, str],
    mapping: Mapping[str, str] | None = None,
    default: str = DEFAULT_SEVERITY,
) -> Severity:
    """The card's severity from the alert's `severity` label, through the board's mapping
    (critical -> S1 unless the board says otherwise), else the default (S2)."""
    mapping = DEFAULT_MAP if mapping is None else mapping
    value = labels.get(SEVERITY_LABEL, "")
    found = mapping.get(value) or mapping.get(value.lower()) or default
    return Severity(found)


def labels_changed_note(before: Mapping[str, str], after: Mapping[str, str]) -> str | None:
    """The one-line note a repeat of an alert adds when its labels changed (None: they did
    not, and a repeat adds nothing)."""
    if dict(before) == dict(after):
        return None
    parts = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if old is None:
            parts.append(f"+{key}={_one_line(new or '')}")
        elif new is None:
            parts.append(f"-{key}")
        else:
            parts.append(f"{key}: {_one_line(old)} → {_one_line(new)}")
    return _bounded("Alert fired again with changed labels: " + "; ".join(parts), NOTE_LENGTH)


def refired_note(alert: Alert) -> str:
    """The note when an alert fires again after it was resolved, while its card is open."""
    since = f" since {_stamp(alert.starts_at)}" if alert.starts_at else ""
    return f"Alert firing again{since}."


def resolved_note(alert: Alert, received_at: datetime) -> str:
    """The note a resolved alert adds ("alert resolved at …"); the card stays open."""
    return f"Alert resolved at {_stamp(alert.ends_at or received_at)}. The card stays open."
