"""What every operation of a Divert API documents, derived from what its route depends on.

A route's decorator names only what is its own (a 409 with a `current_state`, a consent 403); the
rest follows from the route's shape, so no route can forget it:

- authenticated (the bearer scheme, from `auth.authenticated`): 401 and 403;
- a path parameter: 404 (no such resource, or none the caller may see);
- a change (POST, PUT, PATCH, DELETE): 409 (the resource moved on, or an `Idempotency-Key` reused),
  415 (only JSON bodies), and, with the rate limit on, 429 and the rate-limit headers;
- a body: 400 (unreadable) and 422; any parameter: 422;
- every route: 413 (a declared body over the limit is refused whatever the route) and 500.

Routes without a token say so with `security: []`. Strings of a bounded format get that format's
longest length and integers their wire format, so every bound a client needs is in the document.
"""

import json
from copy import deepcopy
from typing import Any

from fastapi import FastAPI

from divert_platform.problems import ProblemDetails, problem_responses

_REF = "#/components/schemas/{model}"
CHANGES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})

_BEARER = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "JWT",
    "description": (
        "A JWT verified as RFC8725 (JSON Web Token Best Current Practices) asks: the algorithms are pinned "
        "(RS256/ES256 family against the identity provider's JWKS in production; HS256 with the development key "
        "only in development), never taken from the token; the signature, `exp`, `iat`, `iss` and `aud` are "
        "required and checked; `role` (and `agency`/`jurisdiction` for scoped roles) say what the caller may do."
    ),
}

_RATE_LIMIT_HEADERS = {
    "RateLimit-Limit": {
        "description": "Changes this caller may make per minute. Sent on every change the rate limit counted "
        "(not on a request refused before it, such as a 413 or 415).",
        "schema": {"type": "integer", "format": "int32", "minimum": 1, "maximum": 1_000_000},
    },
    "RateLimit-Remaining": {
        "description": "Changes this caller may still make now.",
        "schema": {"type": "integer", "format": "int32", "minimum": 0, "maximum": 1_000_000},
    },
    "RateLimit-Reset": {
        "description": "Seconds until the caller's budget is full again.",
        "schema": {"type": "integer", "format": "int32", "minimum": 0, "maximum": 3600},
    },
}
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds until this caller may change something again.",
        "schema": {"type": "integer", "format": "int32", "minimum": 1, "maximum": 3600},
    }
}
_WWW_AUTHENTICATE = {
    "WWW-Authenticate": {
        "description": "`Bearer`: the scheme a token must be sent with.",
        "schema": {"type": "string", "enum": ["Bearer"]},
    }
}

# The longest text of each format pydantic validates (and answers with).
_FORMAT_LENGTHS = {
    "uuid": 36,
    "date": 10,
    "time": 32,
    "date-time": 40,
    "duration": 64,
    "email": 254,
    "uri": 2048,
}


def document_operations(app: FastAPI, *, rate_limited: bool) -> None:
    """Make `app.openapi()` finish each operation from its shape (see the module's docstring): the
    statuses it can answer (kept where its decorator already says more), security, headers, bounds."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            finish(generate(), rate_limited=rate_limited)
        return generate()

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to replace the generator


def finish(document: dict[str, Any], *, rate_limited: bool) -> None:
    """Complete every operation of `document` in place."""
    schemes = document.setdefault("components", {}).setdefault("securitySchemes", {})
    if "HTTPBearer" in schemes:
        schemes["HTTPBearer"] = _BEARER
    for operations in document.get("paths", {}).values():
        for method, operation in operations.items():
            operation.setdefault("security", [])  # no bearer dependency: a public route, on purpose
            for parameter in operation.get("parameters", []):
                parameter["schema"] = _present(parameter["schema"])
            responses = operation.setdefault("responses", {})
            for status, entry in statuses(method, operation, rate_limited=rate_limited).items():
                own = responses.get(status)
                if own is None or status == "422":  # FastAPI's own 422 is not the problem it answers
                    responses[status] = entry
                else:  # the decorator's words win; the problem body and headers are the platform's
                    responses[status] = {
                        **entry,
                        **own,
                        "headers": {**entry.get("headers", {}), **own.get("headers", {})},
                    }
            if rate_limited and method.upper() in CHANGES:
                for status, response in responses.items():
                    if status[0] in "24":
                        response["headers"] = {**deepcopy(_RATE_LIMIT_HEADERS), **response.get("headers", {})}
    _drop_unused(document, "HTTPValidationError", "ValidationError")
    components = document["components"].setdefault("schemas", {})
    for name, schema in ProblemDetails.model_json_schema(ref_template=_REF).get("$defs", {}).items():
        components.setdefault(name, schema)
    components.setdefault("ProblemDetails", _without_defs(ProblemDetails.model_json_schema(ref_template=_REF)))
    _bound_formats(document)


def statuses(method: str, operation: dict[str, Any], *, rate_limited: bool) -> dict[str, dict[str, Any]]:
    """The problem statuses an operation can answer, by its shape, documented."""
    codes = {413, 500}
    parameters = operation.get("parameters", [])
    if any("HTTPBearer" in requirement for requirement in operation.get("security", [])):
        codes |= {401, 403}
    if any(parameter["in"] == "path" for parameter in parameters):
        codes.add(404)
    if method.upper() in CHANGES:
        codes.add(409)
    if method.upper() in _WITH_BODY:
        codes.add(415)
    if "requestBody" in operation:
        codes |= {400, 422}
    if parameters:
        codes.add(422)
    documented = {str(status): entry for status, entry in problem_responses(*sorted(codes)).items()}
    if "401" in documented:
        documented["401"]["headers"] = _WWW_AUTHENTICATE
    if rate_limited and method.upper() in CHANGES:
        documented["429"] = {**problem_responses(429)[429], "headers": _RETRY_AFTER}
    for entry in documented.values():
        entry.pop("model", None)
    return deepcopy(documented)


def _without_defs(schema: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in schema.items() if key != "$defs"}


def _present(schema: dict[str, Any]) -> dict[str, Any]:
    """An optional parameter's schema without its `null` branch: a query string or header cannot
    carry a null; leaving the parameter out is how a client says "none"."""
    branches = [branch for branch in schema.get("anyOf", []) if branch != {"type": "null"}]
    if len(branches) != 1 or len(branches) == len(schema["anyOf"]):
        return schema
    outer = {key: value for key, value in schema.items() if key != "anyOf"}
    return {**branches[0], **outer}


def _drop_unused(document: dict[str, Any], *names: str) -> None:
    schemas = document.get("components", {}).get("schemas", {})
    for name in names:
        schema = schemas.pop(name, None)
        if schema is not None and f'"#/components/schemas/{name}"' in json.dumps(document):
            schemas[name] = schema  # still referred to


def _bound_formats(node: Any) -> None:
    """Strings of a bounded format get its longest length; integers their wire format."""
    if isinstance(node, dict):
        if node.get("type") == "string" and not {"maxLength", "enum", "const"} & node.keys():
            if (length := _FORMAT_LENGTHS.get(node.get("format", ""))) is not None:
                node["maxLength"] = length
        if node.get("type") == "integer":
            node.setdefault("format", "int64")
        for value in node.values():
            _bound_formats(value)
    elif isinstance(node, list):
        for value in node:
            _bound_formats(value)
