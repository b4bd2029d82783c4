"""Intake's settings: one class, read from the environment once at start-up."""

from pathlib import Path

from pydantic import Field, SecretStr, model_validator

from divert_platform.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    """`DIVERT_*` variables for every intake process."""

    service_name: str = "intake"
    port: int = 8001
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = Field("default", description="The Temporal namespace of the deadline workflows.")
    # Whoever can reach the Temporal frontend can start and signal workflows and poll the deadline
    # task queue: outside development the connection must be encrypted and authenticated.
    temporal_tls: bool = Field(
        False, description="Connect to Temporal over TLS (implied by any DIVERT_TEMPORAL_TLS_* file or an API key)."
    )
    temporal_tls_ca_file: Path | None = Field(
        None, description="PEM CA bundle the Temporal server's certificate is verified against (default: system CAs)."
    )
    temporal_tls_cert_file: Path | None = Field(
        None, description="PEM client certificate for mutual TLS with Temporal."
    )
    temporal_tls_key_file: Path | None = Field(None, description="PEM private key of the client certificate.")
    temporal_tls_server_name: str | None = Field(
        None, description="Name to expect on (and send as SNI to) the Temporal server, if not the address's host."
    )
    temporal_api_key: SecretStr | None = Field(
        None, description="API key (bearer) presented to Temporal, e.g. Temporal Cloud's; implies TLS."
    )
    temporal_allow_insecure: bool = Field(
        False,
        description=(
            "Allow a Temporal connection without TLS or without client credentials outside development (only where "
            "something else, e.g. a service mesh's mTLS, secures it)."
        ),
    )
    warrants_url: str = Field("http://127.0.0.1:8004", description="Base URL of the warrants service.")
    # Police RMS integrations face the outside world: a per-client limit keeps one runaway
    # integration from starving the others.
    rate_limit_per_minute: int = Field(
        600, ge=0, description="Changes (POST/PUT/PATCH/DELETE) per minute per caller; 0 turns it off."
    )

    @property
    def temporal_uses_tls(self) -> bool:
        """Whether the Temporal connection is encrypted."""
        return (
            self.temporal_tls
            or self.temporal_api_key is not None
            or any(
                setting is not None
                for setting in (
                    self.temporal_tls_ca_file,
                    self.temporal_tls_cert_file,
                    self.temporal_tls_key_file,
                    self.temporal_tls_server_name,
                )
            )
        )

    @model_validator(mode="after")
    def _secure_temporal(self) -> "IntakeSettings":
        if (self.temporal_tls_cert_file is None) != (self.temporal_tls_key_file is None):
            raise ValueError("DIVERT_TEMPORAL_TLS_CERT_FILE and DIVERT_TEMPORAL_TLS_KEY_FILE go together")
        if self.temporal_api_key is not None and not self.temporal_api_key.get_secret_value():
            raise ValueError("DIVERT_TEMPORAL_API_KEY is empty")
        if self.environment == "development" or self.temporal_allow_insecure:
            return self
        authenticated = self.temporal_api_key is not None or self.temporal_tls_cert_file is not None
        if not (self.temporal_uses_tls and authenticated):
            raise ValueError(
                "refusing to connect to Temporal without TLS and client credentials outside development: anyone who "
                "reaches its frontend could start deadline workflows. Set DIVERT_TEMPORAL_TLS_CERT_FILE and "
                "DIVERT_TEMPORAL_TLS_KEY_FILE (mutual TLS; DIVERT_TEMPORAL_TLS_CA_FILE for a private CA) or "
                "DIVERT_TEMPORAL_API_KEY, or DIVERT_TEMPORAL_ALLOW_INSECURE=true where a service mesh secures it"
            )
        return self
