"""Tokens: what verifies, what is refused, and settings that refuse weak secrets."""

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from pydantic import ValidationError

from divert_platform.auth import InvalidToken, TokenVerifier, mint_token, service_token
from divert_platform.settings import DEVELOPMENT_JWT_SECRET, ServiceSettings

SETTINGS = ServiceSettings()


def test_a_minted_token_names_its_caller() -> None:
    token = mint_token(SETTINGS, subject="officer-7781", role="officer", agency="SPD", jurisdiction="king-county")
    principal = TokenVerifier(SETTINGS).verify(token)
    assert (principal.subject, principal.role, principal.agency, principal.jurisdiction) == (
        "officer-7781",
        "officer",
        "SPD",
        "king-county",
    )
    assert principal.cause().metadata() == {"actor": "officer-7781", "role": "officer", "agency": "SPD"}


def _claims(**overrides: object) -> dict[str, object]:
    now = datetime.now(UTC)
    claims: dict[str, object] = {
        "sub": "x",
        "role": "officer",
        "iss": SETTINGS.jwt_issuer,
        "aud": SETTINGS.jwt_audience,
        "iat": now,
        "exp": now + timedelta(minutes=5),
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


@pytest.mark.parametrize(
    ("claims", "key"),
    [
        (_claims(exp=datetime.now(UTC) - timedelta(seconds=1)), DEVELOPMENT_JWT_SECRET),  # expired
        (_claims(), "another-key-that-is-long-enough-to-be-a-key"),  # forged
        (_claims(aud="someone-else"), DEVELOPMENT_JWT_SECRET),
        (_claims(iss="someone-else"), DEVELOPMENT_JWT_SECRET),
        (_claims(role="wizard"), DEVELOPMENT_JWT_SECRET),
        (_claims(exp=None), DEVELOPMENT_JWT_SECRET),  # no expiry at all
    ],
    ids=["expired", "forged", "audience", "issuer", "role", "no-exp"],
)
def test_bad_tokens_are_refused(claims: dict[str, object], key: str) -> None:
    with pytest.raises(InvalidToken):
        TokenVerifier(SETTINGS).verify(jwt.encode(claims, key, algorithm="HS256"))


def test_an_unsigned_token_is_refused() -> None:
    with pytest.raises(InvalidToken):
        TokenVerifier(SETTINGS).verify(jwt.encode(_claims(), None, algorithm="none"))


def test_the_service_token_is_a_service_role() -> None:
    assert TokenVerifier(SETTINGS).verify(service_token(SETTINGS)).role == "service"


# What production needs besides tokens: a database and Kafka over TLS as the service's principal.
PRODUCTION = {
    "environment": "production",
    "database_url": "postgresql+asyncpg://db/x",
    "kafka_security_protocol": "SASL_SSL",
    "kafka_sasl_mechanism": "SCRAM-SHA-512",
    "kafka_sasl_password": "pw",
}


@pytest.mark.parametrize("secret", [DEVELOPMENT_JWT_SECRET, "changeme", "short-secret"])
def test_outside_development_weak_secrets_are_refused(secret: str) -> None:
    with pytest.raises(ValidationError, match="JWT secret"):
        ServiceSettings(**PRODUCTION, jwt_secret=secret)


def test_production_starts_with_a_jwks_url_or_a_strong_secret() -> None:
    ServiceSettings(**PRODUCTION, jwks_url="https://idp/jwks")
    ServiceSettings(**PRODUCTION, jwt_secret="x" * 48)


def test_tokens_are_not_minted_where_an_identity_provider_issues_them() -> None:
    with pytest.raises(RuntimeError):
        mint_token(ServiceSettings(jwks_url="https://idp/jwks"), subject="x", role="ops")


def test_kafka_sasl_settings_reach_the_clients() -> None:
    settings = ServiceSettings(
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="divert",
        kafka_sasl_password="pw",
    )
    assert settings.kafka_options() == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "divert",
        "sasl_plain_password": "pw",
    }
    assert ServiceSettings().kafka_options() == {"security_protocol": "PLAINTEXT"}
