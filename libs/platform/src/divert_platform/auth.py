"""Bearer-token authentication and role checks for every Divert API.

Development signs HS256 tokens with the development key (`divert token` mints them); production
verifies RS256/ES256 tokens against the identity provider's JWKS, with issuer and audience
checked. A token carries `sub`, `role` and, for scoped roles, `agency` and/or `jurisdiction`.
"""

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import httpx
import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from divert_platform.cause import Cause

# Re-exported: the roles were defined here first, and every service imports them from here.
from divert_platform.principals import ROLES as ROLES
from divert_platform.principals import SCOPE_CLAIMS as SCOPE_CLAIMS
from divert_platform.principals import Role as Role
from divert_platform.problems import Forbidden, Unauthorized
from divert_platform.settings import ServiceSettings
from divert_platform.text import NO_CONTROL_CHARACTERS

PEOPLE_WHO_MAY_NEVER_SEE_CASE_CONTENT: frozenset[Role] = frozenset({"officer", "agency_admin", "prosecutor", "court"})
"""LEAD's golden rule: nothing learned in care coordination may reach enforcement (a police
agency's integration administrator included)."""

_NO_CONTROLS = re.compile(NO_CONTROL_CHARACTERS)
_ASYMMETRIC = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512"]

log = logging.getLogger(__name__)


class InvalidToken(Exception):
    """The bearer token is missing a claim, expired, forged or for someone else."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's subject, role and scope."""

    subject: str
    role: Role
    agency: str | None = None
    jurisdiction: str | None = None

    def cause(self) -> Cause:
        """This caller as the cause of a unit of work's changes (stored with each event)."""
        return Cause(actor=self.subject, role=self.role, agency=self.agency)


class SigningKeys:
    """The identity provider's public keys (its JWKS), fetched without blocking the event loop.

    Once keys are cached a request never waits for the provider: keys older than
    `DIVERT_JWKS_CACHE_SECONDS` are still used while one refresh runs in the background, and a
    failed refresh keeps the last good keys (a slow or down provider must not stall every request,
    probes included). Only a token naming an unknown key (the provider rotated its keys) waits for a
    refresh, at most `DIVERT_JWKS_TIMEOUT_SECONDS`, and such refreshes happen at most once per
    `DIVERT_JWKS_REFETCH_SECONDS`, so tokens with made-up key ids cannot flood the provider.
    """

    def __init__(self, url: str, settings: ServiceSettings) -> None:
        self._url = url
        self._fresh_for = settings.jwks_cache_seconds
        self._timeout = settings.jwks_timeout_seconds
        self._refetch_every = settings.jwks_refetch_seconds
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None  # last successful fetch (monotonic clock)
        self._tried_at: float | None = None  # last attempt, successful or not
        self._refresh: asyncio.Task[None] | None = None

    async def key(self, kid: str | None) -> Any:
        """The public key named `kid`; `InvalidToken` if the provider has no such key."""
        if kid is None:
            raise InvalidToken("the token names no signing key (kid)")
        if kid not in self._keys:
            if self._refreshing() or self._may_try():
                # shielded: a request that gives up must not cancel the refresh others wait for
                await asyncio.shield(self._start_refresh())
        elif self._stale() and self._may_try():
            self._start_refresh()  # the cached key serves this request meanwhile
        found = self._keys.get(kid)
        if found is None:
            raise InvalidToken("unknown signing key")
        return found.key

    def _may_try(self) -> bool:
        # also after a failed refresh: a provider that is down is asked again only this often
        return self._tried_at is None or time.monotonic() - self._tried_at >= self._refetch_every

    def _stale(self) -> bool:
        return self._fetched_at is not None and time.monotonic() - self._fetched_at >= self._fresh_for

    def _refreshing(self) -> bool:
        return self._refresh is not None and not self._refresh.done()

    def _start_refresh(self) -> "asyncio.Task[None]":
        if self._refresh is None or self._refresh.done():
            self._refresh = asyncio.get_running_loop().create_task(self._fetch(), name="divert-jwks-refresh")
        return self._refresh

    async def _fetch(self) -> None:
        self._tried_at = time.monotonic()
        try:
            async with asyncio.timeout(self._timeout), httpx.AsyncClient(timeout=self._timeout) as client:
                response = await client.get(self._url, headers={"Accept": "application/json"})
                response.raise_for_status()
                keys = jwt.PyJWKSet.from_dict(response.json()).keys
        except (TimeoutError, httpx.HTTPError, ValueError, jwt.PyJWTError) as error:
            # the URL and the error's type only: never a token or its claims
            log.warning(
                "could not refresh the identity provider's keys from %s (%s); keeping the %d keys fetched before",
                self._url,
                type(error).__name__,
                len(self._keys),
            )
            return
        self._keys = {k.key_id: k for k in keys if k.key_id and k.public_key_use in (None, "sig")}
        self._fetched_at = time.monotonic()


