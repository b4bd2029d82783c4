"""Warrants' settings: one class, read from the environment once at start-up."""

from pydantic import Field

from divert_platform.settings import ServiceSettings


class WarrantsSettings(ServiceSettings):
    """`DIVERT_*` variables for every warrants process."""

    service_name: str = "warrants"
    port: int = 8004
    # Its callers are Divert's deadline workflow (one subject, bursty when many deadlines fall due
    # together; it honours `Retry-After`) and a few prosecutor and court offices.
    rate_limit_per_minute: int = Field(
        600, ge=0, description="Changes (POST/PUT/PATCH/DELETE) per minute per caller; 0 turns it off."
    )
