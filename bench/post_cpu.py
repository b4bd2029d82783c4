"""Intake's CPU per `POST /v1/referrals`, measured in one process: no stack, no network, no noise.

The API is built by intake's own composition root over a fresh SQLite file and driven through
httpx's ASGI transport, with tracing and metrics on as in `make run` (spans go to a trace file).
The process's own CPU time (`time.process_time`, every thread, client included) is divided by the
POSTs sent. Unlike the stack phases, the figure does not move with whatever else the machine runs,
so it is the one to compare before and after a change of the request path:

    python -m bench.post_cpu            # 2 passes of 600 POSTs one at a time, then 16 in flight
    BENCH_POSTS=200 python -m bench.post_cpu
"""

import asyncio
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx

from bench.workload import AGENCY, JURISDICTION, referral
from divert_intake.bootstrap import MIGRATIONS, bootstrap
from divert_intake.config import IntakeSettings
from divert_intake.entrypoints.api import build_api
from divert_platform.auth import mint_token
from divert_platform.metrics import configure_metrics
from divert_platform.telemetry import configure_telemetry, shutdown_telemetry
from divert_platform.testing import migrate

PATHWAY = "social_contact"
"""The same request path as an arrest diversion up to the outbox; no workflow behind it."""


async def _post_many(client: httpx.AsyncClient, headers: dict[str, str], tag: str, posts: int, in_flight: int) -> int:
    """Send `posts` referrals with at most `in_flight` at a time; returns how many got a 201."""
    gate, created = asyncio.Semaphore(in_flight), 0

    async def one(number: int) -> None:
        nonlocal created
        async with gate:
            body = referral(PATHWAY, f"{tag}-{number}")
            # A fresh key with every POST, as an RMS sends it (and as the stack phases do).
            keyed = {**headers, "Idempotency-Key": str(uuid4())}
            response = await client.post("/v1/referrals", json=body, headers=keyed)
            created += response.status_code == 201

    await asyncio.gather(*(one(number) for number in range(posts)))
    return created


async def measure(posts: int = 600, passes: int = 2, in_flight: tuple[int, ...] = (1, 16)) -> dict[str, Any]:
    """CPU ms and POSTs/s per pass, for each concurrency in `in_flight`."""
    with tempfile.TemporaryDirectory(prefix="divert-post-cpu-") as scratch:
        data_dir = Path(scratch)
        configure_metrics("intake", "api", port=None, host="127.0.0.1")
        configure_telemetry("intake", "api", otlp_endpoint=None, data_dir=data_dir)
        logging.getLogger("httpx").setLevel(logging.WARNING)  # the client's own lines are not the API's cost
        settings = IntakeSettings(data_dir=data_dir, kafka_bootstrap="127.0.0.1:1", rate_limit_per_minute=0)
        if database_url := os.environ.get("BENCH_POST_CPU_DATABASE_URL"):  # PostgreSQL runs: an empty database
            settings = settings.model_copy(update={"database_url": database_url})
        await migrate(settings.database_url, MIGRATIONS)
        intake = bootstrap(settings)
        token = mint_token(settings, subject="bench-officer", role="officer", agency=AGENCY, jurisdiction=JURISDICTION)
        headers = {"Authorization": f"Bearer {token}"}
        transport = httpx.ASGITransport(app=build_api(intake))
        results: list[dict[str, Any]] = []
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
                await _post_many(client, headers, "warm", 50, 1)  # imports, caches, the first statements
                for concurrency in in_flight:
                    for number in range(passes):
                        cpu, wall = time.process_time(), time.perf_counter()
                        created = await _post_many(client, headers, f"c{concurrency}p{number}", posts, concurrency)
                        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                        results.append(
                            {
                                "in_flight": concurrency,
                                "posts": posts,
                                "created": created,
                                "cpu_ms_per_post": round(1000 * cpu / posts, 2),
                                "posts_per_s": round(posts / wall, 1),
                            }
                        )
        finally:
            await intake.engine.dispose()
            shutdown_telemetry()
    return {"pathway": PATHWAY, "passes": results}


def main() -> None:
    """Print the figures as JSON on stdout."""
    posts = int(os.environ.get("BENCH_POSTS", "600"))
    figures = asyncio.run(measure(posts=posts))
    json.dump(figures, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
