"""Tokens: what verifies, what is refused, and settings that refuse weak secrets."""

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from pydantic import ValidationError

from divert_platform.auth import InvalidToken, TokenVerifier, mint_token, service_token
from divert_platform.settings import DEVELOPMENT_JWT_SECRET, ServiceSettings

SETTINGS = ServiceSettings()


async def test_a_minted_token_names_its_caller() -> None:
    token = mint_token(SETTINGS, subject="officer-7781", role="officer", agency="SPD", jurisdiction="king-county")
    principal = await TokenVerifier(SETTINGS).verify(token)
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
        (_claims(exp=datetime.now(UTC) - timedelta(seconds=120)), DEVELOPMENT_JWT_SECRET),  # expired
        (_claims(), "another-key-that-is-long-enough-to-be-a-key"),  # forged
        (_claims(aud="someone-else"), DEVELOPMENT_JWT_SECRET),
        (_claims(iss="someone-else"), DEVELOPMENT_JWT_SECRET),
        (_claims(role="wizard"), DEVELOPMENT_JWT_SECRET),
        (_claims(exp=None), DEVELOPMENT_JWT_SECRET),  # no expiry at all
    ],
    ids=["expired", "forged", "audience", "issuer", "role", "no-exp"],
)
async def test_bad_tokens_are_refused(claims: dict[str, object], key: str) -> None:
    with pytest.raises(InvalidToken):
        await TokenVerifier(SETTINGS).verify(jwt.encode(claims, key, algorithm="HS256"))


async def test_an_unsigned_token_is_refused() -> None:
    with pytest.raises(InvalidToken):
        await TokenVerifier(SETTINGS).verify(jwt.encode(_claims(), None, algorithm="none"))


async def test_the_service_token_is_a_service_role() -> None:
    assert (await TokenVerifier(SETTINGS).verify(service_token(SETTINGS))).role == "service"


@pytest.mark.parametrize(
    ("claim", "seconds", "accepted"),
    [
        ("exp", -30, True),  # our clock 30 s ahead of the issuer's
        ("exp", -120, False),
        ("iat", 30, True),  # the issuer's clock 30 s ahead of ours
        ("nbf", 30, True),
        ("nbf", 120, False),
    ],
    ids=["exp-30s-ago", "exp-120s-ago", "iat-in-30s", "nbf-in-30s", "nbf-in-120s"],
)
async def test_clock_skew_within_the_leeway_is_tolerated(claim: str, seconds: int, accepted: bool) -> None:
    # The time is taken here, not when the tests are collected: a whole suite runs for minutes.
    claims = _claims(**{claim: datetime.now(UTC) + timedelta(seconds=seconds)})
    token = jwt.encode(claims, DEVELOPMENT_JWT_SECRET, algorithm="HS256")
    if accepted:
        assert (await TokenVerifier(SETTINGS).verify(token)).subject == "x"
    else:
        with pytest.raises(InvalidToken):
            await TokenVerifier(SETTINGS).verify(token)


async def test_without_leeway_a_token_expired_30_seconds_ago_is_refused() -> None:
    token = jwt.encode(_claims(exp=datetime.now(UTC) - timedelta(seconds=30)), DEVELOPMENT_JWT_SECRET, "HS256")
    with pytest.raises(InvalidToken):
        await TokenVerifier(ServiceSettings(jwt_leeway_seconds=0)).verify(token)


# What production needs besides tokens: a database and Kafka over TLS as the service's principal.
PRODUCTION = {
    "environment": "production",
    "database_url": "postgresql+asyncpg://db/x",
    "kafka_security_protocol": "SASL_SSL",
    "kafka_sasl_mechanism": "SCRAM-SHA-512",
    "kafka_sasl_password": "pw",
}


TEST = PRODUCTION | {"environment": "test"}


@pytest.mark.parametrize("secret", [DEVELOPMENT_JWT_SECRET, "changeme", "short-secret"])
def test_in_test_rigs_weak_secrets_are_refused(secret: str) -> None:
    with pytest.raises(ValidationError, match="JWT secret"):
        ServiceSettings(**TEST, jwt_secret=secret)


def test_test_rigs_start_with_a_jwks_url_or_a_strong_secret() -> None:
    ServiceSettings(**TEST, jwks_url="https://idp/jwks")
    ServiceSettings(**TEST, jwt_secret="x" * 48)


@pytest.mark.parametrize("secret", [DEVELOPMENT_JWT_SECRET, "x" * 48])
def test_production_refuses_shared_secrets_however_strong(secret: str) -> None:
    with pytest.raises(ValidationError, match="production without DIVERT_JWKS_URL"):
        ServiceSettings(**PRODUCTION, jwt_secret=secret)
    ServiceSettings(**PRODUCTION, jwks_url="https://idp/jwks")


@pytest.mark.parametrize("environment", ["production", "test"])
@pytest.mark.parametrize("url", ["http://idp/jwks", "HTTP://idp/jwks", "idp/jwks", "file:///etc/jwks.json"])
def test_outside_development_keys_are_fetched_only_over_https(environment: str, url: str) -> None:
    with pytest.raises(ValidationError, match="DIVERT_JWKS_URL that is not https://"):
        ServiceSettings(**(PRODUCTION | {"environment": environment}), jwks_url=url)


def test_development_may_use_a_local_identity_provider_over_http() -> None:
    assert ServiceSettings(jwks_url="http://127.0.0.1:8080/jwks").jwks_url == "http://127.0.0.1:8080/jwks"


@pytest.mark.parametrize("leeway", [-1, 301])
def test_the_leeway_is_bounded(leeway: int) -> None:
    with pytest.raises(ValidationError, match="jwt_leeway_seconds"):
        ServiceSettings(jwt_leeway_seconds=leeway)


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
