"""Who is signed in: tokens from the identity provider (OpenID Connect, code flow with PKCE) in
production, minted with the development key on the development sign-in page, and verified either way
exactly as the APIs verify them."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from authlib.integrations.starlette_client import OAuth, StarletteOAuth2App
from starlette.requests import Request

from divert_console.config import ConsoleSettings
from divert_platform.auth import Principal, TokenVerifier, mint_token
from divert_platform.principals import Role

PROVIDER = "divert"


@dataclass(frozen=True)
class SignedIn:
    """A verified sign-in: the API token and whom it names."""

    token: str
    principal: Principal


class Identity:
    """Signs people in and verifies the tokens their sessions hold."""

    def __init__(self, settings: ConsoleSettings) -> None:
        self._settings = settings
        self._verifier = TokenVerifier(settings)
        self._oauth: StarletteOAuth2App | None = None
        if settings.oidc_discovery_url and settings.oidc_client_id:
            registry = OAuth()
            registry.register(
                PROVIDER,
                server_metadata_url=settings.oidc_discovery_url,
                client_id=settings.oidc_client_id,
                client_secret=(settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret else None),
                client_kwargs={"scope": settings.oidc_scope, "code_challenge_method": "S256"},
            )
            self._oauth = registry.create_client(PROVIDER)

    @property
    def uses_provider(self) -> bool:
        """Whether people sign in at the identity provider (else on the development page)."""
        return self._oauth is not None

    async def verify(self, token: str) -> Principal:
        """Whom a token names; `divert_platform.auth.InvalidToken` if the APIs would refuse it now."""
        return await self._verifier.verify(token)

    async def development_sign_in(
        self, *, subject: str, role: Role, agency: str | None, jurisdiction: str | None
    ) -> SignedIn:
        """A development token for the chosen role and scope (never outside development)."""
        if not self._settings.development_sign_in:
            raise PermissionError("the development sign-in exists only in development")
        token = mint_token(
            self._settings,
            subject=subject,
            role=role,
            agency=agency or None,
            jurisdiction=jurisdiction or None,
            lifetime=timedelta(hours=self._settings.session_hours),
        )
        return SignedIn(token, await self.verify(token))

    async def begin(self, request: Request) -> Any:
        """Redirect to the identity provider (state, nonce and the PKCE verifier kept in the session)."""
        assert self._oauth is not None
        return await self._oauth.authorize_redirect(
            request, self._settings.public_url.rstrip("/") + "/sign-in/callback"
        )

    async def finish(self, request: Request) -> SignedIn:
        """Exchange the provider's code for tokens (state, PKCE and the ID token's nonce are checked by
        authlib) and verify the access token as the APIs will."""
        assert self._oauth is not None
        tokens = await self._oauth.authorize_access_token(request)
        access_token = str(tokens["access_token"])
        return SignedIn(access_token, await self.verify(access_token))
