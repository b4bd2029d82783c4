"""Kafka transport settings: what a process refuses at start-up, and what its clients are given.

Outside development a process must talk TLS to the brokers and authenticate as its service's
principal, or the per-principal ACLs deploy/ creates mean nothing.
"""

import asyncio
import datetime
import ssl
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import ValidationError

from divert_platform.settings import ServiceSettings

PRODUCTION: dict[str, Any] = {
    "environment": "production",
    "database_url": "postgresql+asyncpg://db/intake",
    "jwks_url": "https://idp.example/jwks",
    "service_name": "intake",
}
SCRAM: dict[str, Any] = {
    "kafka_security_protocol": "SASL_SSL",
    "kafka_sasl_mechanism": "SCRAM-SHA-512",
    "kafka_sasl_password": "a-long-random-password",
}


@pytest.mark.parametrize("environment", ["production", "test"])
@pytest.mark.parametrize("protocol", ["PLAINTEXT", "SASL_PLAINTEXT"])
def test_outside_development_an_unencrypted_transport_is_refused(environment: str, protocol: str) -> None:
    extra = (
        {"kafka_sasl_mechanism": "SCRAM-SHA-512", "kafka_sasl_password": "pw"} if protocol.startswith("SASL") else {}
    )
    with pytest.raises(ValidationError, match=f"DIVERT_KAFKA_SECURITY_PROTOCOL={protocol}") as refused:
        ServiceSettings(**{**PRODUCTION, "environment": environment}, kafka_security_protocol=protocol, **extra)
    assert "DIVERT_KAFKA_ALLOW_INSECURE" in str(refused.value)


def test_production_refuses_plaintext_by_default() -> None:
    # nothing about Kafka configured: the default (the embedded broker's PLAINTEXT) must not pass
    with pytest.raises(ValidationError, match="DIVERT_KAFKA_SECURITY_PROTOCOL=PLAINTEXT"):
        ServiceSettings(**PRODUCTION)


def test_a_closed_test_rig_may_allow_an_insecure_transport() -> None:
    settings = ServiceSettings(**PRODUCTION, kafka_allow_insecure=True)
    assert settings.kafka_options() == {"security_protocol": "PLAINTEXT"}


def test_development_keeps_the_embedded_brokers_plaintext() -> None:
    assert ServiceSettings().kafka_options() == {"security_protocol": "PLAINTEXT"}


def test_sasl_needs_a_mechanism() -> None:
    with pytest.raises(ValidationError, match="needs DIVERT_KAFKA_SASL_MECHANISM"):
        ServiceSettings(**PRODUCTION, kafka_security_protocol="SASL_SSL", kafka_sasl_password="pw")


@pytest.mark.parametrize("password", [None, ""])
def test_sasl_needs_a_password(password: str | None) -> None:
    with pytest.raises(ValidationError, match="DIVERT_KAFKA_SASL_PASSWORD is required"):
        ServiceSettings(**{**PRODUCTION, **SCRAM, "kafka_sasl_password": password})


def test_sasl_refuses_an_empty_username() -> None:
    with pytest.raises(ValidationError, match="DIVERT_KAFKA_SASL_USERNAME is empty"):
        ServiceSettings(**PRODUCTION, **SCRAM, kafka_sasl_username="")


def test_a_mechanism_without_sasl_is_refused_rather_than_ignored() -> None:
    with pytest.raises(ValidationError, match="DIVERT_KAFKA_SASL_MECHANISM is set but"):
        ServiceSettings(kafka_security_protocol="SSL", kafka_sasl_mechanism="SCRAM-SHA-512", kafka_sasl_password="pw")


def test_tls_without_a_client_certificate_authenticates_nobody() -> None:
    with pytest.raises(
        ValidationError, match="DIVERT_KAFKA_SSL_CERTFILE and DIVERT_KAFKA_SSL_KEYFILE, or use SASL_SSL"
    ):
        ServiceSettings(**PRODUCTION, kafka_security_protocol="SSL")


