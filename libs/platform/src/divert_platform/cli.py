"""The command line every service offers: `divert-<svc> migrate | api | <role>...`."""

import importlib
from collections.abc import Mapping
from pathlib import Path

import typer

from divert_platform.metrics import configure_metrics
from divert_platform.migrations import upgrade_to_head
from divert_platform.process import run_until_stopped
from divert_platform.roles import serve_api
from divert_platform.settings import ServiceSettings
from divert_platform.telemetry import configure_telemetry


def build_cli(
    *,
    help: str,
    settings_type: type[ServiceSettings],
    migrations: Path,
    api_factory: str,
    roles: Mapping[str, tuple[str, str]],
) -> typer.Typer:
    """A Typer app with `migrate`, `api` and one command per long-running role.

    `roles` maps a command name to (module with `async def main(stop)`, help text). Every role
    configures telemetry and applies migrations before it starts, so start-up order never matters.
    """
    app = typer.Typer(help=help, no_args_is_help=True)

    def start(role: str) -> ServiceSettings:
        settings = settings_type()
        configure_metrics(settings.service_name, role, port=settings.metrics_port, host=settings.metrics_host)
        configure_telemetry(
            settings.service_name, role, otlp_endpoint=settings.otlp_endpoint, data_dir=settings.data_dir
        )
        upgrade_to_head(settings.database_url, migrations)
        return settings

    @app.command()
    def migrate() -> None:
        """Apply the database migrations and exit."""
        upgrade_to_head(settings_type().database_url, migrations)

    @app.command()
    def api() -> None:
        """Serve the REST API."""
        serve_api(api_factory, start("api"))

    for name, (module, text) in roles.items():
        app.command(name=name, help=text)(_role_command(name, module, start))
    return app


def _role_command(name: str, module: str, start):  # type: ignore[no-untyped-def]
    def command() -> None:
        start(name)
        run_until_stopped(importlib.import_module(module).main)

    return command
