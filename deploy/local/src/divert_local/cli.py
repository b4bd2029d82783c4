"""`divert`: run the embedded stack and its demo."""

import os
import signal
import sys
import time
from dataclasses import fields, replace
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from divert_local.stack import LAYOUTS, Layout, Ports, PortsInUse, Stack
from divert_platform.principals import ROLES, SCOPE_CLAIMS

# The token and trace commands import what they need themselves: `divert run` supervises the
# stack for as long as it runs, and keeps only what that needs resident.

PURGE_EVERY_SECONDS = 3600
"""How often `divert run` purges what is past its retention period (docs/operations.md, "Retention")."""

app = typer.Typer(help="Divert on one machine: the embedded stack and its demo.", no_args_is_help=True)


class StopRequested(KeyboardInterrupt):
    """A stop signal arrived: stop every process, then exit."""


class StopSignals:
    """The first SIGINT, SIGTERM or SIGHUP asks the stack to stop; later ones are only noted.

    A second signal must not cut the stop short: that is how a double Ctrl-C used to leave every
    process running, holding every port. Installed also where a shell made a background job ignore
    SIGINT; SIGHUP is left ignored under `nohup`.

    The handler raises `StopRequested` in whatever the main thread is running, and Python drops an
    exception raised inside a callback it ignores errors of (logging's at-fork hook, run after each
    subprocess is forked): a signal arriving there would be lost, and every later one only noted.
    So the signal is also kept in `requested`, which the supervisor's loop checks.
    """

    def __init__(self) -> None:
        self.stopping = False
        self.requested: str | None = None
        for stop_signal in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            if stop_signal == signal.SIGHUP and signal.getsignal(stop_signal) == signal.SIG_IGN:
                continue
            signal.signal(stop_signal, self._received)

    def stop(self) -> None:
        """From now on, stop signals are only noted: the stack is being stopped."""
        self.stopping = True

    def _received(self, number: int, _frame: FrameType | None) -> None:
        name = signal.Signals(number).name
        if self.stopping:
            # os.write, not print: the handler may run in the middle of a print.
            os.write(sys.stderr.fileno(), f"{name}: already stopping every process, wait for it\n".encode())
            return
        self.stopping, self.requested = True, name
        raise StopRequested(name)


def _ports(free: bool, chosen: list[str]) -> Ports:
    ports = Ports.free() if free else Ports()
    names = {field.name.replace("_", "-"): field.name for field in fields(Ports)}
    for choice in chosen:
        name, _, number = choice.partition("=")
        if name not in names or not number.isdigit() or not 0 < int(number) < 65536:
            raise typer.BadParameter(
                f"{choice!r} is not NAME=PORT, NAME one of {', '.join(names)}", param_hint="--port"
            )
        ports = replace(ports, **{names[name]: int(number)})
    return ports


@app.command()
def run(
    data_dir: Annotated[Path, typer.Option(help="Where databases, logs and traces are kept.")] = Path(".divert"),
    free_ports: Annotated[
        bool, typer.Option("--free-ports", help="Listen on free ports drawn at random, not the usual ones.")
    ] = False,
    port: Annotated[
        list[str] | None,
        typer.Option(
            metavar="NAME=PORT",
            help="Listen on PORT for NAME: intake, assessment, directory, warrants, console, kafka, temporal, "
            "temporal-ui or "
            "metrics-base (the first of the Divert processes' metrics ports, one each); repeatable.",
        ),
    ] = None,
    layout: Annotated[
        str,
        typer.Option(
            help="combined: one process per service, its roles as tasks (lighter); split: one process per role, "
            "as production deploys them."
        ),
    ] = "combined",
) -> None:
    """Start the broker, Temporal and every Divert process; Ctrl-C (or SIGTERM) stops them all."""
    if layout not in LAYOUTS:
        raise typer.BadParameter(f"{layout!r} is not one of {', '.join(LAYOUTS)}", param_hint="--layout")
    chosen: Layout = "split" if layout == "split" else "combined"
    stack = Stack(data_dir=data_dir.resolve(), ports=_ports(free_ports, port or []), layout=chosen)
    signals = StopSignals()
    code = 1
    try:
        typer.echo(f"starting the embedded stack (broker, Temporal, 4 services and the console, {layout} layout)…")
        stack.start()
        _announce(stack, data_dir)
        # The supervisor's loop: it watches every process and runs the retention job now and hourly,
        # as the deploy manifests' schedule does.
        next_purge = time.monotonic()
        while not (dead := stack.dead()):
            if signals.requested is not None:  # its exception was lost (see StopSignals)
                raise StopRequested(signals.requested)
            if time.monotonic() >= next_purge:
                stack.purge()
                next_purge += PURGE_EVERY_SECONDS
            time.sleep(1)
        signals.stop()
        typer.echo(f"stopping: {', '.join(dead)} exited (see {data_dir}/logs)", err=True)
    except PortsInUse as held:
        typer.echo(
            f"cannot start: {held}\n"
            "An earlier `make run` may still be running: stop it (Ctrl-C in its terminal, or `kill` the PID it was "
            "started by), or start this one with --free-ports or --port NAME=PORT.",
            err=True,
        )
    except StopRequested as received:
        typer.echo(f"\n{received}: stopping every process…")
        code = 0
    finally:
        signals.stop()
        stack.stop()
    sys.exit(code)


def _announce(stack: Stack, data_dir: Path) -> None:
    ports = stack.ports
    typer.echo(
        "\nDivert is running:\n"
        f"  intake              {stack.url('intake')}      API docs {stack.url('intake')}/docs\n"
        f"  assessment          {stack.url('assessment')}      API docs {stack.url('assessment')}/docs\n"
        f"  services-directory  {stack.url('directory')}      API docs {stack.url('directory')}/docs\n"
        f"  warrants            {stack.url('warrants')}      API docs {stack.url('warrants')}/docs\n"
        f"  console             {stack.url('console')}      sign in as any role (development)\n"
        f"  Kafka API (Tansu)   {stack.kafka_bootstrap}\n"
        f"  Temporal            {stack.temporal_address}    Web UI http://127.0.0.1:{ports.temporal_ui}\n"
        f"  logs and traces     {data_dir}/logs, {data_dir}/traces\n"
        f"  metrics             http://127.0.0.1:<port>/metrics, ports {min(stack.metrics_ports.values())} to "
        f"{stack.console_metrics_port} (Prometheus config: {data_dir}/prometheus.yml)\n"
        "Try `make demo` in another terminal. Ctrl-C stops everything.\n"
    )


@app.command()
def token(
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(ROLES)}.")],
    agency: Annotated[
        str | None, typer.Option(help="Agency scope (officers, agency administrators, case managers).")
    ] = None,
    jurisdiction: Annotated[
        str | None,
        typer.Option(
            help=(
                "Jurisdiction scope (officers, agency administrators, program managers, prosecutors, courts; "
                '"*" = all for the last two).'
            )
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
    from divert_platform.auth import mint_token
    from divert_platform.settings import ServiceSettings

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
    from divert_platform.trace_view import load_spans, render, traces_of

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
