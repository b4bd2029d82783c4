"""RFC 9457 problem details for every 4xx and 5xx response."""

import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import TimeoutError as ConnectionWaitTimedOut
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from divert_platform.event_store import ConcurrencyConflict
from divert_platform.pagination import InvalidCursor
from divert_platform.text import free_text

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
_TYPE_BASE = "https://divert.example/problems/"


# Bounds of what a problem carries, kept by `problem_response` and `field_errors` (a body of many
# bad items must not become an answer larger than the request).
MAX_DETAIL = 2000
MAX_FIELD_ERRORS = 100
_MAX_FIELD, _MAX_MESSAGE, _MAX_CODE = 500, 1000, 100
# A detail or field may quote what the caller sent (a key, an id): its control characters are
# replaced, so a problem never carries them into a client's log or terminal.
_CONTROLS = re.compile(r"[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]")


class FieldError(BaseModel):
    """One field at fault in a 422."""

    field: Annotated[str, free_text(_MAX_FIELD)]
    message: Annotated[str, free_text(_MAX_MESSAGE)]
    code: Annotated[str, free_text(_MAX_CODE)]


class ProblemDetails(BaseModel):
    """RFC 9457 problem details; extension members (e.g. `current_state`) may follow."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(max_length=200, json_schema_extra={"format": "uri"})
    title: Annotated[str, free_text(200)]
    status: int = Field(ge=400, le=599)
    detail: Annotated[str, free_text(MAX_DETAIL)]
    errors: list[FieldError] | None = Field(None, max_length=MAX_FIELD_ERRORS)


_DESCRIPTIONS = {
    400: "The body could not be parsed",
    401: "No valid bearer token",
    403: "The caller's role or scope does not allow this",
    415: "Only application/json bodies are accepted",
    429: "Too many requests from this client; retry after `Retry-After` seconds",
    404: "No such resource",
    409: "Conflicts with the resource's current state",
    413: "Request body too large",
    422: "Invalid request; `errors` names each field at fault",
    500: "Unexpected error (a bug; it is logged)",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries documenting problem+json bodies for `statuses`."""
    return {
        status: {
            "model": ProblemDetails,
            "description": _DESCRIPTIONS.get(status, "Problem"),
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}},
        }
        for status in statuses
    }


class Problem(Exception):
    """An error the API reports as `application/problem+json`."""

    status: int = 500
    title: str = "Internal error"
    kind: str = "internal"

    headers: dict[str, str] | None = None

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions


class Unauthorized(Problem):
    """No valid bearer token."""

    status, title, kind = 401, "Unauthorized", "unauthorized"
    headers = {"WWW-Authenticate": "Bearer"}


class Forbidden(Problem):
    """The caller's role or scope does not allow this."""

    status, title, kind = 403, "Forbidden", "forbidden"


class NotFound(Problem):
    """The resource does not exist (or is not visible to the caller)."""

    status, title, kind = 404, "Not found", "not-found"


class Conflict(Problem):
    """The request conflicts with the resource's current state."""

    status, title, kind = 409, "Conflict", "conflict"


class Unprocessable(Problem):
    """The request is well-formed but breaks a rule; `errors` names the fields at fault."""

    status, title, kind = 422, "Request is invalid", "validation"


class ConsentMissing(Problem):
    """No consent in force lets this information go to this party: the person has not authorised
    it (42 CFR Part 2; LEAD's golden rule). The same 403 in every service, whoever asks; its
    extension members say what consent would allow it (e.g. `missing`)."""

    status, title, kind = 403, "Consent missing", "consent-missing"


def consent_missing_response(description: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI entry of a route's 403, which can also be `consent-missing` (`description` says when)."""
    return {
        403: {
            "model": ProblemDetails,
            "description": description,
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}},
        }
    }


def invalid(field: str, message: str) -> Unprocessable:
    """A 422 naming the one field at fault, e.g. `body.referred_at` or `query.cursor`."""
    return Unprocessable(message, errors=[{"field": field, "message": message, "code": "invalid"}])


class Unavailable(Problem):
    """A dependency is down; try again later."""

    status, title, kind = 503, "Service unavailable", "unavailable"


class Overloaded(Unavailable):
    """Every database connection stayed busy for the whole wait (the pool's timeout): the request
    was queued behind more work than the service can do, and did nothing, so a retry is safe."""

    headers = {"Retry-After": "1"}


def problem_response(
    status: int, title: str, detail: str, kind: str, *, headers: dict[str, str] | None = None, **extensions: Any
) -> JSONResponse:
    """Build a problem+json response."""
    body = {
        "type": _TYPE_BASE + kind,
        "title": title,
        "status": status,
        "detail": printable(detail)[:MAX_DETAIL],
        **extensions,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def printable(text: str) -> str:
    """`text` with each control character (but tab, line feed, carriage return) replaced by U+FFFD."""
    return _CONTROLS.sub("\ufffd", text)


def field_errors(errors: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Pydantic errors as `{field, message}` with a dotted field path (`body.subject.given_name`)."""
    return [
        {
            "field": printable(".".join(str(part) for part in error["loc"]))[:_MAX_FIELD],
            "message": printable(error["msg"])[:_MAX_MESSAGE],
            "code": printable(error["type"])[:_MAX_CODE],
        }
        for error in errors[:MAX_FIELD_ERRORS]
    ]


def _allowed_methods(request: Request) -> str:
    """All methods any route offers for the request's path (Starlette names only the first route's)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match != Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return ", ".join(sorted(methods))


ProblemMap = Mapping[type[Exception], Callable[[Any], Problem]]
"""An app's domain exceptions and the problem each one is answered with."""

PLATFORM_PROBLEMS: ProblemMap = {
    ConcurrencyConflict: lambda _: Conflict("the resource changed while this request ran; retry it"),
    InvalidCursor: lambda error: invalid("query.cursor", str(error)),
    ConnectionWaitTimedOut: lambda _: Overloaded("every database connection stayed busy; retry shortly"),
}


def _answer(error: Problem) -> JSONResponse:
    return problem_response(
        error.status, error.title, error.detail, error.kind, headers=error.headers, **error.extensions
    )


def _answer_with(to_problem: Callable[[Any], Problem]) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    async def handler(_: Request, error: Exception) -> JSONResponse:
        return _answer(to_problem(error))

    return handler


def install_problem_handlers(app: FastAPI, problems: ProblemMap | None = None) -> None:
    """Make every error response of `app` problem+json; `problems` maps the service's own
    exceptions to the problems they are answered with (beside `PLATFORM_PROBLEMS`), so routes
    raise domain exceptions and never translate them one by one."""

    for exception_type, to_problem in {**PLATFORM_PROBLEMS, **(problems or {})}.items():
        app.add_exception_handler(exception_type, _answer_with(to_problem))

    @app.exception_handler(Problem)
    async def _problem(_: Request, error: Problem) -> JSONResponse:
        return _answer(error)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        errors = field_errors(list(error.errors()))
        fields = ", ".join(e["field"] for e in errors)
        return problem_response(422, "Request is invalid", f"invalid or missing: {fields}", "validation", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        headers = dict(error.headers or {})
        if error.status_code == 405:
            headers["Allow"] = _allowed_methods(request)  # RFC 9110: every method of the path
        return problem_response(
            error.status_code, str(error.detail), str(error.detail), f"http-{error.status_code}", headers=headers
        )

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, error: Exception) -> JSONResponse:
        log.error("unhandled error", exc_info=error)
        return problem_response(500, "Internal error", "an unexpected error occurred; it has been logged", "internal")
