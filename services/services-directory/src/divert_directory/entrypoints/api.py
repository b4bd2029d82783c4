"""The directory's REST API: the Open Referral HSDS 3.0 root document and catalogue, suggestions,
closed-loop service referrals, capacity, the service-referral report and the audit trail.

Who may call what is docs/access.md (`callers.py`); refusals become problems in `problems.py`.
"""

from fastapi import FastAPI

from divert_directory.bootstrap import Directory, bootstrap
from divert_directory.entrypoints import (
    audit_api,
    capacity_api,
    hsds_api,
    reports_api,
    service_referrals_api,
    suggestions_api,
)
from divert_directory.entrypoints.problems import PROBLEMS
from divert_platform.app import create_app


def build_api(directory: Directory) -> FastAPI:
    """The directory API over already-built parts (tests pass their own)."""
    return create_app(
        title="Divert services directory",
        description="Providers, services and locations as Open Referral HSDS 3.0, for case managers.",
        parts=directory,
        routers=[
            hsds_api.public,
            hsds_api.router,
            suggestions_api.router,
            service_referrals_api.router,
            capacity_api.router,
            reports_api.router,
            audit_api.router,
        ],
        problems=PROBLEMS,
    )


def create_api() -> FastAPI:
    """The API of this process, from the environment (used by `divert-directory api`)."""
    return build_api(bootstrap())
