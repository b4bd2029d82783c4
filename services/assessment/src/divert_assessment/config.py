"""Assessment's settings: one class, read from the environment once at start-up."""

from divert_platform.settings import ServiceSettings


class AssessmentSettings(ServiceSettings):
    """`DIVERT_*` variables for every assessment process."""

    service_name: str = "assessment"
    port: int = 8002
