"""Intake's settings: one class, read from the environment once at start-up."""

from pydantic import Field

from divert_platform.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    """`DIVERT_*` variables for every intake process."""

    service_name: str = "intake"
    port: int = 8001
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    warrants_url: str = Field("http://127.0.0.1:8004", description="Base URL of the warrants service.")
    # Police RMS integrations face the outside world: a per-client limit keeps one runaway
    # integration from starving the others.
    rate_limit_per_minute: int = Field(600, ge=0, description="Requests per minute per client; 0 turns it off.")
