"""The API's one registry: a route declares itself here (`operation`), once, with the
pydantic models of its query, body and answer, and the OpenAPI 3.1 document is built from
the registry and the app's URL map (`document`). pydantic v2 writes JSON Schema 2020-12,
which OpenAPI 3.1 takes as it is.

Any blueprint's routes can declare themselves the same way:

    @operation(bp, "/boards/<int:board_id>/things", "POST", body=NewThing, answer=Thing,
               status=201, summary="Make a thing", tag="things")
    def make_thing(board_id: int, body: NewThing) -> Thing: ...

The decorator adds the URL rule to the blueprint, parses and validates the JSON body
(`body=`) and the query string (`query=`) into the models (bad input: 422 with a message per
field), and turns the view's answer (a model, or (model, status)) into JSON, with an ETag on
reads (304 for a matching If-None-Match).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, current_app, request
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema

from tracker.web.params import ID_MAX

JSON = "application/json"
VERSION = "1.0.0"
BEARER = "bearer"
# Every answer an operation may give besides its own (each is an Error body).
ERRORS = {
    400: "The request is not JSON, or not understood.",
    401: "No usable token: missing, malformed, unknown, expired or revoked.",
    403: "The token's person or scope may not do this.",
    404: "No such board, card or request, or not yours to know of.",
    409: "A WIP limit refused the change, or the card changed since you read it.",
    413: "The body is larger than the operation reads.",
    415: "The body is not sent as application/json.",
    422: "Input that cannot be done, with a message per field where one is at fault.",
    429: "Too many requests with this token; wait a little.",
}
READ_ERRORS = (400, 401, 403, 404, 422, 429)
WRITE_ERRORS = (*READ_ERRORS, 409)


class Invalid(Exception):
    """Bad input found before any view ran: a message per field (422)."""

    def __init__(self, fields: dict[str, list[str]]) -> None:
        super().__init__("Check the fields named.")
        self.fields = fields


@dataclass
class Operation:
    """One documented operation: an endpoint, its method, its models and words."""

    endpoint: str
    method: str
    summary: str
    tag: str
    answer: type[BaseModel] | None
    status: int
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    errors: tuple[int, ...] = READ_ERRORS
    public: bool = False
    description: str = ""
    extra: dict[int, str] = field(default_factory=dict)
    # Other successful answers, with the same body: status -> what it means.
    also: dict[int, str] = field(default_factory=dict)
    # The security scheme, when it is not a personal access token (see SCHEMES).
    security: str = BEARER


# The credentials an operation may ask for (OpenAPI security schemes).
ALERTS = "alerts"  # the scheme of a board's alert token
SCHEMES = {
    BEARER: {
        "type": "http",
        "scheme": "bearer",
        "description": "A personal access token (wbpat_…) from your account page.",
    },
    ALERTS: {
        "type": "http",
        "scheme": "bearer",
        "description": "A board's alert token, made by a lead on the board's Integrations "
        "page (for Alertmanager; it opens cards on that board only).",
    },
}


# endpoint -> its operation, for every blueprint that declares its routes here.
REGISTRY: dict[str, Operation] = {}


def fields_of(error: ValidationError) -> dict[str, list[str]]:
    """pydantic's errors as {field: [messages]} ("" for the body as a whole)."""
    found: dict[str, list[str]] = {}
    for problem in error.errors(include_url=False):
        where = ".".join(str(part) for part in problem["loc"])
        found.setdefault(where, []).append(problem["msg"])
    return found


def _json_body(model: type[BaseModel]) -> BaseModel:
    data = request.get_json(silent=True)
    if data is None:
        raise Invalid({"": ["Send a JSON object (Content-Type: application/json)."]})
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise Invalid(fields_of(error)) from None


def _query(model: type[BaseModel]) -> BaseModel:
    values: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        many = request.args.getlist(key)
        if not many:
            continue
        values[key] = many if _is_list(info.annotation) else many[0]
    try:
        return model.model_validate(values)
    except ValidationError as error:
        raise Invalid(fields_of(error)) from None


def _is_list(annotation: Any) -> bool:
    return getattr(annotation, "__origin__", None) is list


def as_json(model: BaseModel | None, status: int, *, terse: bool = False) -> Response:
    """A model as a JSON answer; a read's has an ETag and answers 304 when it matches.
    `terse`: leave out the top-level fields that are None (an error's that do not apply)."""
    if model is None:
        body = b""
    elif terse:
        values = {k: v for k, v in model.model_dump(mode="json").items() if v is not None}
        body = json.dumps(values, separators=(",", ":")).encode()
    else:
        body = model.model_dump_json().encode()
    response = current_app.response_class(body, status=status, mimetype=JSON)
    if request.method == "GET" and status == 200:
        # Not for any cache's disk (tracker.web.security: no-store); a client keeps the
        # ETag itself and asks again with If-None-Match.
        response.add_etag()
        response.make_conditional(request)
    return response