class TokenVerifier:
    """Checks signature, expiry, issuer and audience, and reads the caller from the claims."""

    def __init__(self, settings: ServiceSettings) -> None:
        self._settings = settings
        self._keys = SigningKeys(settings.jwks_url, settings) if settings.jwks_url else None

    async def verify(self, token: str) -> Principal:
        """The caller a valid token names; `InvalidToken` otherwise. Expiry, issue and not-before
        times are checked with `DIVERT_JWT_LEEWAY_SECONDS` of tolerance for clock skew."""
        try:
            if self._keys is not None:
                key: Any = await self._keys.key(jwt.get_unverified_header(token).get("kid"))
                algorithms = _ASYMMETRIC
            else:
                key, algorithms = self._settings.jwt_secret.get_secret_value(), ["HS256"]
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=self._settings.jwt_audience,
                issuer=self._settings.jwt_issuer,
                leeway=self._settings.jwt_leeway_seconds,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.PyJWTError as error:
            raise InvalidToken(type(error).__name__) from error
        role = claims.get("role")
        if role not in ROLES:
            raise InvalidToken("unknown role")
        subject, agency, jurisdiction = str(claims["sub"]), claims.get("agency"), claims.get("jurisdiction")
        # What a caller is called enters stored events and the audit trail, which the APIs show
        # under these bounds (divert_platform.text): a claim beyond them is refused here, at entry.
        if not _fits(subject, 200) or not all(v is None or _fits(v, 64) for v in (agency, jurisdiction)):
            raise InvalidToken("a claim too long or with control characters")
        return Principal(subject, role, agency, jurisdiction)


def _fits(claim: object, max_length: int) -> bool:
    return isinstance(claim, str) and 0 < len(claim) <= max_length and _NO_CONTROLS.match(claim) is not None


def mint_token(
    settings: ServiceSettings,
    *,
    subject: str,
    role: Role,
    agency: str | None = None,
    jurisdiction: str | None = None,
    lifetime: timedelta = timedelta(hours=8),
) -> str:
    """An HS256 token signed with this deployment's shared secret (demos, tests, service calls in
    development). Production tokens come from the identity provider, never from here."""
    if settings.jwks_url is not None:
        raise RuntimeError("with DIVERT_JWKS_URL set, tokens are issued by the identity provider")
    now = datetime.now(UTC)
    claims = {
        "sub": subject,
        "role": role,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + lifetime,
        **({"agency": agency} if agency else {}),
        **({"jurisdiction": jurisdiction} if jurisdiction else {}),
    }
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256")


def service_token(settings: ServiceSettings, *, role: Role = "service", process: str | None = None) -> str:
    """The bearer token this process presents to others: configured in production (issued by the
    identity provider for this one process), minted in development with `role` and the subject
    `divert-<service>[-<process>]`, so every process calls as itself (docs/access.md#identities)."""
    if settings.service_token is not None:
        return settings.service_token.get_secret_value()
    subject = f"divert-{settings.service_name}" + (f"-{process}" if process else "")
    return mint_token(settings, subject=subject, role=role, lifetime=timedelta(days=1))


_bearer = HTTPBearer(auto_error=False)

ALL_JURISDICTIONS = "*"
"""The `jurisdiction` claim value granting every jurisdiction, to the roles in
`ALL_JURISDICTIONS_ROLES` only (a state-wide prosecutor's office, a state court)."""

ALL_JURISDICTIONS_ROLES: frozenset[Role] = frozenset({"prosecutor", "court"})
"""Roles whose token may say `jurisdiction: "*"`; officers, agency administrators and program
managers must name one."""


def covers_all_jurisdictions(principal: Principal) -> bool:
    """Whether the caller's token grants every jurisdiction (`jurisdiction: "*"`). `allow` has
    refused the value for every role not in `ALL_JURISDICTIONS_ROLES`."""
    return principal.jurisdiction == ALL_JURISDICTIONS and principal.role in ALL_JURISDICTIONS_ROLES


class Access:
    """Verifies bearer tokens for one app (`create_app` keeps it as `app.state.access`)."""

    def __init__(self, settings: ServiceSettings) -> None:
        self._verifier = TokenVerifier(settings)

    async def principal(self, credentials: HTTPAuthorizationCredentials | None) -> Principal:
        """The caller named by valid bearer credentials; `Unauthorized` otherwise."""
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise Unauthorized("a bearer token is required")
        try:
            return await self._verifier.verify(credentials.credentials)
        except InvalidToken as error:
            raise Unauthorized(f"the bearer token is not valid ({error})") from error


async def authenticated(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    """FastAPI dependency: the caller of this request, whatever its role; 401 without a valid token.

    Resolved once per request however many dependencies ask for it, and taken as the rate limit
    already verified it, if it did.
    """
    verified: Principal | None = getattr(request.state, "principal", None)
    if verified is not None:
        return verified
    access: Access = request.app.state.access
    principal = await access.principal(credentials)
    request.state.principal = principal
    return principal


def allow(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """FastAPI dependency admitting only `roles`, each with every scope claim its role needs
    (`SCOPE_CLAIMS`) and `jurisdiction: "*"` only where its role may have it
    (`ALL_JURISDICTIONS_ROLES`); it returns the caller. 401 without a valid token, 403 otherwise
    (the problem's `claim` names the claim at fault)."""
    allowed = frozenset(roles)

    async def caller(principal: Annotated[Principal, Depends(authenticated)]) -> Principal:
        if principal.role not in allowed:
            raise Forbidden(f"the {principal.role} role may not use this route")
        role = principal.role.replace("_", " ")
        for claim in SCOPE_CLAIMS.get(principal.role, ()):
            if not getattr(principal, claim):
                raise Forbidden(
                    f"a {role}'s token must name its {claim} (`{claim}` claim): its scope decides what it sees",
                    claim=claim,
                )
        if principal.jurisdiction == ALL_JURISDICTIONS and principal.role not in ALL_JURISDICTIONS_ROLES:
            raise Forbidden(
                f'a {role}\'s token must name one jurisdiction, not "{ALL_JURISDICTIONS}"', claim="jurisdiction"
            )
        return principal

    return caller
