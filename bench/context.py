"""What every phase works with: the running stack, the sizes, where to keep profiles."""

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import uuid4

from bench.config import BenchConfig
from bench.databases import Databases
from bench.loadgen import LoadResult, LoadSpec, run_split
from bench.pipeline import Pipeline
from bench.stats import summarize
from divert_local.stack import Stack

GENERATOR_SHARE = 0.5
"""The share of its own ceiling one generator process is given at most: near it, its schedule
slips and the latency it reports is its own."""


@dataclass
class Context:
    """One benchmark run against one stack."""

    config: BenchConfig
    stack: Stack
    pipeline: Pipeline
    databases: Databases
    """The services' databases (SQLite files or PostgreSQL databases), and `post-cpu`'s."""
    run: str = field(default_factory=lambda: uuid4().hex[:6])
    """Makes this run's RMS case numbers unique even against a database kept from an earlier run."""
    seeded_ids: list[str] = field(default_factory=list)
    """Referrals stored by seeding, for GETs of existing referrals."""
    generator_ceiling: float | None = None
    """Requests/s one Python generator process reaches closed loop against the bare endpoint
    (the ceilings phase measures it): the most it can offer, whatever the server could take."""

    def generators_for(self, rate: float) -> int:
        """How many generator processes offer `rate` open loop: enough that each stays below half
        of the generator's own ceiling (one when the ceilings phase did not run)."""
        if not self.generator_ceiling:
            return 1
        return max(1, math.ceil(rate / (GENERATOR_SHARE * self.generator_ceiling)))

    async def load(self, spec: LoadSpec) -> LoadResult:
        """Run an open-loop phase over as many generator processes as its rate needs."""
        return await run_split(spec, self.generators_for(spec.rate or 0.0))

    @property
    def artifacts(self) -> Path:
        """Where raw profiles are written (inside the run's data directory)."""
        path = self.stack.data_dir / "bench"
        path.mkdir(exist_ok=True)
        return path

    def database_url(self, service: str) -> str:
        """The SQLAlchemy URL of a service's database in this stack."""
        return self.databases.urls[service]

    def intake(self, path: str) -> str:
        """An intake API URL."""
        return f"{self.stack.url('intake')}{path}"

    def tag(self, phase: str) -> str:
        """An RMS case-number prefix unique to this phase of this run."""
        return f"B{self.run}-{phase}"


def load_summary(result: LoadResult) -> dict[str, Any]:
    """One load phase as the report shows it."""
    return {
        "offered_rps": result.offered_rate,
        "achieved_rps": result.throughput_rps,
        "sent": result.sent,
        "statuses": result.statuses,
        "unfinished": result.unfinished,
        "max_send_lag_ms": round(result.max_send_lag_ms, 1),
        **summarize(result.latencies_ms),
    }
