"""Schemathesis over every operation of the OpenAPI document, against the app itself (WSGI),
on SQLite and PostgreSQL (the `app` fixture's backends), with a lead's read-write token:
no answer may be a server error, and every answer must match the document (status code,
content type, body schema). Kept short (bounded examples per operation) so the suite stays
fast; the ids in a path are the board's own most of the time, so the rules behind the 404s
run too."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.helpers import REQUEST, ROLES, actor, make_board, make_card, make_user
from tracker.domain.vocabulary import TokenScope
from tracker.extensions import db
from tracker.services import alerts, intake, tokens

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = 12


@pytest.fixture
def api_world(app):
    """A board with a card in each lane and a request, people in every role, and the lead's
    token; returns what the test substitutes into paths and the headers it sends."""
    with app.app_context():
        board = make_board("Team")
        people = {role: make_user(role, board=board, role=role) for role in ROLES}
        lead = actor(people["lead"], "lead")
        card_ids = [
            make_card(board, lead, lane.kind, f"{lane.name} work").id for lane in board.lanes
        ]
        support = actor(people["support"], "support")
        filed = intake.file_request(board.id, support, REQUEST, intake.new_intake_key())
        card_ids.append(filed.card.id)
        secret = tokens.create_token(people["lead"], "fuzz", TokenScope.READ_WRITE, None).secret
        alert_secret = alerts.create_token(board.id, lead, "fuzz").token
        world = {
            "board_id": board.id,
            "card_ids": card_ids,
            # identity: the WSGI transport reads the body as sent, without decompressing it
            "headers": {"Authorization": f"Bearer {secret}", "Accept-Encoding": "identity"},
            # the Alertmanager receiver's credential: the board's alert token
            "alert_headers": {
                "Authorization": f"Bearer {alert_secret}",
                "Accept-Encoding": "identity",
            },
        }
        db.session.remove()
    return world


def operations(app) -> list:
    """Every operation of the app's OpenAPI document, as schemathesis reads it."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def documented(app) -> set[str]:
    """ "METHOD /path" of every operation in the document."""
    paths = app.test_client().get("/api/v1/openapi.json").json["paths"]
    return {f"{method.upper()} {path}" for path, ops in paths.items() for method in ops}


@pytest.mark.parametrize("mode", list(GenerationMode))
def test_every_operation_answers_as_documented(app, api_world, mode):
    """Positive cases (input the document allows) and negative ones (input it does not)."""
    found = operations(app)
    # Schemathesis leaves out the operation that serves the document it reads.
    assert {op.label for op in found} == documented(app) - {"GET /api/v1/openapi.json"}
    for operation in found:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def answers_as_documented(case):
            params = case.path_parameters or {}
            if "board_id" in params:
                params["board_id"] = api_world["board_id"]
            card = params.get("card_id")
            if isinstance(card, int) and card % 4:  # a real card three times in four
                ids = api_world["card_ids"]
                params["card_id"] = ids[card % len(ids)]
            alerting = case.operation.path.startswith("/api/v1/alerts/")
            headers = api_world["alert_headers" if alerting else "headers"]
            response = case.call(headers=headers)
            case.validate_response(response, checks=CHECKS, headers=headers)

        answers_as_documented()
