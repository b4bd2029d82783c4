"""Intake's CPU per `POST /v1/referrals`, measured in a process of its own (`bench.post_cpu`).

It needs no stack: it runs first, on a quiet machine, and its figure moves only with the request
path's own cost, so it is the one to compare across revisions.
"""

import asyncio
import json
import os
import sys
from typing import Any

from bench.context import Context
from bench.loadgen import ROOT


async def post_cpu_phase(ctx: Context) -> dict[str, Any]:
    """`python -m bench.post_cpu` with the run's `posts`; its figures."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.post_cpu",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        cwd=ROOT,
        env={
            **os.environ,
            "BENCH_POSTS": str(ctx.config.posts),
            "BENCH_POST_CPU_DATABASE_URL": ctx.databases.urls["post-cpu"],
        },
    )
    out, _ = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"bench.post_cpu failed with exit code {process.returncode}")
    figures: dict[str, Any] = json.loads(out)
    return figures
