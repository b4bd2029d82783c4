"""The console's composition root: settings, one pooled HTTP client for the APIs, the identity provider."""

import httpx

from divert_console.adapters.identity import Identity
from divert_console.adapters.services_api import ServicesApi
from divert_console.adapters.traces import JaegerQuery, TraceFiles, TraceSource
from divert_console.config import ConsoleSettings
from divert_console.entrypoints.web import ConsoleParts


def bootstrap(settings: ConsoleSettings, *, client: httpx.AsyncClient | None = None) -> ConsoleParts:
    """Build what the pages use; `client` replaces the HTTP client (tests)."""
    http = client or httpx.AsyncClient(timeout=settings.api_timeout_seconds)
    api = ServicesApi(
        http,
        {
            "intake": settings.intake_url.rstrip("/"),
            "assessment": settings.assessment_url.rstrip("/"),
            "directory": settings.directory_url.rstrip("/"),
            "warrants": settings.warrants_url.rstrip("/"),
        },
    )
    traces: TraceSource = (
        JaegerQuery(http, settings.trace_query_url)
        if settings.trace_query_url
        else TraceFiles(settings.data_dir / "traces")
    )
    return ConsoleParts(settings=settings, api=api, identity=Identity(settings), http=http, traces=traces)
