"""The console's ASGI application: pages, sessions, security headers and the answers to failures."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from starlette.datastructures import MutableHeaders
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from divert_console.adapters.services_api import ApiProblem, ApiUnreachable, TokenRefused
from divert_console.bootstrap import bootstrap
from divert_console.config import ConsoleSettings
from divert_console.entrypoints import caseload, dashboard, evaluation, journey, lapses, sign_in
from divert_console.entrypoints.session import EncryptedSession
from divert_console.entrypoints.web import BadForm, ConsoleParts, NotYourPage, SignInRequired, render
from divert_platform.hardening import BodySizeLimit
from divert_platform.health import health_router

# Pages load only this origin's stylesheet and images (charts are inline SVG images); no script at all.
_PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",  # pages carry personal data: never cached, not even by the browser
    "Cross-Origin-Opener-Policy": "same-origin",
}


class PageHeaders:
    """Adds the pages' security headers to every response (HSTS too outside development)."""

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.headers = _PAGE_HEADERS | ({"Strict-Transport-Security": "max-age=31536000"} if https else {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).update(self.headers)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_console(settings: ConsoleSettings | None = None, parts: ConsoleParts | None = None) -> FastAPI:
    """The console app (`divert-console api` serves it); `parts` replaces the composition root (tests)."""
    settings = settings or ConsoleSettings()
    built = parts or bootstrap(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await built.http.aclose()

    app = FastAPI(title="Divert console", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.parts = built
    app.include_router(health_router({}))
    for module in (sign_in, dashboard, caseload, lapses, journey, evaluation):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent.parent / "static"), name="static")
    _install_failure_pages(app)
    production = settings.environment != "development"
    app.add_middleware(
        EncryptedSession,
        key=settings.session_key.get_secret_value(),
        max_age_seconds=int(settings.session_hours * 3600),
        secure=production,
    )
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(PageHeaders, https=production)
    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz,static")
    return app


def _install_failure_pages(app: FastAPI) -> None:
    @app.exception_handler(SignInRequired)
    async def sign_in_first(request: Request, _: Exception) -> Response:
        return RedirectResponse("/sign-in", status_code=303)

    @app.exception_handler(TokenRefused)
    async def token_refused(request: Request, _: Exception) -> Response:
        request.session.clear()
        return RedirectResponse("/sign-in", status_code=303)

    @app.exception_handler(NotYourPage)
    async def not_yours(request: Request, _: Exception) -> Response:
        return render(
            request,
            "failure.html",
            None,
            403,
            title="Not for your role",
            message="This page is not part of your role's work. Use the links above.",
        )

    @app.exception_handler(BadForm)
    async def bad_form(request: Request, _: Exception) -> Response:
        return render(
            request,
            "failure.html",
            None,
            403,
            title="The form has expired",
            message="Nothing was saved. Go back, reload the page and submit the form again.",
        )

    @app.exception_handler(ApiUnreachable)
    async def unreachable(request: Request, _: Exception) -> Response:
        return render(
            request,
            "failure.html",
            None,
            503,
            title="A service is not answering",
            message="Nothing was changed. Try again in a minute; if it persists, call the on-call engineer.",
        )

    @app.exception_handler(ApiProblem)
    async def problem(request: Request, error: Exception) -> Response:
        assert isinstance(error, ApiProblem)
        status = error.status if 400 <= error.status < 600 else 502
        return render(request, "failure.html", None, status, title=error.title, message=error.detail)
