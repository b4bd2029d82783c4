"""`divert`: run the embedded stack and its demo."""

import signal
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from divert_local.stack import Stack
from divert_platform.auth import ROLES, SCOPE_CLAIMS, mint_token
from divert_platform.settings import ServiceSettings
from divert_platform.trace_view import load_spans, render, traces_of

app = typer.Typer(help="Divert on one machine: the embedded stack and its demo.", no_args_is_help=True)


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt  # SIGTERM, and SIGINT even where a shell ignored it, stop the stack like Ctrl-C


@app.command()
def run(
    data_dir: Annotated[Path, typer.Option(help="Where databases, logs and traces are kept.")] = Path(".divert"),
) -> None:
    """Start the broker, Temporal and every Divert process; Ctrl-C stops them all."""
    stack = Stack(data_dir=data_dir.resolve())
    for stop_signal in (signal.SIGINT, signal.SIGTERM):  # also when started in the background
        signal.signal(stop_signal, _interrupt)
    typer.echo("starting the embedded stack (broker, Temporal, 4 services)…")
    stack.start()
    ports = stack.ports
    typer.echo(
        "\nDivert is running:\n"
        f"  intake              {stack.url('intake')}      API docs {stack.url('intake')}/docs\n"
        f"  assessment          {stack.url('assessment')}      API docs {stack.url('assessment')}/docs\n"
        f"  services-directory  {stack.url('directory')}      API docs {stack.url('directory')}/docs\n"
        f"  warrants            {stack.url('warrants')}      API docs {stack.url('warrants')}/docs\n"
        f"  Kafka API (Tansu)   {stack.kafka_bootstrap}\n"
        f"  Temporal            {stack.temporal_address}    Web UI http://127.0.0.1:{ports.temporal_ui}\n"
        f"  logs and traces     {data_dir}/logs, {data_dir}/traces\n"
        f"  metrics             http://127.0.0.1:<port>/metrics, ports {min(stack.metrics_ports.values())} to "
        f"{max(stack.metrics_ports.values())} (Prometheus config: {data_dir}/prometheus.yml)\n"
        "Try `make demo` in another terminal. Ctrl-C stops everything.\n"
    )
    try:
        while not (dead := stack.dead()):
            time.sleep(1)
        typer.echo(f"stopping: {', '.join(dead)} exited (see {data_dir}/logs)", err=True)
        code = 1
    except KeyboardInterrupt:
        code = 0
    finally:
        typer.echo("stopping every process…")
        stack.stop()
    sys.exit(code)


@app.command()
def token(
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(ROLES)}.")],
    agency: Annotated[str | None, typer.Option(help="Agency scope (officers, case managers).")] = None,
    jurisdiction: Annotated[
        str | None,
        typer.Option(
            help='Jurisdiction scope (officers, program managers, prosecutors, courts; "*" = all for the last two).'
        ),
    ] = None,
    subject: Annotated[str | None, typer.Option(help="Who the token names (default: <role>-demo).")] = None,
    hours: Annotated[int, typer.Option(min=1, max=24 * 30)] = 8,
) -> None:
    """Mint a bearer token signed with this deployment's shared key (development and tests only)."""
    if role not in ROLES:
        raise typer.BadParameter(f"unknown role {role!r}", param_hint="--role")
    given = {"agency": agency, "jurisdiction": jurisdiction}
    for claim in SCOPE_CLAIMS.get(role, ()):  # every API would refuse the token without it
        if not given[claim]:
            raise typer.BadParameter(f"a {role} token needs --{claim}", param_hint=f"--{claim}")
    settings = ServiceSettings()
    typer.echo(
        mint_token(
            settings,
            subject=subject or f"{role}-demo",
            role=role,
            agency=agency,
            jurisdiction=jurisdiction,
            lifetime=timedelta(hours=hours),
        )
    )


@app.command()
def trace(
    referral_id: Annotated[str, typer.Argument(help="The referral to follow.")],
    data_dir: Annotated[Path, typer.Option(help="The stack's data directory.")] = Path(".divert"),
    reads: Annotated[bool, typer.Option("--reads", help="Also show requests that only read it.")] = False,
) -> None:
    """Print the referral's traces as trees of spans: services, timings and errors."""
    spans = load_spans(data_dir / "traces")
    found = traces_of(spans, referral_id, with_reads=reads)
    if not found:
        typer.echo(f"no spans about {referral_id} in {data_dir / 'traces'} (spans reach the files within seconds)")
        raise typer.Exit(1)
    for trace_id, trace_spans in sorted(found.items(), key=lambda item: item[1][0].start):
        typer.echo(f"trace {trace_id}  ({trace_spans[0].start:%Y-%m-%d %H:%M:%S} UTC, {len(trace_spans)} spans)")
        for line in render(trace_spans):
            typer.echo(f"  {line}")


@app.command()
def demo(
    intake: str = "http://127.0.0.1:8001",
    assessment: str = "http://127.0.0.1:8002",
    warrants: str = "http://127.0.0.1:8004",
) -> None:
    """Walk two demo referrals through a running stack: one assessed in time, one lapsing."""
    from divert_local.demo import run_demo

    ok = run_demo(intake=intake, assessment=assessment, warrants=warrants, say=typer.echo)
    raise typer.Exit(0 if ok else 1)
