"""Assessment's settings: one class, read from the environment once at start-up."""

from pathlib import Path

from pydantic import Field

from divert_platform.settings import CaseAgencySettings


class AssessmentSettings(CaseAgencySettings):
    """`DIVERT_*` variables for every assessment process."""

    service_name: str = "assessment"
    port: int = 8002

    organisations_file: Path | None = Field(
        None,
        description=(
            "`DIVERT_ORGANISATIONS_FILE`, the program's registry of organisations (TOML, `[[organisations]]` "
            "tables of `id`, `name` and `type`): the only parties a consent may name and a disclosure may go to. "
            "Police, prosecution, courts, supervision and jails listed there are refused by type (LEAD's golden "
            "rule). Validated at start-up; unset, the sample registry shipped with assessment is used."
        ),
    )
