"""Sign-in at an identity provider (OpenID Connect, code flow with PKCE S256), end to end over real HTTP.

The provider is a small one of this test's own, served by uvicorn on a free port, so authlib's discovery,
code exchange and ID-token checks and the platform's JWKS verification all run for real; the test plays
the browser's part by hand (console → provider's /authorize → console's callback).
"""

import base64
import hashlib
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Form, HTTPException
from fastapi.testclient import TestClient
from starlette.responses import RedirectResponse

from divert_console.config import DEVELOPMENT_SESSION_KEY, ConsoleSettings
from divert_console.entrypoints.app import create_console
from divert_console.entrypoints.session import EncryptedSession
from divert_platform.embedded import free_port

KID = "test-key"


@dataclass
class Provider:
    """The identity provider: what it was asked at /authorize, and what its next access token says."""

    issuer: str
    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    asked: dict[str, dict[str, str]] = field(default_factory=dict)  # code → the /authorize request
    claims: dict[str, Any] = field(default_factory=dict)  # overrides of the next access token's claims
    signing_key: rsa.RSAPrivateKey | None = None  # signs the next access token instead of `key`

    def app(self) -> FastAPI:
        idp = FastAPI()

        @idp.get("/.well-known/openid-configuration")
        def discovery() -> dict[str, Any]:
            return {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "code_challenge_methods_supported": ["S256"],
                "id_token_signing_alg_values_supported": ["RS256"],
            }

        @idp.get("/authorize")
        def authorize(
            response_type: str,
            client_id: str,
            redirect_uri: str,
            state: str,
            nonce: str,
            code_challenge: str,
            code_challenge_method: str,
        ) -> RedirectResponse:
            code = secrets.token_urlsafe(16)
            self.asked[code] = {
                "client_id": client_id,
                "redirect_uri": redirect_uri,
                "nonce": nonce,
                "code_challenge": code_challenge,
                "method": code_challenge_method,
            }
            return RedirectResponse(f"{redirect_uri}?code={code}&state={state}", status_code=302)

        @idp.post("/token")
        def token(
            grant_type: str = Form(),
            code: str = Form(),
            redirect_uri: str = Form(),
            code_verifier: str = Form(),
            client_id: str = Form(),
        ) -> dict[str, Any]:
            asked = self.asked.pop(code, None)  # a code is good once
            if grant_type != "authorization_code" or asked is None or client_id != asked["client_id"]:
                raise HTTPException(400, "invalid_grant")
            if redirect_uri != asked["redirect_uri"] or asked["method"] != "S256":
                raise HTTPException(400, "invalid_grant")
            # PKCE really verified: only the holder of the verifier behind the challenge gets tokens.
            digest = base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode()).digest()).rstrip(b"=").decode()
            if digest != asked["code_challenge"]:
                raise HTTPException(400, "invalid_grant")
            now = int(time.time())
            base = {"sub": "pm-1", "iss": self.issuer, "iat": now, "exp": now + 600}
            access = base | {"aud": "divert", "role": "program_manager", "jurisdiction": "county-a"} | self.claims
            id_token = base | {"aud": asked["client_id"], "nonce": asked["nonce"]}
            return {
                "token_type": "Bearer",
                "expires_in": 600,
                "access_token": self._sign(access, self.signing_key or self.key),
                "id_token": self._sign(id_token, self.key),
            }

        @idp.get("/jwks")
        def jwks() -> dict[str, Any]:
            public = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
            return {"keys": [public | {"kid": KID, "use": "sig", "alg": "RS256"}]}

        return idp

    @staticmethod
    def _sign(claims: dict[str, Any], key: rsa.RSAPrivateKey) -> str:
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": KID})


