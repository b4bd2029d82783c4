"""The FastAPI application shell every service's API shares."""

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager

from fastapi import FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

from divert_platform.health import Check, health_router
from divert_platform.problems import install_problem_handlers

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def create_app(
    *,
    title: str,
    description: str,
    checks: Mapping[str, Check],
    lifespan: Callable[[FastAPI], AsyncIterator[None]] | Lifespan | None = None,
    max_request_bytes: int = 1_000_000,
) -> FastAPI:
    """A FastAPI app with problem+json errors, health/readiness routes and request tracing."""
    app = FastAPI(title=title, description=description, version="1.0.0", lifespan=lifespan)
    install_problem_handlers(app, max_request_bytes=max_request_bytes)
    app.include_router(health_router(checks))
    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz")
    return app
