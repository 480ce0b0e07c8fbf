"""Alerts from monitoring: Prometheus Alertmanager's webhook receiver.

POST /api/v1/alerts/alertmanager with `Authorization: Bearer <board alert token>` and the
webhook payload (version 4). The token is the only credential (no session, no CSRF token:
the blueprint is CSRF-exempt), it names the board, and every answer is JSON, errors
included: {"error": <code>, "message": <words>}.
"""

from __future__ import annotations

import json

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from tracker import observability
from tracker.domain import alerts as alert_rules
from tracker.domain.errors import DomainError
from tracker.services import alerts
from tracker.web import ratelimit
from tracker.web.access import client_address
from tracker.web.api import spec
from tracker.web.api.schemas import AlertmanagerPayload, AlertsReceived
from tracker.web.errors import PLAIN, refusal

bp = Blueprint("alerts", __name__, url_prefix="/api/v1/alerts")

# The largest payload read, in bytes: 200 alerts with full labels fit well under it.
MAX_BYTES = 512 * 1024
RATE_SCOPE = "alert-token"


def _error(status: int, code: str, message: str, **extra):
    response = jsonify({"error": code, "message": message, **extra})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="weatherboard-alerts"'
    return response


def _bearer() -> str:
    scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


@bp.post("/alertmanager")
def alertmanager():
    """Each firing alert opens (or adds to) an Expedite card of the token's board."""
    token = alerts.token_in_use(_bearer())
    if token is None:
        return _error(401, "unauthorized", "Send a board's alert token as a Bearer token.")
    if not ratelimit.allow(RATE_SCOPE, str(token.id), current_app.config["ALERT_RATE"]):
        return _error(429, "rate_limited", "Too many posts with this token; wait a minute.")
    if not request.mimetype.endswith("json"):
        return _error(415, "unsupported_media_type", "Send the payload as application/json.")
    length = request.content_length
    if length is not None and length > MAX_BYTES:
        return _error(413, "too_large", f"The payload is larger than {MAX_BYTES} bytes.")
    raw = request.stream.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        return _error(413, "too_large", f"The payload is larger than {MAX_BYTES} bytes.")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return _error(400, "bad_json", "The body is not JSON.")
    try:
        payload = alert_rules.parse_payload(data)
    except alert_rules.InvalidPayload as invalid:
        observability.note_error(invalid)
        return _error(422, "invalid_payload", invalid.message, where=invalid.where)
    result = alerts.receive(token.board_id, token.id, payload, client_address())
    return jsonify(result.as_json(payload.truncated))


spec.declare(
    "alerts.alertmanager",
    "POST",
    summary="Receive Alertmanager's webhook: each firing alert opens an Expedite card",
    tag="alerts",
    answer=AlertsReceived,
    body=AlertmanagerPayload,
    errors=(400, 401, 413, 415, 422, 429),
    description=(alertmanager.__doc__ or "").strip(),
    security=spec.ALERTS,
)


@bp.errorhandler(DomainError)
def refused(error: DomainError):
    """A rule refused the alert (a board without an Expedite lane): JSON, never a page."""
    return _error(refusal(error), "refused", error.message)


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException):
    """Any HTTP error in this blueprint answers JSON too."""
    observability.note_error(error)
    status = error.code or 500
    return _error(status, "http_" + str(status), PLAIN.get(status, error.description or ""))
