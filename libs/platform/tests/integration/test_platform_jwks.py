"""Production verification: RS256 and ES256 tokens checked against a JWKS served over HTTPS by a
real local server, which the tests make slow, take down, or rotate keys on."""

import asyncio
import datetime as dt
import ipaddress
import json
import logging
import ssl
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from divert_platform.auth import InvalidToken, TokenVerifier
from divert_platform.embedded import free_port
from divert_platform.settings import ServiceSettings

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def _jwk(public_key, kid: str, alg: str) -> dict[str, str]:
    algorithm = jwt.algorithms.RSAAlgorithm if alg == "RS256" else jwt.algorithms.ECAlgorithm
    return {**json.loads(algorithm.to_jwk(public_key)), "kid": kid, "alg": alg, "use": "sig"}


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ssl.SSLContext]:
    """A self-signed certificate for 127.0.0.1, trusted by this process's HTTPS clients (`SSL_CERT_FILE`)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "idp.test")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    directory = tmp_path_factory.mktemp("idp-tls")
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SSL_CERT_FILE", str(cert_file))
        yield context


class IdentityProvider:
    """A real HTTPS JWKS endpoint whose keys can be rotated, which can hold requests or go down."""

    def __init__(self, tls: ssl.SSLContext) -> None:
        self.keys = [_jwk(RSA_KEY.public_key(), "rsa-1", "RS256"), _jwk(EC_KEY.public_key(), "ec-1", "ES256")]
        self.requests = 0
        self.hold = threading.Event()  # set: requests are held until `release`
        self.held = threading.Event()  # set while a request is being held
        self._released = threading.Event()
        provider = self

        class Keys(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                provider.requests += 1
                if provider.hold.is_set():
                    provider.held.set()
                    provider._released.wait(timeout=60)
                    provider.held.clear()
                body = json.dumps({"keys": provider.keys}).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (OSError, ssl.SSLError):
                    pass  # the client gave up waiting (the timeout test)

            def log_message(self, *_: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", free_port()), Keys)
        self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self._server.server_port}/.well-known/jwks.json"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def release(self) -> None:
        self.hold.clear()
        self._released.set()

    def stop(self) -> None:
        """Down: connections are refused from now on."""
        self.release()
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def idp(tls: ssl.SSLContext) -> Iterator[IdentityProvider]:
    provider = IdentityProvider(tls)
    yield provider
    provider.stop()


@pytest.fixture
def jwks_url(idp: IdentityProvider) -> str:
    return idp.url


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


def _settings(jwks_url: str, **overrides: object) -> ServiceSettings:
    return ServiceSettings(
        environment="production",
        database_url="postgresql+asyncpg://db/x",
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_password="pw",
        jwks_url=jwks_url,
        jwt_issuer="https://idp.example",
        jwt_audience="divert",
        **overrides,
    )


@pytest.mark.parametrize(("key", "kid", "alg"), [(RSA_KEY, "rsa-1", "RS256"), (EC_KEY, "ec-1", "ES256")])
async def test_identity_provider_tokens_verify(jwks_url: str, key, kid: str, alg: str) -> None:
    principal = await TokenVerifier(_settings(jwks_url)).verify(_token(key, kid, alg))
    assert (principal.role, principal.jurisdiction) == ("program_manager", "albany")


async def test_a_token_signed_by_another_key_or_for_another_audience_is_refused(jwks_url: str) -> None:
    verifier = TokenVerifier(_settings(jwks_url))
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(InvalidToken):
        await verifier.verify(_token(stranger, "rsa-1", "RS256"))
    with pytest.raises(InvalidToken):
        await verifier.verify(_token(RSA_KEY, "rsa-1", "RS256", aud="another-api"))


async def test_the_development_key_is_not_accepted_in_production(jwks_url: str) -> None:
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
        await TokenVerifier(_settings(jwks_url)).verify(dev_signed)


@pytest.mark.parametrize(("expired", "accepted"), [(30, True), (120, False)])
async def test_a_token_expired_within_the_leeway_is_accepted(jwks_url: str, expired: int, accepted: bool) -> None:
    now = datetime.now(UTC)
    token = _token(RSA_KEY, "rsa-1", "RS256", iat=now - timedelta(minutes=10), exp=now - timedelta(seconds=expired))
    verifier = TokenVerifier(_settings(jwks_url))
    if accepted:
        assert (await verifier.verify(token)).subject == "pm-1"
    else:
        with pytest.raises(InvalidToken, match="ExpiredSignatureError"):
            await verifier.verify(token)


async def _warned(caplog: pytest.LogCaptureFixture) -> str:
    """The refresh warning, once the background refresh has given up."""
    for _ in range(400):
        if warnings := [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]:
            return warnings[0]
        await asyncio.sleep(0.05)
    raise AssertionError("no warning about the failed refresh")


async def test_first_requests_share_one_fetch(idp: IdentityProvider) -> None:
    verifier = TokenVerifier(_settings(idp.url))
    principals = await asyncio.gather(*(verifier.verify(_token(RSA_KEY, "rsa-1", "RS256")) for _ in range(10)))
    assert {p.subject for p in principals} == {"pm-1"}
    assert idp.requests == 1


async def test_a_slow_identity_provider_stalls_no_request(idp: IdentityProvider) -> None:
    # keys are stale at once, so every request would want a refresh; the provider holds them all
    verifier = TokenVerifier(_settings(idp.url, jwks_cache_seconds=0.001, jwks_refetch_seconds=0))
    token = _token(RSA_KEY, "rsa-1", "RS256")
    await verifier.verify(token)
    idp.hold.set()
    await asyncio.sleep(0.01)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    ticking = asyncio.create_task(ticker())
    try:
        assert (await verifier.verify(token)).subject == "pm-1"  # starts the refresh, which the provider holds
        assert await asyncio.to_thread(idp.held.wait, 30)
        before = ticks
        principals = await asyncio.gather(*(verifier.verify(token) for _ in range(20)))
        await asyncio.sleep(0)
        assert {p.subject for p in principals} == {"pm-1"}
        assert idp.held.is_set()  # all verified while the refresh was still waiting for the provider
        assert ticks > before  # and the event loop kept running other tasks meanwhile
        assert idp.requests == 2  # one refresh in flight, however many requests found the keys stale
    finally:
        ticking.cancel()
        idp.release()


async def test_a_refresh_slower_than_the_timeout_keeps_the_last_good_keys(
    idp: IdentityProvider, caplog: pytest.LogCaptureFixture
) -> None:
    settings = _settings(idp.url, jwks_cache_seconds=0.001, jwks_refetch_seconds=0, jwks_timeout_seconds=0.3)
    verifier = TokenVerifier(settings)
    token = _token(EC_KEY, "ec-1", "ES256")
    await verifier.verify(token)
    idp.hold.set()
    await asyncio.sleep(0.01)
    with caplog.at_level(logging.WARNING, logger="divert_platform.auth"):
        assert (await verifier.verify(token)).subject == "pm-1"
        warning = await _warned(caplog)
    assert "keeping the 2 keys fetched before" in warning and "Timeout" in warning
    assert token not in caplog.text
    assert (await verifier.verify(token)).subject == "pm-1"
    idp.release()


async def test_when_the_provider_is_down_the_last_good_keys_still_verify(
    idp: IdentityProvider, caplog: pytest.LogCaptureFixture
) -> None:
    verifier = TokenVerifier(_settings(idp.url, jwks_cache_seconds=0.001, jwks_refetch_seconds=0))
    token = _token(RSA_KEY, "rsa-1", "RS256")
    await verifier.verify(token)
    idp.stop()
    await asyncio.sleep(0.01)
    with caplog.at_level(logging.WARNING, logger="divert_platform.auth"):
        assert (await verifier.verify(token)).subject == "pm-1"
        assert "ConnectError" in await _warned(caplog)
        assert (await verifier.verify(token)).subject == "pm-1"
        with pytest.raises(InvalidToken, match="unknown signing key"):  # a key it never had: nothing to fall back on
            await verifier.verify(_token(RSA_KEY, "rsa-new", "RS256"))
    assert token not in caplog.text


async def test_unknown_key_ids_refetch_at_most_once_per_interval(idp: IdentityProvider) -> None:
    verifier = TokenVerifier(_settings(idp.url, jwks_refetch_seconds=60))
    await verifier.verify(_token(RSA_KEY, "rsa-1", "RS256"))
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for i in range(20):
        with pytest.raises(InvalidToken, match="unknown signing key"):
            await verifier.verify(_token(stranger, f"made-up-{i}", "RS256"))
    assert idp.requests == 1  # none of the made-up key ids reached the provider


async def test_a_rotated_key_is_fetched_when_a_token_names_it(idp: IdentityProvider) -> None:
    verifier = TokenVerifier(_settings(idp.url, jwks_refetch_seconds=0))
    await verifier.verify(_token(RSA_KEY, "rsa-1", "RS256"))
    rotated = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    idp.keys = [*idp.keys, _jwk(rotated.public_key(), "rsa-2", "RS256")]
    assert (await verifier.verify(_token(rotated, "rsa-2", "RS256"))).subject == "pm-1"
    assert idp.requests == 2
