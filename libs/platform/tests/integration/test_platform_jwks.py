"""Production verification: RS256 and ES256 tokens checked against a JWKS served over HTTP."""

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from divert_platform.auth import InvalidToken, TokenVerifier
from divert_platform.embedded import free_port
from divert_platform.settings import ServiceSettings

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def _jwk(public_key, kid: str, alg: str) -> dict[str, str]:
    algorithm = jwt.algorithms.RSAAlgorithm if alg == "RS256" else jwt.algorithms.ECAlgorithm
    return {**json.loads(algorithm.to_jwk(public_key)), "kid": kid, "alg": alg, "use": "sig"}


@pytest.fixture(scope="module")
def jwks_url() -> Iterator[str]:
    body = json.dumps(
        {"keys": [_jwk(RSA_KEY.public_key(), "rsa-1", "RS256"), _jwk(EC_KEY.public_key(), "ec-1", "ES256")]}
    ).encode()

    class Keys(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", free_port()), Keys)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json"
    server.shutdown()


def _token(key, kid: str, alg: str, **overrides: object) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": "pm-1",
        "role": "program_manager",
        "jurisdiction": "albany",
        "iss": "https://idp.example",
        "aud": "divert",
        "iat": now,
        "exp": now + timedelta(minutes=5),
        **overrides,
    }
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})


def _settings(jwks_url: str) -> ServiceSettings:
    return ServiceSettings(
        environment="production",
        database_url="postgresql+asyncpg://db/x",
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_password="pw",
        jwks_url=jwks_url,
        jwt_issuer="https://idp.example",
        jwt_audience="divert",
    )


@pytest.mark.parametrize(("key", "kid", "alg"), [(RSA_KEY, "rsa-1", "RS256"), (EC_KEY, "ec-1", "ES256")])
def test_identity_provider_tokens_verify(jwks_url: str, key, kid: str, alg: str) -> None:
    principal = TokenVerifier(_settings(jwks_url)).verify(_token(key, kid, alg))
    assert (principal.role, principal.jurisdiction) == ("program_manager", "albany")


def test_a_token_signed_by_another_key_or_for_another_audience_is_refused(jwks_url: str) -> None:
    verifier = TokenVerifier(_settings(jwks_url))
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(InvalidToken):
        verifier.verify(_token(stranger, "rsa-1", "RS256"))
    with pytest.raises(InvalidToken):
        verifier.verify(_token(RSA_KEY, "rsa-1", "RS256", aud="another-api"))


def test_the_development_key_is_not_accepted_in_production(jwks_url: str) -> None:
    dev_signed = jwt.encode(
        {
            "sub": "x",
            "role": "ops",
            "iss": "https://idp.example",
            "aud": "divert",
            "iat": datetime.now(UTC),
            "exp": datetime.now(UTC) + timedelta(minutes=5),
        },
        ServiceSettings().jwt_secret.get_secret_value(),
        algorithm="HS256",
        headers={"kid": "rsa-1"},
    )
    with pytest.raises(InvalidToken):
        TokenVerifier(_settings(jwks_url)).verify(dev_signed)
