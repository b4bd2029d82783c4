"""The settings base every service's one settings class extends."""

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["development", "test", "production"]


class ServiceSettings(BaseSettings):
    """Configuration read from `DIVERT_*` environment variables, validated at start-up.

    Nothing else in a service reads `os.environ`.
    """

    model_config = SettingsConfigDict(env_prefix="DIVERT_", extra="ignore")

    environment: Environment = "development"
    data_dir: Path = Field(Path(".divert"), description="Where the embedded default keeps its files.")
    database_url: str = Field("", description="SQLAlchemy async URL; defaults to a SQLite file in data_dir.")
    kafka_bootstrap: str = "127.0.0.1:9092"
    host: str = "127.0.0.1"
    port: int = 8000
    otlp_endpoint: str | None = Field(
        None, validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_ENDPOINT", "DIVERT_OTLP_ENDPOINT")
    )
    max_request_bytes: int = 1_000_000

    service_name: str = "divert"

    @model_validator(mode="after")
    def _default_database(self) -> "ServiceSettings":
        if not self.database_url:
            if self.environment == "production":
                raise ValueError("DIVERT_DATABASE_URL must be set in production")
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / (self.service_name + '.db')}"
        return self

    @property
    def event_source(self) -> str:
        """CloudEvents `source` of everything this service publishes."""
        return f"/divert/{self.service_name}"
