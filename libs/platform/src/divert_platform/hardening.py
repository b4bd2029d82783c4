"""HTTP hardening shared by every API: security headers, strict content types, a rate limit."""

import hashlib
import time
from dataclasses import dataclass

from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

from divert_platform.problems import problem_response

_API_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",  # responses may carry personal data: never cache them
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Cross-Origin-Resource-Policy": "same-origin",
}
# The interactive docs page loads Swagger UI's script and styles from its CDN.
_DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https:; frame-ancestors 'none'"
)
_DOCS = ("/docs", "/redoc")
_WITH_BODY = {"POST", "PUT", "PATCH"}


class SecurityHeaders(BaseHTTPMiddleware):
    """Adds the headers above to every response."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        response.headers.update(_API_HEADERS)
        if request.url.path.startswith(_DOCS):
            response.headers["Content-Security-Policy"] = _DOCS_CSP
        return response


class JsonBodiesOnly(BaseHTTPMiddleware):
    """A request body must be JSON: anything else is a 415 before any handler reads it."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        if request.method in _WITH_BODY and _has_body(request):
            media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if not (
                media_type == "application/json"
                or (media_type.startswith("application/") and media_type.endswith("+json"))
            ):
                return problem_response(
                    415, "Unsupported media type", "send the body as application/json", "media-type"
                )
        return await call_next(request)


def _has_body(request: Request) -> bool:
    length = request.headers.get("content-length")
    return (length is not None and length != "0") or "transfer-encoding" in request.headers


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimit(BaseHTTPMiddleware):
    """A token bucket per client (its bearer token, else its address), `per_minute` deep.

    Counted per process: with N API replicas a client gets up to N times the limit, which is the
    point at which a shared limiter at the gateway takes over.
    """

    def __init__(self, app: ASGIApp, per_minute: int) -> None:
        super().__init__(app)
        self._capacity = float(per_minute)
        self._refill_per_second = per_minute / 60.0
        self._buckets: dict[str, _Bucket] = {}

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        if request.url.path in ("/healthz", "/readyz"):
            return await call_next(request)
        wait = self._admit(_client_key(request))
        if wait is not None:
            return problem_response(
                429,
                "Too many requests",
                "this client exceeded its request rate",
                "rate-limited",
                headers={"Retry-After": str(int(wait) + 1)},
            )
        return await call_next(request)

    def _admit(self, key: str) -> float | None:
        """None when the request is admitted, else the seconds until one would be."""
        now = time.monotonic()
        bucket = self._buckets.setdefault(key, _Bucket(self._capacity, now))
        bucket.tokens = min(self._capacity, bucket.tokens + (now - bucket.updated) * self._refill_per_second)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return None
        return (1 - bucket.tokens) / self._refill_per_second


def _client_key(request: Request) -> str:
    authorization = request.headers.get("authorization")
    if authorization:
        return "token:" + hashlib.sha256(authorization.encode()).hexdigest()
    return "address:" + (request.client.host if request.client else "unknown")
