"""Benchmark sizes, read once from `BENCH_*` environment variables.

The defaults are the full run, sized to finish in about 16 minutes on 2 cores for each kind of
database it runs on (SQLite, then PostgreSQL). `BENCH_QUICK=1` shrinks every phase to seconds (a
smoke run on a busy machine) and runs on SQLite alone; any single size can still be set, e.g.
`BENCH_QUICK=1 BENCH_WORKFLOWS=1000` or `BENCH_QUICK=1 BENCH_DATABASE=sqlite,postgres`.
"""

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

ALL_PHASES = ("post-cpu", "ceilings", "scale-small", "intake", "e2e", "backlog", "scale-large", "workflows")


@dataclass(frozen=True)
class BenchConfig:
    """Every size and rate of one run; each field `x` is overridden by `BENCH_X`."""

    quick: bool = False
    phases: tuple[str, ...] = ALL_PHASES
    rates: tuple[float, ...] = (50.0, 200.0, 500.0)
    phase_seconds: float = 15.0
    saturation_concurrency: int = 32
    max_connections: int = 256
    settle_timeout: float = 180.0
    kafka_messages: int = 50_000
    temporal_starts: int = 400
    temporal_concurrency: int = 16
    posts: int = 600
    e2e_rate: float = 10.0
    e2e_seconds: float = 60.0
    e2e_burst: int = 400
    e2e_burst_rate: float = 100.0
    e2e_timeout: float = 300.0
    scale_small: int = 1_000
    scale_large: int = 100_000
    scale_rates: tuple[float, ...] = (100.0, 25.0)
    scale_seconds: float = 15.0
    workflows: int = 10_000
    backlog: int = 10_000
    profile: bool = True
    report_dir: Path = Path("docs")
    keep_data: bool = False
    database: tuple[str, ...] = ("sqlite", "postgres")
    """The kinds of database the services run on, one whole run of the phases each, in this order:
    `sqlite` (the embedded default) and `postgres` (a database per service on `postgres_url`)."""
    postgres_url: str = "postgresql://postgres@127.0.0.1:5432/postgres"
    """A PostgreSQL server and a role that may create databases (the run's are dropped after it)."""

    @classmethod
    def from_env(cls) -> "BenchConfig":
        """The full-run defaults, shrunk by `BENCH_QUICK`, then every `BENCH_<FIELD>` that is set."""
        config = cls()
        if _parse(os.environ.get("BENCH_QUICK", ""), False):
            config = replace(config, **QUICK)
        overrides = {
            spec.name: _parse(raw, getattr(config, spec.name))
            for spec in fields(cls)
            if spec.name != "quick" and (raw := os.environ.get(f"BENCH_{spec.name.upper()}")) is not None
        }
        return replace(config, **overrides)

    def runs(self, phase: str) -> bool:
        """Whether `phase` is selected (`BENCH_PHASES=ceilings,intake` runs only those)."""
        return phase in self.phases


QUICK: dict[str, object] = {
    "quick": True,
    "phase_seconds": 3.0,
    "settle_timeout": 60.0,
    "kafka_messages": 5_000,
    "temporal_starts": 60,
    "posts": 100,
    "e2e_seconds": 5.0,
    "e2e_burst": 40,
    "e2e_timeout": 90.0,
    "scale_small": 200,
    "scale_large": 5_000,
    "scale_seconds": 3.0,
    "workflows": 200,
    "backlog": 500,
    "database": ("sqlite",),
}
"""What `BENCH_QUICK=1` changes: seconds per phase and hundreds of items instead of thousands."""


def _parse(raw: str, current: object) -> object:
    """`raw` read as the type of the field's current value."""
    if isinstance(current, bool):
        return raw.strip().lower() not in ("", "0", "false", "no")
    if isinstance(current, tuple):
        items = [item.strip() for item in raw.split(",") if item.strip()]
        return tuple(float(item) for item in items) if current and isinstance(current[0], float) else tuple(items)
    if isinstance(current, Path):
        return Path(raw)
    return type(current)(raw)
