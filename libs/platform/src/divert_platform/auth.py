"""Bearer-token authentication and role checks for every Divert API.

Development signs HS256 tokens with the development key (`divert token` mints them); production
verifies RS256/ES256 tokens against the identity provider's JWKS, with issuer and audience
checked. A token carries `sub`, `role` and, for scoped roles, `agency` and/or `jurisdiction`.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, get_args

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from divert_platform.cause import Cause
from divert_platform.problems import Forbidden, Unauthorized
from divert_platform.settings import ServiceSettings

Role = Literal["officer", "program_manager", "case_manager", "prosecutor", "court", "service", "deadline_worker", "ops"]
ROLES: tuple[Role, ...] = get_args(Role)

PEOPLE_WHO_MAY_NEVER_SEE_CASE_CONTENT: frozenset[Role] = frozenset({"officer", "prosecutor", "court"})
"""LEAD's golden rule: nothing learned in care coordination may reach enforcement."""

_ASYMMETRIC = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512"]


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


class TokenVerifier:
    """Checks signature, expiry, issuer and audience, and reads the caller from the claims."""

    def __init__(self, settings: ServiceSettings) -> None:
        self._settings = settings
        self._jwks = jwt.PyJWKClient(settings.jwks_url) if settings.jwks_url else None

    def verify(self, token: str) -> Principal:
        """The caller a valid token names; `InvalidToken` otherwise."""
        try:
            if self._jwks is not None:
                key: Any = self._jwks.get_signing_key_from_jwt(token).key
                algorithms = _ASYMMETRIC
            else:
                key, algorithms = self._settings.jwt_secret.get_secret_value(), ["HS256"]
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=self._settings.jwt_audience,
                issuer=self._settings.jwt_issuer,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.PyJWTError as error:
            raise InvalidToken(type(error).__name__) from error
        role = claims.get("role")
        if role not in ROLES:
            raise InvalidToken("unknown role")
        return Principal(str(claims["sub"]), role, claims.get("agency"), claims.get("jurisdiction"))


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

SCOPE_CLAIMS: dict[Role, Literal["agency", "jurisdiction"]] = {
    "officer": "agency",
    "case_manager": "agency",
    "program_manager": "jurisdiction",
}
"""The claim each scoped role's token must carry: it decides what the caller may see (docs/access.md)."""


class Access:
    """Verifies bearer tokens for one app (`create_app` keeps it as `app.state.access`)."""

    def __init__(self, settings: ServiceSettings) -> None:
        self._verifier = TokenVerifier(settings)

    def principal(self, credentials: HTTPAuthorizationCredentials | None) -> Principal:
        """The caller named by valid bearer credentials; `Unauthorized` otherwise."""
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise Unauthorized("a bearer token is required")
        try:
            return self._verifier.verify(credentials.credentials)
        except InvalidToken as error:
            raise Unauthorized(f"the bearer token is not valid ({error})") from error


async def authenticated(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    """FastAPI dependency: the caller of this request, whatever its role; 401 without a valid token.

    Resolved once per request however many dependencies ask for it.
    """
    access: Access = request.app.state.access
    principal = access.principal(credentials)
    request.state.principal = principal
    return principal


def allow(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """FastAPI dependency admitting only `roles`, each with the scope claim its role needs
    (`SCOPE_CLAIMS`); it returns the caller. 401 without a valid token, 403 otherwise."""
    allowed = frozenset(roles)

    async def caller(principal: Annotated[Principal, Depends(authenticated)]) -> Principal:
        if principal.role not in allowed:
            raise Forbidden(f"the {principal.role} role may not use this route")
        claim = SCOPE_CLAIMS.get(principal.role)
        if claim is not None and not getattr(principal, claim):
            role = principal.role.replace("_", " ")
            raise Forbidden(f"a {role}'s token must name its {claim} (`{claim}` claim): its scope decides what it sees")
        return principal

    return caller
