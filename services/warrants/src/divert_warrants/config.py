"""Warrants' settings: one class, read from the environment once at start-up."""

from pydantic import Field

from divert_platform.settings import ServiceSettings


class WarrantsSettings(ServiceSettings):
    """`DIVERT_*` variables for every warrants process."""

    service_name: str = "warrants"
    port: int = 8004
    # Its only callers are Divert's deadline workflow and a few prosecutor and court offices.
    rate_limit_per_minute: int = Field(0, ge=0, description="Requests per minute per client; 0 turns it off.")
