"""Warrants' settings: one class, read from the environment once at start-up."""

from divert_platform.settings import ServiceSettings


class WarrantsSettings(ServiceSettings):
    """`DIVERT_*` variables for every warrants process."""

    service_name: str = "warrants"
    port: int = 8004
