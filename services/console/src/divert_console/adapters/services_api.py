"""The four services' APIs, called with the signed-in user's own token.

The console never holds a privileged token: whatever a page shows or changes, the API decided with
the user's role and scope, exactly as it would for any other client.
"""

from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from divert_platform.audit import PURPOSE_HEADER

Service = Literal["intake", "assessment", "directory", "warrants"]


@dataclass
class ApiProblem(Exception):
    """An API answered with a problem (4xx/5xx): its status, title, detail and the fields at fault."""

    status: int
    title: str
    detail: str = ""
    errors: list[dict[str, str]] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.status} {self.title}: {self.detail}"

    def field_messages(self) -> dict[str, str]:
        """Each field at fault (`body.` dropped: `needs.0.domain`) → its message."""
        messages: dict[str, str] = {}
        for error in self.errors:
            name = str(error.get("field", "")).removeprefix("body.").removeprefix("query.")
            messages.setdefault(name, str(error.get("message", "invalid")))
        return messages


class TokenRefused(Exception):
    """An API answered 401: the user's token expired or was revoked; they must sign in again."""


class ApiUnreachable(Exception):
    """An API could not be reached or timed out."""


class ServicesApi:
    """Calls the services' APIs with one pooled HTTP client."""

    def __init__(self, client: httpx.AsyncClient, base_urls: dict[Service, str]) -> None:
        self._client = client
        self._base_urls = base_urls

    async def get(
        self,
        token: str,
        service: Service,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        purpose: str | None = None,
    ) -> Any:
        """The JSON an API answers a GET with; `ApiProblem`, `TokenRefused` or `ApiUnreachable` otherwise."""
        query = {key: value for key, value in (params or {}).items() if value is not None}
        return await self._send(token, "GET", service, path, params=query, purpose=purpose)

    async def send(
        self,
        token: str,
        method: Literal["POST", "PUT"],
        service: Service,
        path: str,
        body: dict[str, Any],
        *,
        idempotency_key: str | None = None,
    ) -> Any:
        """Send a command; the same `idempotency_key` again replays the first answer (a double submit does
        nothing twice)."""
        return await self._send(token, method, service, path, json=body, idempotency_key=idempotency_key)

    async def _send(
        self,
        token: str,
        method: str,
        service: Service,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        purpose: str | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if purpose:
            headers[PURPOSE_HEADER] = purpose
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        try:
            response = await self._client.request(
                method, self._base_urls[service] + path, params=params, json=json, headers=headers
            )
        except httpx.HTTPError as error:
            raise ApiUnreachable(f"{service} API: {type(error).__name__}") from error
        if response.status_code == 401:
            raise TokenRefused
        if response.status_code >= 400:
            raise _problem(response)
        return response.json() if response.content else None


def _problem(response: httpx.Response) -> ApiProblem:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    errors = body.get("errors") or []
    return ApiProblem(
        status=response.status_code,
        title=str(body.get("title") or response.reason_phrase),
        detail=str(body.get("detail") or ""),
        errors=[error for error in errors if isinstance(error, dict)],
    )
