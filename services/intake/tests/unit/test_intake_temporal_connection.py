"""How intake connects to Temporal: refused in plaintext without credentials outside development,
and the options handed to `Client.connect` (TLS, API key, identity) built from the settings."""

import socket
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from temporalio.service import TLSConfig

from divert_intake.bootstrap import temporal_connect_options
from divert_intake.config import IntakeSettings

PRODUCTION: dict[str, Any] = {
    "environment": "production",
    "database_url": "postgresql+asyncpg://intake@db/intake",
    "jwks_url": "https://idp.example/jwks",
    "kafka_allow_insecure": True,  # Kafka's transport security is the platform's concern, tested there
}


def settings(**values: Any) -> IntakeSettings:
    """Settings from `values` alone (no environment variables, no .env)."""
    return IntakeSettings.model_validate(values)


@pytest.fixture
def pem(tmp_path: Path) -> dict[str, Path]:
    """A CA bundle, a client certificate and its key, as files (their contents are only read)."""
    files = {name: tmp_path / f"{name}.pem" for name in ("ca", "cert", "key")}
    for name, path in files.items():
        path.write_bytes(f"-----BEGIN {name.upper()}-----\n".encode())
    return files


def test_development_connects_in_plaintext_as_the_named_process() -> None:
    options = temporal_connect_options(settings(), "consumer")
    assert (options["namespace"], options["tls"], options["api_key"]) == ("default", False, None)
    assert options["identity"] == f"divert-intake-consumer@{socket.gethostname()}"
    assert temporal_connect_options(settings(), None)["identity"] == f"divert-intake@{socket.gethostname()}"


@pytest.mark.parametrize(
    "security",
    [
        {},
        {"temporal_tls": True},  # encrypted, but anyone may connect
        {"temporal_tls_server_name": "temporal.internal"},
    ],
)
@pytest.mark.parametrize("environment", ["production", "test"])
def test_outside_development_a_connection_without_client_credentials_is_refused(
    security: dict[str, Any], environment: str
) -> None:
    with pytest.raises(ValidationError, match="refusing to connect to Temporal without TLS and client credentials"):
        settings(**(PRODUCTION | {"environment": environment} | security))


def test_an_explicit_allowance_lets_a_plaintext_connection_through() -> None:
    options = temporal_connect_options(settings(**PRODUCTION, temporal_allow_insecure=True), "deadline-worker")
    assert options["tls"] is False and options["api_key"] is None


def test_mutual_tls_reads_the_files_and_overrides_the_server_name(pem: dict[str, Path]) -> None:
    configured = settings(
        **PRODUCTION,
        temporal_namespace="divert",
        temporal_tls_ca_file=pem["ca"],
        temporal_tls_cert_file=pem["cert"],
        temporal_tls_key_file=pem["key"],
        temporal_tls_server_name="temporal-frontend.temporal.svc",
    )
    options = temporal_connect_options(configured, "deadline-worker")
    assert options["tls"] == TLSConfig(
        server_root_ca_cert=pem["ca"].read_bytes(),
        domain="temporal-frontend.temporal.svc",
        client_cert=pem["cert"].read_bytes(),
        client_private_key=pem["key"].read_bytes(),
    )
    assert (options["namespace"], options["api_key"]) == ("divert", None)
    assert options["identity"] == f"divert-intake-deadline-worker@{socket.gethostname()}"


def test_an_api_key_implies_tls_with_the_system_cas() -> None:
    options = temporal_connect_options(settings(**PRODUCTION, temporal_api_key="tk-123"), "consumer")
    assert (options["tls"], options["api_key"]) == (True, "tk-123")
    assert "tk-123" not in repr(settings(**PRODUCTION, temporal_api_key="tk-123"))


def test_a_certificate_without_its_key_is_refused_anywhere(pem: dict[str, Path]) -> None:
    with pytest.raises(ValidationError, match="go together"):
        settings(temporal_tls_cert_file=pem["cert"])


def test_an_unreadable_file_names_its_setting(tmp_path: Path) -> None:
    configured = settings(temporal_tls_ca_file=tmp_path / "missing.pem")
    with pytest.raises(RuntimeError, match="DIVERT_TEMPORAL_TLS_CA_FILE"):
        temporal_connect_options(configured)
