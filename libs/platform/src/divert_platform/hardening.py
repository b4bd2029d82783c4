"""HTTP hardening shared by every API: security headers, size and content-type checks, a rate limit.

Each but the rate limit (a dependency: it needs the verified caller) is a pure ASGI middleware.
Starlette's `BaseHTTPMiddleware` would run every layer as its own task with a memory stream and a
response wrapper per request (anyio alone was 4-5% of the intake API's profile; see
docs/performance.md).
"""

import math
import time
from collections import OrderedDict
from dataclasses import dataclass

from fastapi.security import HTTPAuthorizationCredentials
from fastapi.security.utils import get_authorization_scheme_param
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from divert_platform.auth import Access
from divert_platform.problems import Problem, Unauthorized, problem_response

_API_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",  # responses may carry personal data: never cache them
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Cross-Origin-Resource-Policy": "same-origin",
}
# The interactive docs page (`api_docs.py`) runs Swagger UI's own files from this origin and no
# inline script; Swagger UI sets style attributes, hence inline styles only.
_DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
_DOCS = ("/docs",)
_WITH_BODY = {"POST", "PUT", "PATCH"}


class SecurityHeaders:
    """Adds the headers above to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope["path"].startswith(_DOCS)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.update(_API_HEADERS)
                headers.update(scope.get("state", {}).get("rate_limit_headers", {}))  # set by `RateLimit`
                if docs:
                    headers["Content-Security-Policy"] = _DOCS_CSP
            await send(message)

        await self.app(scope, receive, send_with_headers)


class _Gate:
    """A middleware that may answer a request from its head alone, before the app reads the body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (refusal := self.refusal(Request(scope))) is not None:
            await refusal(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def refusal(self, request: Request) -> Response | None:
        """The problem response that ends `request` here, or None to let it through."""
        raise NotImplementedError


class BodySizeLimit(_Gate):
    """A body larger than `max_bytes` is a 413, and the app never sees more than `max_bytes` of it.

    A declared `Content-Length` over the limit is refused from the head alone. A body without one
    (`Transfer-Encoding: chunked`) is counted as it arrives: once it passes the limit the 413 is
    sent (if the response has not started), the app's read fails, and whatever the app sends after
    that is dropped, so one answer reaches the client.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        super().__init__(app)
        self._max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if (refusal := self.refusal(Request(scope))) is not None:
            await refusal(scope, receive, send)
            return
        received = 0
        started = refused = False

        async def counted_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self._max_bytes:
                    if not started:
                        refused = True
                        await self._too_large()(scope, receive, send)
                    raise _BodyTooLarge  # the app gets no byte past the limit
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 is already the answer; e.g. FastAPI's "error parsing the body" 400 is not
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except _BodyTooLarge:
            if not refused:
                raise  # the response had started: all that is left is to break the connection

    def refusal(self, request: Request) -> Response | None:
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self._max_bytes:
            return self._too_large()
        return None

    def _too_large(self) -> Response:
        return problem_response(413, "Request body too large", f"the body exceeds {self._max_bytes} bytes", "too-large")


class _BodyTooLarge(Exception):
    """Raised into the app's read of a body that passed the limit."""


class JsonBodiesOnly(_Gate):
    """A request body must be JSON: anything else is a 415 before any handler reads it."""

    def refusal(self, request: Request) -> Response | None:
        if request.method in _WITH_BODY and _has_body(request):
            media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if not (
                media_type == "application/json"
                or (media_type.startswith("application/") and media_type.endswith("+json"))
            ):
                return problem_response(
                    415, "Unsupported media type", "send the body as application/json", "media-type"
                )
        return None


def _has_body(request: Request) -> bool:
    length = request.headers.get("content-length")
    return (length is not None and length != "0") or "transfer-encoding" in request.headers


@dataclass
class _Bucket:
    tokens: float
    updated: float


_MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class RateLimited(Problem):
    """The caller spent its budget of changes for now; `Retry-After` says when to come back."""

    status, title, kind = 429, "Too many requests", "rate-limited"

    def __init__(self, wait_seconds: float) -> None:
        super().__init__("this caller exceeded its rate of changes")
        self.headers = {"Retry-After": str(int(wait_seconds) + 1)}


class RateLimit:
    """FastAPI dependency: a token bucket per caller, `per_minute` deep, on mutating requests only.

    The caller is the verified token's subject, so one user minting many tokens shares one bucket;
    a request without a valid token is counted by its client address, so junk tokens cannot buy
    fresh buckets. It runs before the route's own `allow(...)`, so an over-budget caller is a 429
    whatever its token. At most `max_callers` buckets are kept; the least recently used goes first
    (a bucket idle for a minute is full again, so forgetting it changes nothing). The answer to
    every request it counted carries `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`
    (seconds until the bucket is full), as the IETF draft on rate-limit headers names them.

    Counted per process: with N API replicas a caller gets up to N times the limit, which is the
    point at which a shared limiter at the gateway takes over.
    """

    def __init__(self, per_minute: int, max_callers: int = 10_000) -> None:
        self._capacity = float(per_minute)
        self._refill_per_second = per_minute / 60.0
        self._max_callers = max_callers
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    async def __call__(self, request: Request) -> None:
        if request.method not in _MUTATING:
            return
        key = await _caller_key(request)
        wait = self._admit(key)
        bucket = self._buckets.get(key)
        tokens = bucket.tokens if bucket is not None else 0.0  # no bucket kept: `max_callers` is 0
        # `SecurityHeaders` sends them on whatever answers this request, a problem or a 429 included.
        request.state.rate_limit_headers = {
            "RateLimit-Limit": str(int(self._capacity)),
            "RateLimit-Remaining": str(int(tokens)),
            "RateLimit-Reset": str(math.ceil((self._capacity - tokens) / self._refill_per_second)),
        }
        if wait is not None:
            raise RateLimited(wait)

    def __len__(self) -> int:
        """How many callers have a bucket (never more than `max_callers`)."""
        return len(self._buckets)

    def _admit(self, key: str) -> float | None:
        """None when the request is admitted, else the seconds until one would be."""
        now = time.monotonic()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(self._capacity, now)
            if len(self._buckets) > self._max_callers:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
        bucket.tokens = min(self._capacity, bucket.tokens + (now - bucket.updated) * self._refill_per_second)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return None
        return (1 - bucket.tokens) / self._refill_per_second


async def _caller_key(request: Request) -> str:
    """The verified token's subject, else the client address (never anything from an unverified token)."""
    scheme, credentials = get_authorization_scheme_param(request.headers.get("authorization"))
    if scheme.lower() == "bearer" and credentials:
        access: Access = request.app.state.access
        try:
            principal = await access.principal(HTTPAuthorizationCredentials(scheme=scheme, credentials=credentials))
        except Unauthorized:
            pass  # the route's own authentication answers it with a 401
        else:
            request.state.principal = principal  # `authenticated` takes it: the token is verified once
            return "subject:" + principal.subject
    return "address:" + (request.client.host if request.client else "unknown")
