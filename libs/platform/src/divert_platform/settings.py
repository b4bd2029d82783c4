"""The settings base every service's one settings class extends."""

from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["development", "test", "production"]

DEVELOPMENT_JWT_SECRET = "divert-development-signing-key-never-use-in-production"
"""Signs the tokens `divert token` mints for demos and tests; refused outside development."""

_PLACEHOLDER_SECRETS = {
    "",
    "changeme",
    "change-me",
    "secret",
    "password",
    "development",
    "test",
    DEVELOPMENT_JWT_SECRET,
}


class ServiceSettings(BaseSettings):
    """Configuration read from `DIVERT_*` environment variables, validated at start-up.

    Nothing else in a service reads `os.environ`.
    """

    model_config = SettingsConfigDict(env_prefix="DIVERT_", extra="ignore")

    environment: Environment = "development"
    data_dir: Path = Field(Path(".divert"), description="Where the embedded default keeps its files.")
    database_url: str = Field("", description="SQLAlchemy async URL; defaults to a SQLite file in data_dir.")
    migration_database_url: str | None = Field(
        None,
        description=(
            "URL `migrate` alone connects with: a role that owns the schema, while every other process runs "
            "as a role that may only read and write rows (DIVERT_DATABASE_URL); unset, `migrate` uses that."
        ),
    )
    kafka_bootstrap: str = "127.0.0.1:9092"
    host: str = "127.0.0.1"
    port: int = 8000
    otlp_endpoint: str | None = Field(
        None, validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_ENDPOINT", "DIVERT_OTLP_ENDPOINT")
    )
    max_request_bytes: int = 1_000_000
    api_docs: bool | None = Field(
        None,
        description="Serve /docs and /openapi.json; unset serves them in development only.",
    )
    metrics_port: int | None = Field(
        None, description="Serve Prometheus metrics on this port (every process needs its own); unset turns it off."
    )
    metrics_host: str = Field("127.0.0.1", description="Address the metrics port binds to: the monitoring network's.")

    service_name: str = "divert"

    # Authentication: HS256 with the development key by default; production verifies RS256/ES256
    # tokens against the identity provider's JWKS and checks issuer and audience.
    jwt_secret: SecretStr = Field(
        SecretStr(DEVELOPMENT_JWT_SECRET),
        description="HS256 shared secret: development and test only (production requires DIVERT_JWKS_URL).",
    )
    jwks_url: str | None = Field(None, description="The identity provider's JWKS; https:// outside development.")
    jwt_issuer: str = "divert-development"
    jwt_audience: str = "divert"
    jwt_leeway_seconds: int = Field(
        60, ge=0, le=300, description="Clock skew tolerated on a token's exp, iat and nbf (seconds)."
    )
    jwks_cache_seconds: float = Field(
        300, gt=0, description="How long fetched keys are fresh; older ones are still used while a refresh runs."
    )
    jwks_timeout_seconds: float = Field(5, gt=0, description="Longest wait for the identity provider's JWKS.")
    jwks_refetch_seconds: float = Field(
        30, ge=0, description="A token naming an unknown key refetches the JWKS at most once per this many seconds."
    )
    service_token: SecretStr | None = Field(
        None, description="Bearer token this service presents to other services (minted locally in development)."
    )
    rate_limit_per_minute: int = Field(
        300,
        ge=0,
        description="Changes (POST/PUT/PATCH/DELETE) per minute per caller and process; 0 turns the limit off.",
    )
    rate_limit_max_callers: int = Field(
        10_000, ge=1, description="Callers the rate limit remembers per process; the least recently seen go first."
    )

    # Kafka transport security. Outside development every process talks TLS to the brokers and
    # authenticates as its service's principal, so per-principal ACLs decide what it may read and
    # write (docs/deployment.md, "Kafka over TLS and SASL"; docs/access.md, "Kafka principals and ACLs").
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT",
        description="SASL_SSL in production; PLAINTEXT only for the embedded broker (refused outside development).",
    )
    kafka_allow_insecure: bool = Field(
        False,
        description=(
            "Start outside development on PLAINTEXT, SASL_PLAINTEXT or SSL without a client certificate. Only "
            "for a closed test rig whose broker has no TLS: events carry personal data, and without an "
            "authenticated principal no ACL keeps case content from the enforcement side."
        ),
    )
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = Field(
        None, description="SCRAM-SHA-512 recommended; PLAIN sends the password itself (TLS protects it)."
    )
    kafka_sasl_username: str | None = Field(
        None, description="Defaults to the service's principal `divert-<service>` when a mechanism is set."
    )
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: Path | None = Field(None, description="CA (PEM) that signed the brokers' certificates.")
    kafka_ssl_certfile: Path | None = Field(
        None, description="Client certificate (PEM) for brokers that authenticate clients by TLS (mTLS)."
    )
    kafka_ssl_keyfile: Path | None = Field(None, description="The client certificate's private key (PEM).")
    kafka_ssl_key_password: SecretStr | None = Field(None, description="Password of an encrypted private key.")
    kafka_replication_factor: int = Field(
        1, ge=1, description="Replicas of a topic a relay or consumer has to create (3 on a production cluster)."
    )

    # Retention: how long `divert-<svc> purge` keeps each kind of row (docs/operations.md,
    # "Retention", says why each default). Give every service the same values: one service's
    # inbox de-duplicates what another's outbox re-publishes.
    retention_idempotency_days: int = Field(
        7, ge=1, description="Stored responses to Idempotency-Key requests; a retry after this is a new request."
    )
    retention_outbox_days: int = Field(
        90,
        ge=1,
        description="Published outbox rows, counted from their creation: how far back `replay` can re-publish.",
    )
    retention_inbox_days: int = Field(
        180,
        ge=1,
        description=(
            "Inbox rows, by which consumers skip events they applied: at least the outbox's retention plus the "
            "topics' (an event re-published or re-read later than this would be applied twice)."
        ),
    )
    retention_topic_days: int = Field(
        7,
        ge=1,
        description=(
            "How long the brokers keep the event topics' records (Kafka's default; Divert sets none on them): "
            "only checked against the inbox's retention."
        ),
    )
    retention_audit_days: int = Field(
        2192,
        ge=365,
        description="Audit records of reads (six years, HIPAA's; at least one year, the CJIS Security Policy's).",
    )
    retention_callbacks_days: int = Field(
        30,
        ge=1,
        description=(
            "Delivered and failed callback messages and every attempt, from when they were written: how far back "
            "an agency administrator can see deliveries and ask for a redelivery. Pending messages are never purged."
        ),
    )
    retention_dead_letter_days: int = Field(
        30, ge=1, description="`retention.ms` of the `.dlq` topics a relay or consumer has to create."
    )

    @model_validator(mode="after")
    def _default_database(self) -> "ServiceSettings":
        if not self.database_url:
            if self.environment == "production":
                raise ValueError("DIVERT_DATABASE_URL must be set in production")
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / (self.service_name + '.db')}"
        return self

    @model_validator(mode="after")
    def _inbox_outlives_redelivery(self) -> "ServiceSettings":
        """Refuse an inbox purged before every copy of its events is gone.

        A consumer knows an event it applied only by its inbox row. The event can come again as
        long as its outbox row exists (a `replay`, or the relay re-publishing a topic the broker
        lost) and then for as long as the broker keeps the re-published record.
        """
        least = self.retention_outbox_days + self.retention_topic_days
        if self.retention_inbox_days < least:
            raise ValueError(
                f"DIVERT_RETENTION_INBOX_DAYS is {self.retention_inbox_days}, below DIVERT_RETENTION_OUTBOX_DAYS + "
                f"DIVERT_RETENTION_TOPIC_DAYS = {least}: an event re-published or re-read after its inbox row was "
                "purged would be applied twice"
            )
        return self

    @model_validator(mode="after")
    def _refuse_weak_secrets(self) -> "ServiceSettings":
        """Outside development: keys only over https; in production only the identity provider's
        asymmetric tokens (a shared HS256 secret lets anyone holding it mint any role); in test a
        random secret of 32+ characters (test rigs without an identity provider)."""
        if self.environment == "development":
            return self
        if self.jwks_url is not None and urlsplit(self.jwks_url).scheme != "https":
            raise ValueError(
                "refusing to start outside development with a DIVERT_JWKS_URL that is not https://: "
                "anyone on the path could swap the keys tokens are verified with"
            )
        if self.environment == "production" and self.jwks_url is None:
            raise ValueError(
                "refusing to start in production without DIVERT_JWKS_URL: production accepts only RS256/ES256 "
                "tokens from the identity provider, never HS256 tokens signed with a shared DIVERT_JWT_SECRET"
            )
        if self.jwks_url is None:
            secret = self.jwt_secret.get_secret_value()
            if secret.lower() in _PLACEHOLDER_SECRETS or len(secret) < 32:
                raise ValueError(
                    "refusing to start outside development with the development or a placeholder JWT secret: "
                    "set DIVERT_JWKS_URL (production) or a random DIVERT_JWT_SECRET of 32+ characters"
                )
        return self

    @model_validator(mode="after")
    def _kafka_transport(self) -> "ServiceSettings":
        """Refuse Kafka settings that would leave a process unauthenticated or unencrypted.

        Settings that contradict each other are refused everywhere; outside development, so is a
        transport without TLS or without a principal, unless `DIVERT_KAFKA_ALLOW_INSECURE` is set.
        """
        protocol = self.kafka_security_protocol
        sasl, tls = protocol.startswith("SASL_"), protocol in ("SSL", "SASL_SSL")
        if self.kafka_sasl_mechanism and not sasl:
            raise ValueError(
                f"DIVERT_KAFKA_SASL_MECHANISM is set but DIVERT_KAFKA_SECURITY_PROTOCOL is {protocol}, "
                "which does not use SASL: set DIVERT_KAFKA_SECURITY_PROTOCOL=SASL_SSL"
            )
        if (self.kafka_ssl_certfile is None) != (self.kafka_ssl_keyfile is None):
            raise ValueError("DIVERT_KAFKA_SSL_CERTFILE and DIVERT_KAFKA_SSL_KEYFILE must be set together")
        if self.kafka_ssl_certfile is not None and not tls:
            raise ValueError(
                f"DIVERT_KAFKA_SSL_CERTFILE is set but DIVERT_KAFKA_SECURITY_PROTOCOL is {protocol}, "
                "which does not use TLS: set it to SSL or SASL_SSL"
            )
        if sasl:
            if not self.kafka_sasl_mechanism:
                raise ValueError(
                    f"DIVERT_KAFKA_SECURITY_PROTOCOL={protocol} needs DIVERT_KAFKA_SASL_MECHANISM "
                    "(SCRAM-SHA-512 recommended)"
                )
            if self.kafka_sasl_username is None:
                # every process of a service authenticates as the service's one principal
                self.kafka_sasl_username = self.kafka_principal
            if not self.kafka_sasl_username:
                raise ValueError("DIVERT_KAFKA_SASL_USERNAME is empty: unset it to use " + self.kafka_principal)
            if not self.kafka_sasl_password or not self.kafka_sasl_password.get_secret_value():
                raise ValueError(
                    f"DIVERT_KAFKA_SASL_PASSWORD is required with DIVERT_KAFKA_SECURITY_PROTOCOL={protocol}"
                )
        if self.environment == "development" or self.kafka_allow_insecure:
            return self
        if not tls:
            raise ValueError(
                f"refusing to start outside development with DIVERT_KAFKA_SECURITY_PROTOCOL={protocol}: events "
                "would cross the network unencrypted. Set DIVERT_KAFKA_SECURITY_PROTOCOL=SASL_SSL (or SSL with "
                "a client certificate); DIVERT_KAFKA_ALLOW_INSECURE=true is only for closed test rigs"
            )
        if protocol == "SSL" and self.kafka_ssl_certfile is None:
            raise ValueError(
                "refusing to start outside development with DIVERT_KAFKA_SECURITY_PROTOCOL=SSL and no client "
                "certificate: the broker could not tell this service's principal from any other. Set "
                "DIVERT_KAFKA_SSL_CERTFILE and DIVERT_KAFKA_SSL_KEYFILE, or use SASL_SSL"
            )
        return self

    @property
    def kafka_principal(self) -> str:
        """The Kafka principal every process of this service authenticates as: `divert-<service>`
        (`divert_contracts.dataplane.ServiceAccess.principal`, whose ACLs deploy/ creates)."""
        return f"divert-{self.service_name}"

    def kafka_options(self) -> dict[str, Any]:
        """Transport-security options for every aiokafka client (only the protocol for the embedded broker)."""
        options: dict[str, object] = {"security_protocol": self.kafka_security_protocol}
        if self.kafka_security_protocol in ("SSL", "SASL_SSL"):
            from aiokafka.helpers import create_ssl_context

            options["ssl_context"] = create_ssl_context(
                cafile=self.kafka_ssl_cafile,
                certfile=self.kafka_ssl_certfile,
                keyfile=self.kafka_ssl_keyfile,
                password=self.kafka_ssl_key_password.get_secret_value() if self.kafka_ssl_key_password else None,
            )
        if self.kafka_sasl_mechanism:
            options["sasl_mechanism"] = self.kafka_sasl_mechanism
            options["sasl_plain_username"] = self.kafka_sasl_username
            options["sasl_plain_password"] = (
                self.kafka_sasl_password.get_secret_value() if self.kafka_sasl_password else None
            )
        return options

    @property
    def event_source(self) -> str:
        """CloudEvents `source` of everything this service publishes."""
        return f"/divert/{self.service_name}"

    @property
    def dead_letter_retention_ms(self) -> int:
        """`retention.ms` for the dead-letter topics this service creates."""
        return self.retention_dead_letter_days * 24 * 60 * 60 * 1000


