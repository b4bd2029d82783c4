"""The directory's REST API: health, the Open Referral HSDS 3.0 root document and catalogue."""

from fastapi import APIRouter, FastAPI, Request

from divert_directory.bootstrap import Directory, bootstrap
from divert_directory.domain.hsds import HSDS_VERSION
from divert_directory.entrypoints.audit_api import directory_audit_router
from divert_directory.entrypoints.capacity_api import capacity_router
from divert_directory.entrypoints.hsds_api import hsds_router
from divert_directory.entrypoints.schemas import HsdsRoot
from divert_directory.entrypoints.service_referrals_api import service_referrals_router
from divert_directory.entrypoints.suggestions_api import suggestions_router
from divert_platform.app import create_app


def build_api(directory: Directory) -> FastAPI:
    """The directory API over already-built parts (tests pass their own)."""

    app = create_app(
        title="Divert services directory",
        description="Providers, services and locations as Open Referral HSDS 3.0, for case managers.",
        settings=directory.settings,
        engine=directory.engine,
    )
    app.include_router(_hsds_router(directory, app))
    app.include_router(hsds_router(directory, app.state.access))
    app.include_router(suggestions_router(directory, app.state.access))
    app.include_router(service_referrals_router(directory, app.state.access))
    app.include_router(capacity_router(directory, app.state.access))
    app.include_router(directory_audit_router(directory, app.state.access))
    return app


def _hsds_router(directory: Directory, app: FastAPI) -> APIRouter:
    router = APIRouter(tags=["hsds"])

    @router.get(
        "/", response_model=HsdsRoot, summary="Retrieve information about this API and its relationship with HSDS."
    )
    async def hsds_root(request: Request) -> HsdsRoot:
        """The HSDS 3.0 root document: HSDS version, profile and this API's OpenAPI URL.

        `openapi_url` is built from the request's own base URL, so it is right behind whatever
        host name or path prefix the caller used.
        """
        return HsdsRoot(
            version=HSDS_VERSION,
            profile=directory.settings.hsds_profile,
            openapi_url=str(request.base_url).rstrip("/") + (app.openapi_url or "/openapi.json"),
        )

    return router


def create_api() -> FastAPI:
    """The API of this process, from the environment (used by `divert-directory api`)."""
    return build_api(bootstrap())
