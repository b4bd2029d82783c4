"""The FastAPI application shell every service's API shares."""

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from fastapi import FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from sqlalchemy.ext.asyncio import AsyncEngine

from divert_platform.auth import Access
from divert_platform.hardening import BodySizeLimit, JsonBodiesOnly, RateLimit, SecurityHeaders
from divert_platform.health import Check, broker_check, database_check, health_router
from divert_platform.problems import install_problem_handlers
from divert_platform.settings import ServiceSettings


def create_app(
    *,
    title: str,
    description: str,
    settings: ServiceSettings,
    engine: AsyncEngine,
    extra_checks: Mapping[str, Check] | None = None,
) -> FastAPI:
    """A FastAPI app with problem+json errors, request tracing and health routes.

    Readiness always checks the service's database and broker, plus `extra_checks`; the engine is
    disposed when the app shuts down. Routes get their authentication from `app.state.access`
    (an `Access`): `dependencies=[Depends(access.allow("officer", ...))]`.
    """

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await engine.dispose()

    app = FastAPI(title=title, description=description, version="1.0.0", lifespan=lifespan)
    install_problem_handlers(app)
    # Starlette runs the middleware added last first.
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(JsonBodiesOnly)
    if settings.rate_limit_per_minute:
        app.add_middleware(RateLimit, per_minute=settings.rate_limit_per_minute)
    app.add_middleware(SecurityHeaders)  # added last, so it wraps every response, problems included
    app.state.access = Access(settings)
    checks = {
        "database": database_check(engine),
        "broker": broker_check(settings.kafka_bootstrap),
        **(extra_checks or {}),
    }
    app.include_router(health_router(checks))
    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz", exclude_spans=["receive", "send"])
    return app