def operation(
    bp: Blueprint,
    rule: str,
    method: str,
    *,
    summary: str,
    tag: str,
    answer: type[BaseModel] | None,
    status: int = 200,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    errors: tuple[int, ...] | None = None,
    public: bool = False,
    extra: dict[int, str] | None = None,
    also: dict[int, str] | None = None,
) -> Callable:
    """Declare and route one operation of the API (see the module's docstring)."""

    def decorate(view: Callable) -> Callable:
        endpoint = f"{bp.name}.{view.__name__}"
        REGISTRY[endpoint] = Operation(
            endpoint,
            method.lower(),
            summary,
            tag,
            answer,
            status,
            body,
            query,
            errors or (READ_ERRORS if method == "GET" else WRITE_ERRORS),
            public,
            (view.__doc__ or "").strip(),
            extra or {},
            also or {},
        )

        @functools.wraps(view)
        def run(**kwargs):
            if body is not None:
                kwargs["body"] = _json_body(body)
            if query is not None:
                kwargs["query"] = _query(query)
            answered = view(**kwargs)
            if isinstance(answered, Response):
                return answered
            code = status
            if isinstance(answered, tuple):
                answered, code = answered
            return as_json(answered, code)

        bp.add_url_rule(rule, view.__name__, run, methods=[method])
        return run

    return decorate


def declare(
    endpoint: str,
    method: str,
    *,
    summary: str,
    tag: str,
    answer: type[BaseModel] | None,
    body: type[BaseModel] | None,
    errors: tuple[int, ...],
    description: str = "",
    security: str = BEARER,
) -> None:
    """Document a route that reads its own request (the Alertmanager receiver reads a
    size-capped raw body before any parsing): it goes in the document like the others,
    and the view keeps its own checks."""
    REGISTRY[endpoint] = Operation(
        endpoint,
        method.lower(),
        summary,
        tag,
        answer,
        200,
        body,
        None,
        errors,
        False,
        description,
        security=security,
    )


# The document ---------------------------------------------------------------------------

_PARAMETER = re.compile(r"<(?:(\w+):)?(\w+)>")


def _path(rule: str) -> tuple[str, list[dict]]:
    """A Werkzeug rule as an OpenAPI path, and its path parameters (ids: 1..ID_MAX)."""
    parameters = []
    for converter, name in _PARAMETER.findall(rule):
        schema: dict[str, Any] = {"type": "string"}
        if converter == "int":
            schema = {"type": "integer", "minimum": 1, "maximum": ID_MAX}
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    return _PARAMETER.sub(r"{\2}", rule), parameters


def _query_parameters(model: type[BaseModel], schemas: dict) -> list[dict]:
    found = []
    for name, info in model.model_fields.items():
        key = info.alias or name
        schema = schemas["properties"][key]
        found.append(
            {
                "name": key,
                "in": "query",
                "required": info.is_required(),
                "schema": schema,
                **({"description": info.description} if info.description else {}),
                **({"explode": True, "style": "form"} if _is_list(info.annotation) else {}),
            }
        )
    return found


def document(app, *, title: str = "Weatherboard API") -> dict:
    """The OpenAPI 3.1 document of every registered operation the app's URL map routes."""
    from tracker.web.api.schemas import Error

    operations = [
        (rule, REGISTRY[rule.endpoint])
        for rule in app.url_map.iter_rules()
        if rule.endpoint in REGISTRY
    ]
    models = {Error}
    for _rule, op in operations:
        models.update(m for m in (op.answer, op.body) if m is not None)
    wanted = [(m, "validation") for m in sorted(models, key=lambda m: m.__name__)]
    _keys, defs = models_json_schema(wanted, ref_template="#/components/schemas/{model}")
    schemas = defs.get("$defs", {})

    def ref(model: type[BaseModel]) -> dict:
        return {"$ref": f"#/components/schemas/{model.__name__}"}

    paths: dict[str, dict] = {}
    for rule, op in sorted(operations, key=lambda pair: pair[0].rule):
        path, parameters = _path(rule.rule)
        if op.query is not None:
            parameters += _query_parameters(op.query, op.query.model_json_schema())
        responses: dict[str, Any] = {}
        answer = {"description": "OK" if op.status < 300 else "Done"}
        if op.answer is not None:
            answer["content"] = {JSON: {"schema": ref(op.answer)}}
        responses[str(op.status)] = answer
        for code, words in op.also.items():
            responses[str(code)] = answer | {"description": words}
        if op.method == "get":
            responses["304"] = {"description": "Not modified (If-None-Match matched the ETag)."}
        for code in op.errors:
            if op.public and code in (401, 403, 429):
                continue
            words = op.extra.get(code, ERRORS[code])
            responses[str(code)] = {"description": words, "content": {JSON: {"schema": ref(Error)}}}
        entry: dict[str, Any] = {
            "operationId": op.endpoint.replace(".", "_"),
            "summary": op.summary,
            "tags": [op.tag],
            "parameters": parameters,
            "responses": responses,
        }
        if op.description:
            entry["description"] = op.description
        if op.body is not None:
            entry["requestBody"] = {"required": True, "content": {JSON: {"schema": ref(op.body)}}}
        if op.public:
            entry["security"] = []
        elif op.security != BEARER:
            entry["security"] = [{op.security: []}]
        paths.setdefault(path, {})[op.method] = entry
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": VERSION},
        "servers": [{"url": "/"}],
        "security": [{BEARER: []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": SCHEMES,
        },
    }