def test_a_client_certificate_needs_its_key_and_tls() -> None:
    with pytest.raises(ValidationError, match="must be set together"):
        ServiceSettings(**PRODUCTION, kafka_security_protocol="SSL", kafka_ssl_certfile=Path("client.pem"))
    with pytest.raises(ValidationError, match="which does not use TLS"):
        ServiceSettings(kafka_ssl_certfile=Path("client.pem"), kafka_ssl_keyfile=Path("client.key"))


def test_every_process_of_a_service_authenticates_as_its_principal() -> None:
    settings = ServiceSettings(**PRODUCTION, **SCRAM)
    assert settings.kafka_sasl_username == settings.kafka_principal == "divert-intake"
    options = settings.kafka_options()
    assert isinstance(options.pop("ssl_context"), ssl.SSLContext)
    assert options == {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "divert-intake",
        "sasl_plain_password": "a-long-random-password",
    }


def test_an_explicit_username_wins() -> None:
    settings = ServiceSettings(**PRODUCTION, **SCRAM, kafka_sasl_username="platform-issued-name")
    assert settings.kafka_options()["sasl_plain_username"] == "platform-issued-name"


# ---------------------------------------------------------------- TLS reaches the clients


def _key_and_cert(
    name: str, issuer: tuple[ec.EllipticCurvePrivateKey, x509.Certificate] | None, *, ca: bool = False
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    signing_key, issuer_name = (key, subject) if issuer is None else (issuer[0], issuer[1].subject)
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
    return key, builder.sign(signing_key, hashes.SHA256())


def _write(
    path: Path, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey | None = None, password: bytes = b""
) -> Path:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    if key is not None:
        encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
        key_path = path.with_suffix(".key")
        key_path.write_bytes(
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
        )
    return path


async def test_the_ca_and_the_client_certificate_reach_a_tls_handshake(tmp_path: Path) -> None:
    """A broker that requires client certificates (mTLS) sees the service's certificate, and the
    client verifies the broker against the configured CA (an encrypted key opens with its password)."""
    authority = _key_and_cert("divert-test-ca", None, ca=True)
    server_key, server_cert = _key_and_cert("localhost", authority)
    client_key, client_cert = _key_and_cert("divert-intake", authority)
    ca_file = _write(tmp_path / "ca.pem", authority[1])
    server_file = _write(tmp_path / "broker.pem", server_cert, server_key)
    client_file = _write(tmp_path / "client.pem", client_cert, client_key, password=b"key-password")

    broker = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=ca_file)
    broker.load_cert_chain(server_file, server_file.with_suffix(".key"))
    broker.verify_mode = ssl.CERT_REQUIRED
    peers: asyncio.Queue[Any] = asyncio.Queue()

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await peers.put(writer.get_extra_info("peercert"))
        writer.close()

    settings = ServiceSettings(
        **PRODUCTION,
        kafka_security_protocol="SSL",
        kafka_ssl_cafile=ca_file,
        kafka_ssl_certfile=client_file,
        kafka_ssl_keyfile=client_file.with_suffix(".key"),
        kafka_ssl_key_password="key-password",
    )
    stranger = _write(tmp_path / "stranger.pem", _key_and_cert("kafka", None)[1])
    distrusting = ServiceSettings(kafka_security_protocol="SSL", kafka_ssl_cafile=stranger)
    async with await asyncio.start_server(accept, "127.0.0.1", 0, ssl=broker) as server:
        port = server.sockets[0].getsockname()[1]
        _, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=settings.kafka_options()["ssl_context"], server_hostname="localhost"
        )
        peer = await asyncio.wait_for(peers.get(), 30)
        writer.close()
        # a broker whose certificate the configured CA did not sign is refused
        with pytest.raises(ssl.SSLCertVerificationError):
            await asyncio.open_connection(
                "127.0.0.1", port, ssl=distrusting.kafka_options()["ssl_context"], server_hostname="localhost"
            )
    assert dict(pair[0] for pair in peer["subject"]) == {"commonName": "divert-intake"}
