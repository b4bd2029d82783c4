"""Liveness and readiness endpoints that tell the truth about a service's dependencies."""

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

Check = Callable[[], Awaitable[None]]


class Liveness(BaseModel):
    """The answer of a live process."""

    status: Literal["ok"] = "ok"


def health_router(checks: Mapping[str, Check], *, timeout: float = 2.0) -> APIRouter:
    """`GET /healthz` (the process is up) and `GET /readyz` (every dependency answered)."""
    router = APIRouter(tags=["health"])

    @router.get("/healthz", response_model=Liveness, summary="Liveness: the process is serving requests")
    async def healthz() -> Liveness:
        return Liveness()

    @router.get(
        "/readyz",
        summary="Readiness: database, broker and other dependencies are reachable",
        responses={503: {"description": "A dependency is unreachable; `checks` says which"}},
    )
    async def readyz() -> JSONResponse:
        results: dict[str, str] = {}
        for name, check in checks.items():
            try:
                await asyncio.wait_for(check(), timeout)
                results[name] = "ok"
            except Exception as error:  # report any failure as "not ready", never raise
                results[name] = f"unavailable: {type(error).__name__}"
        ready = all(result == "ok" for result in results.values())
        return JSONResponse(
            {"status": "ready" if ready else "not_ready", "checks": results}, status_code=200 if ready else 503
        )

    return router


def database_check(engine: AsyncEngine) -> Check:
    """Readiness check: the database answers a query."""

    async def check() -> None:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    return check


def broker_check(bootstrap: str) -> Check:
    """Readiness check: a bootstrap broker accepts TCP connections."""

    async def check() -> None:
        errors = []
        for address in bootstrap.split(","):
            host, _, port = address.strip().rpartition(":")
            try:
                _, writer = await asyncio.open_connection(host or "127.0.0.1", int(port))
                writer.close()
                await writer.wait_closed()
                return
            except OSError as error:
                errors.append(error)
        raise ConnectionError(f"no broker reachable: {errors}")

    return check
