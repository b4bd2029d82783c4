"""The console's one settings class."""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator

from divert_platform.settings import ServiceSettings

DEVELOPMENT_SESSION_KEY = "ZGl2ZXJ0LWRldmVsb3BtZW50LXNlc3Npb24ta2V5ISE="
"""Encrypts development sessions (a Fernet key: 32 url-safe base64 bytes); refused outside development."""


class ConsoleSettings(ServiceSettings):
    """Where the APIs are, how people sign in, and how their sessions are kept (docs/deployment.md#console)."""

    service_name: str = "console"
    port: int = 8005
    intake_url: str = Field("http://127.0.0.1:8001", description="Intake API's base URL.")
    assessment_url: str = Field("http://127.0.0.1:8002", description="Assessment API's base URL.")
    directory_url: str = Field("http://127.0.0.1:8003", description="Services directory API's base URL.")
    warrants_url: str = Field("http://127.0.0.1:8004", description="Warrants API's base URL.")
    api_timeout_seconds: float = Field(10, gt=0, description="Longest wait for one API call.")
    session_key: SecretStr = Field(
        SecretStr(DEVELOPMENT_SESSION_KEY),
        description="Fernet key that encrypts and signs the session cookie (it holds the user's API token).",
    )
    session_hours: float = Field(8, gt=0, le=24, description="A session ends this long after sign-in at the latest.")
    oidc_discovery_url: str | None = Field(
        None, description="The identity provider's OpenID configuration (https); required outside development."
    )
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = Field(None, description="Unset for a public client (PKCE alone).")
    oidc_scope: str = "openid profile"
    public_url: str = Field("http://127.0.0.1:8005", description="The console's external URL (https in production).")
    temporal_ui_url: str | None = Field(None, description="Temporal Web UI, for links to a referral's workflow.")
    temporal_namespace: str = "default"
    trace_query_url: str | None = Field(
        None, description="Jaeger-compatible query API of the trace store; unset reads <data_dir>/traces (embedded)."
    )
    display_timezone: str = Field(
        "UTC", description="IANA zone the pages show times in and read form times in (e.g. America/Los_Angeles)."
    )
    metrics_links: dict[str, str] = Field(
        default_factory=dict, description='Dashboards or metrics pages linked from a journey, {"name": "url"}.'
    )

    # The console keeps no database and speaks no Kafka: the base's checks of those (same names, so
    # these replace them) do not apply.
    @model_validator(mode="after")
    def _default_database(self) -> "ConsoleSettings":
        return self

    @model_validator(mode="after")
    def _kafka_transport(self) -> "ConsoleSettings":
        return self

    @field_validator("display_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r}") from error
        return value

    @property
    def development_sign_in(self) -> bool:
        """The role-picking sign-in page: development only, and never beside an identity provider."""
        return self.environment == "development" and self.jwks_url is None

    @model_validator(mode="after")
    def _production_needs_identity_provider(self) -> "ConsoleSettings":
        if self.environment == "development":
            return self
        if self.session_key.get_secret_value() == DEVELOPMENT_SESSION_KEY:
            raise ValueError("DIVERT_SESSION_KEY must be set outside development (a Fernet key)")
        if not (self.oidc_discovery_url and self.oidc_discovery_url.startswith("https://") and self.oidc_client_id):
            raise ValueError(
                "DIVERT_OIDC_DISCOVERY_URL (https) and DIVERT_OIDC_CLIENT_ID are required outside development"
            )
        if not self.public_url.startswith("https://"):
            raise ValueError("DIVERT_PUBLIC_URL must be https outside development (the session cookie is Secure)")
        return self