DEFAULT_CASE_AGENCIES: dict[str, str] = {
    "king-county": "reach-king-county",
    "santa-fe": "santa-fe-lead",
    "albany": "albany-lead",
    "demo": "demo-case-agency",
}
"""The case agency serving each shipped jurisdiction (intake's policies): who owns its cases."""

MAX_AGENCY_LENGTH = 64
"""Agency ids are stored in 64-character columns."""


class CaseAgencySettings(ServiceSettings):
    """Settings of a service that must know which case agency owns a case (assessment, directory).

    Every such service must be given the same `DIVERT_CASE_AGENCIES`: assessment decides a case's
    owner when it opens it, and the directory lets only that owner's case managers use the case.
    """

    case_agencies: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_CASE_AGENCIES),
        description=(
            '`DIVERT_CASE_AGENCIES`, JSON `{"<jurisdiction>": "<agency>"}`: the case agency serving each '
            "jurisdiction. A case belongs to the agency serving its jurisdiction when it is opened, and only "
            "case managers whose token names that agency see or act on it. A case opened in a jurisdiction "
            "missing here belongs to no agency: no case manager sees it (program reports still count it), "
            "and a warning is logged; configure the agency before the jurisdiction takes referrals."
        ),
    )

    @field_validator("case_agencies")
    @classmethod
    def _agency_ids_fit(cls, agencies: dict[str, str]) -> dict[str, str]:
        # refuse at start-up what the database would refuse later
        if bad := sorted(j for j, agency in agencies.items() if not 0 < len(agency) <= MAX_AGENCY_LENGTH):
            raise ValueError(f"case agency ids must be 1 to {MAX_AGENCY_LENGTH} characters (jurisdictions {bad})")
        return agencies
