"""The FastAPI application shell every service's API shares."""

from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

from divert_platform.api_docs import install_api_docs
from divert_platform.auth import Access
from divert_platform.dependencies import ServiceParts
from divert_platform.hardening import BodySizeLimit, JsonBodiesOnly, RateLimit, SecurityHeaders
from divert_platform.health import Check, broker_check, database_check, health_router
from divert_platform.openapi import document_operations
from divert_platform.problems import ProblemMap, install_problem_handlers

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def create_app(
    *,
    title: str,
    description: str,
    parts: ServiceParts,
    routers: Iterable[APIRouter] = (),
    problems: ProblemMap | None = None,
    extra_checks: Mapping[str, Check] | None = None,
    lifespan: Lifespan | None = None,
) -> FastAPI:
    """A FastAPI app with the service's `routers`, problem+json errors, tracing and health routes.

    `parts` (the service's composition root) is kept as `app.state.parts`, where the shared
    dependencies (`divert_platform.dependencies`) find it; `problems` maps the service's
    exceptions to problem responses. Readiness checks the service's database and broker, plus
    `extra_checks`. The service's own `lifespan` runs inside the app's; the engine is disposed
    when the app shuts down. Routes authenticate callers with `divert_platform.auth.allow(...)`,
    which verifies tokens with `app.state.access`.
    """
    settings, engine = parts.settings, parts.engine

    @asynccontextmanager
    async def app_lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            if lifespan is None:
                yield
            else:
                async with lifespan(app):
                    yield
        finally:
            await engine.dispose()

    # The API documents map every route and field for whoever asks: outside development they are
    # served only when `DIVERT_API_DOCS=true` says so.
    docs = settings.environment == "development" if settings.api_docs is None else settings.api_docs
    # The rate limit is an app-wide dependency, not a middleware: it keys on the verified caller,
    # and it runs before each route's own dependencies (`allow(...)` included).
    limits = (
        [Depends(RateLimit(settings.rate_limit_per_minute, settings.rate_limit_max_callers))]
        if settings.rate_limit_per_minute
        else []
    )
    app = FastAPI(
        dependencies=limits,
        title=title,
        description=description,
        version="1.0.0",
        lifespan=app_lifespan,
        docs_url=None,  # FastAPI's page loads Swagger UI from a CDN; `install_api_docs` serves our copy
        redoc_url=None,
        openapi_url="/openapi.json" if docs else None,
    )
    if docs:
        install_api_docs(app, title=title, openapi_url="/openapi.json")
    install_problem_handlers(app, problems)
    # Starlette runs the middleware added last first.
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(JsonBodiesOnly)
    app.add_middleware(SecurityHeaders)  # added last, so it wraps every response, problems included
    app.state.access = Access(settings)
    app.state.parts = parts
    checks = {
        "database": database_check(engine),
        "broker": broker_check(settings.kafka_bootstrap),
        **(extra_checks or {}),
    }
    app.include_router(health_router(checks))
    for router in routers:
        app.include_router(router)
    document_operations(app, rate_limited=bool(limits))
    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz", exclude_spans=["receive", "send"])
    return app
