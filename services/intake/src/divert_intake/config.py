"""Intake's settings: one class, read from the environment once at start-up."""

from datetime import timedelta
from pathlib import Path

from pydantic import Field, SecretStr, model_validator

from divert_platform.callbacks.delivery import DISABLE_AFTER, RETRY_DELAYS, DeliveryPolicy
from divert_platform.callbacks.secret_box import DEVELOPMENT_CALLBACK_KEY, SecretBox, valid_key
from divert_platform.settings import ServiceSettings

_DAY = 86_400.0


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
    # Status callbacks to agencies' systems (docs/rms-integration.md).
    callback_encryption_keys: SecretStr | None = Field(
        None,
        description=(
            "Comma-separated Fernet keys the endpoints' signing secrets are encrypted with: the first encrypts, "
            "all decrypt (put a new key first to rotate). Needed by the api and relay outside development "
            "(development uses a fixed key, refused elsewhere)."
        ),
    )
    callback_timeout_seconds: float = Field(10, gt=0, le=60, description="Longest wait for a receiver's answer.")
    callback_retry_delays_seconds: tuple[float, ...] = Field(
        tuple(delay.total_seconds() for delay in RETRY_DELAYS),
        min_length=1,
        description=(
            "Waits after each failed attempt, in seconds (Standard Webhooks' schedule by default). Outside "
            "development they must add up to at least a day, so a receiver down for a day loses nothing."
        ),
    )
    callback_rotation_overlap_hours: float = Field(
        24, gt=0, le=24 * 30, description="How long a replaced signing secret keeps signing beside the new one."
    )

    @property
    def callback_box(self) -> SecretBox:
        """The box the endpoints' signing secrets are sealed in (the api and relay need it; the
        other processes never touch a secret, so they start without the keys)."""
        if self.callback_encryption_keys is not None:
            return SecretBox.from_setting(self.callback_encryption_keys.get_secret_value())
        if self.environment == "development":
            return SecretBox([DEVELOPMENT_CALLBACK_KEY])
        raise RuntimeError(
            "DIVERT_CALLBACK_ENCRYPTION_KEYS is not set: intake's api and relay need it outside development to "
            "seal and open the callback endpoints' signing secrets (`divert-intake callbacks new-key` prints a key)"
        )

    @property
    def callback_policy(self) -> DeliveryPolicy:
        """How callbacks are delivered (http:// and private addresses in development only)."""
        delays = tuple(timedelta(seconds=delay) for delay in self.callback_retry_delays_seconds)
        return DeliveryPolicy(
            development=self.environment == "development",
            timeout_seconds=self.callback_timeout_seconds,
            retry_delays=delays,
            # A day outside development; a shortened schedule (development) disables when it runs out.
            disable_after=min(DISABLE_AFTER, sum(delays, timedelta())),
        )

    @property
    def callback_rotation_overlap(self) -> timedelta:
        """How long a replaced signing secret keeps signing."""
        return timedelta(hours=self.callback_rotation_overlap_hours)

    @model_validator(mode="after")
    def _sound_callbacks(self) -> "IntakeSettings":
        if any(delay < 0 for delay in self.callback_retry_delays_seconds):
            raise ValueError("DIVERT_CALLBACK_RETRY_DELAYS_SECONDS may not be negative")
        if self.environment != "development" and sum(self.callback_retry_delays_seconds) < _DAY:
            raise ValueError(
                "DIVERT_CALLBACK_RETRY_DELAYS_SECONDS must add up to at least a day (86400) outside development, "
                "so a receiver that is down for a day still gets every status change"
            )
        if self.callback_encryption_keys is None:
            return self
        keys = [key for key in self.callback_encryption_keys.get_secret_value().split(",") if key.strip()]
        if not keys or not all(valid_key(key) for key in keys):
            raise ValueError(
                "DIVERT_CALLBACK_ENCRYPTION_KEYS must be comma-separated Fernet keys, each the url-safe base64 of "
                "32 bytes (`divert-intake callbacks new-key` prints one)"
            )
        if self.environment != "development" and DEVELOPMENT_CALLBACK_KEY in (key.strip() for key in keys):
            raise ValueError(
                "refusing the development DIVERT_CALLBACK_ENCRYPTION_KEYS outside development: anyone with the "
                "source could read the endpoints' signing secrets from a copy of the database"
            )
        return self

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
