"""The directory's settings: one class, read from the environment once at start-up."""

from pydantic import Field

from divert_platform.settings import CaseAgencySettings


class DirectorySettings(CaseAgencySettings):
    """`DIVERT_*` variables for every services-directory process."""

    service_name: str = "directory"
    port: int = 8003
    hsds_profile: str = Field(
        "https://docs.openreferral.org/en/latest/hsds/profiles.html",
        max_length=2000,
        pattern=r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$",
        description="URL describing the HSDS profile this API follows (served as `profile` at `GET /`).",
    )