@pytest.fixture(scope="module")
def served() -> Iterator[Provider]:
    """The provider, up on a free port for this module's tests (uvicorn in a thread: TestClient is synchronous)."""
    port = free_port()
    provider = Provider(issuer=f"http://127.0.0.1:{port}")
    server = uvicorn.Server(
        uvicorn.Config(provider.app(), port=port, log_config=None, access_log=False, lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:  # uvicorn offers no event to wait on
        assert thread.is_alive() and time.monotonic() < deadline, "the identity provider did not start"
        time.sleep(0.01)
    yield provider
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def provider(served: Provider) -> Provider:
    """The provider, reset: each test sets the access token it wants."""
    served.asked.clear()
    served.claims, served.signing_key = {}, None
    return served


@pytest.fixture
def console(provider: Provider, tmp_path: Path) -> Iterator[TestClient]:
    # development allows http URLs (the provider here has no TLS); production would refuse them
    settings = ConsoleSettings(
        environment="development",
        jwks_url=f"{provider.issuer}/jwks",
        jwt_issuer=provider.issuer,
        jwt_audience="divert",
        oidc_discovery_url=f"{provider.issuer}/.well-known/openid-configuration",
        oidc_client_id="divert-console",
        public_url="http://testserver",
        data_dir=tmp_path,
    )
    with TestClient(create_console(settings), base_url="http://testserver", follow_redirects=False) as client:
        yield client


def _at_provider(console: TestClient) -> dict[str, str]:
    """The browser's first two steps: the console sends it to the provider, which sends it back with a code."""
    began = console.get("/sign-in")
    assert began.status_code == 302
    sent = urlsplit(began.headers["location"])
    asked = {name: values[0] for name, values in parse_qs(sent.query).items()}
    assert asked["code_challenge_method"] == "S256" and asked["code_challenge"] and asked["state"]
    assert asked["redirect_uri"] == "http://testserver/sign-in/callback" and asked["client_id"] == "divert-console"
    back = httpx.get(began.headers["location"], follow_redirects=False)
    assert back.status_code == 302 and back.headers["location"].startswith("http://testserver/sign-in/callback?")
    return {name: values[0] for name, values in parse_qs(urlsplit(back.headers["location"]).query).items()}


def _signed_out(console: TestClient) -> bool:
    return bool(console.get("/").headers["location"] == "/sign-in")


def test_a_program_manager_signs_in_at_the_provider_and_lands_on_the_dashboard(
    console: TestClient, provider: Provider
) -> None:
    assert _signed_out(console)
    returned = _at_provider(console)
    finished = console.get("/sign-in/callback", params=returned)
    assert finished.status_code == 303 and finished.headers["location"] == "/dashboard"
    # the session holds the access token, which the console re-verifies against the JWKS on each request
    home = console.get("/")
    assert home.status_code == 303 and home.headers["location"] == "/dashboard"
    assert not provider.asked  # the code was exchanged (and so PKCE checked) exactly once


def test_a_callback_with_another_state_is_refused(console: TestClient) -> None:
    returned = _at_provider(console)
    refused = console.get("/sign-in/callback", params=returned | {"state": "someone-elses-state"})
    assert refused.status_code == 403
    assert _signed_out(console)


def test_a_role_the_console_does_not_serve_is_refused(console: TestClient, provider: Provider) -> None:
    provider.claims = {"role": "officer", "agency": "pd-1"}
    refused = console.get("/sign-in/callback", params=_at_provider(console))
    assert refused.status_code == 403 and "Not a console role" in refused.text
    assert _signed_out(console)


@pytest.mark.parametrize(
    "forged",
    [
        pytest.param({"claims": {"iss": "https://another-issuer.example"}}, id="another-issuer"),
        pytest.param({"claims": {"aud": "another-audience"}}, id="another-audience"),
        pytest.param({"signing_key": rsa.generate_private_key(public_exponent=65537, key_size=2048)}, id="another-key"),
    ],
)
def test_an_access_token_the_apis_would_refuse_starts_no_session(
    console: TestClient, provider: Provider, forged: dict[str, Any]
) -> None:
    provider.claims = forged.get("claims", {})
    provider.signing_key = forged.get("signing_key")
    refused = console.get("/sign-in/callback", params=_at_provider(console))
    assert refused.status_code == 403 and "Not a Divert token" in refused.text
    assert _signed_out(console)


def test_the_development_sign_in_is_not_there_beside_a_provider(console: TestClient) -> None:
    # A valid form (the session's own CSRF token, which any page gives, read from the cookie) so the 404 is
    # the route's answer and not the CSRF check's.
    assert console.get("/sign-in/callback", params={"code": "c", "state": "s"}).status_code == 403
    cookies = EncryptedSession(console.app, key=DEVELOPMENT_SESSION_KEY, max_age_seconds=60, secure=False)
    csrf = cookies.load(console.cookies.get("divert_session"))["csrf"]
    minted = console.post("/sign-in", data={"role": "program_manager", "jurisdiction": "c", "csrf_token": csrf})
    assert minted.status_code == 404
    assert _signed_out(console)
