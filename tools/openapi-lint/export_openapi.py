"""Write every service's OpenAPI document as JSON, for `make lint-openapi` to check with Spectral.

    python tools/openapi-lint/export_openapi.py OUT_DIR

Each app is built the way its process builds it (`build_api(bootstrap(settings))`), with the
development settings and a database that is never opened: the document is what `/openapi.json`
serves, whatever `DIVERT_API_DOCS` says about serving it.
"""

import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from divert_assessment.bootstrap import bootstrap as assessment
from divert_assessment.config import AssessmentSettings
from divert_assessment.entrypoints.api import build_api as assessment_api
from divert_directory.bootstrap import bootstrap as directory
from divert_directory.config import DirectorySettings
from divert_directory.entrypoints.api import build_api as directory_api
from divert_intake.bootstrap import bootstrap as intake
from divert_intake.config import IntakeSettings
from divert_intake.entrypoints.api import build_api as intake_api
from divert_warrants.bootstrap import bootstrap as warrants
from divert_warrants.config import WarrantsSettings
from divert_warrants.entrypoints.api import build_api as warrants_api

# Nothing listens there: building an app connects to nothing.
_NOWHERE = {"kafka_bootstrap": "127.0.0.1:1", "environment": "development"}


def _apps(data: Path) -> dict[str, Callable[[], FastAPI]]:
    def url(name: str) -> str:
        return f"sqlite+aiosqlite:///{data / name}.db"

    return {
        "intake": lambda: intake_api(
            intake(IntakeSettings(database_url=url("intake"), temporal_address="127.0.0.1:1", **_NOWHERE))
        ),
        "assessment": lambda: assessment_api(
            assessment(AssessmentSettings(database_url=url("assessment"), **_NOWHERE))
        ),
        "services-directory": lambda: directory_api(
            directory(DirectorySettings(database_url=url("directory"), **_NOWHERE))
        ),
        "warrants": lambda: warrants_api(warrants(WarrantsSettings(database_url=url("warrants"), **_NOWHERE))),
    }


def documents() -> dict[str, dict[str, Any]]:
    """Each service's name and its OpenAPI document."""
    with tempfile.TemporaryDirectory(prefix="divert-openapi-") as data:
        return {name: build().openapi() for name, build in _apps(Path(data)).items()}


def main(out: Path) -> None:
    """Write `<service>.openapi.json` into `out` for each service."""
    out.mkdir(parents=True, exist_ok=True)
    for name, document in documents().items():
        (out / f"{name}.openapi.json").write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))
