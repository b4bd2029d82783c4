"""`divert-console`: serve the console (it has no database, broker or workflow of its own)."""

import typer

from divert_console.config import ConsoleSettings
from divert_platform.metrics import configure_metrics
from divert_platform.roles import serve_api
from divert_platform.telemetry import configure_telemetry

app = typer.Typer(help="Divert console: web pages for the people who run the program.", no_args_is_help=True)


def _serve(role: str) -> None:
    settings = ConsoleSettings()
    configure_metrics(settings.service_name, role, port=settings.metrics_port, host=settings.metrics_host)
    configure_telemetry(settings.service_name, role, otlp_endpoint=settings.otlp_endpoint, data_dir=settings.data_dir)
    serve_api("divert_console.entrypoints.app:create_console", settings)


@app.command()
def api() -> None:
    """Serve the console's pages."""
    _serve("api")


@app.command("all")
def all_roles() -> None:
    """The same as `api` (the console has no other role); the embedded stack's combined layout runs it."""
    _serve("api")
