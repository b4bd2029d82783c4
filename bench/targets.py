"""The targets the benchmark reports as pass or fail, each computed from the run's own figures."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.stats import ratio
from divert_local.stack import INFRASTRUCTURE


@dataclass(frozen=True)
class Target:
    """One goal: what is compared, the bound, and how the measured value is read from the results."""

    name: str
    goal: str
    measure: Callable[[dict[str, Any]], float | None]
    passes: Callable[[float], bool]
    unit: str = ""


def _get(results: dict[str, Any], *path: str) -> Any:
    for key in path:
        if not isinstance(results, dict) or key not in results:
            return None
        results = results[key]
    return results


def e2e_share(results: dict[str, Any]) -> float | None:
    """Sustained end-to-end throughput (burst drained to running workflows) / raw concurrent starts."""
    return ratio(
        _get(results, "e2e", "burst", "workflow_throughput_per_s"),
        _get(results, "ceilings", "temporal", "concurrent_starts_per_s"),
    )


KEPT_UP_P50_MS = 250.0


def _kept_up(load: Any) -> bool:
    """Whether the API kept up with a fixed-rate phase: every request answered, the median not
    queueing. (Achieved/offered rate misleads on short phases, where a slow tail stretches the
    window.) Above saturation open-loop latency grows with the phase's length instead."""
    return isinstance(load, dict) and not load.get("unfinished") and load.get("p50_ms", 1e9) <= KEPT_UP_P50_MS


def growth(results: dict[str, Any], method: str) -> tuple[float, str] | None:
    """Relative growth of the median latency of `method` from the small to the large database, at
    the highest scale rate at which the API kept up at both sizes, and that rate.

    None when it kept up at no rate: queueing then decides the latency, and the comparison says
    nothing about the database size.
    """
    rates = _get(results, "scale-small", "rates") or {}
    for rate in sorted(rates, key=float, reverse=True):
        small = _get(results, "scale-small", "rates", rate, method)
        large = _get(results, "scale-large", "rates", rate, method)
        if _kept_up(small) and _kept_up(large):
            change = ratio(large["p50_ms"], small["p50_ms"])
            if change is not None:
                return round(change - 1, 3), rate
    return None


def worst_growth(results: dict[str, Any]) -> float | None:
    values = [g[0] for g in (growth(results, "post"), growth(results, "get")) if g is not None]
    return max(values) if values else None


def divert_cpu_per_diversion(results: dict[str, Any]) -> float | None:
    """CPU ms per arrest diversion of the burst, summed over Divert's own processes (the broker and
    Temporal, which a production deployment runs elsewhere, left out)."""
    used, referrals = _get(results, "e2e", "burst", "stack_cpu_s"), _get(results, "e2e", "burst", "referrals")
    if not used or not referrals:
        return None
    own = sum(seconds for name, seconds in used.items() if name not in INFRASTRUCTURE)
    return round(1000 * own / referrals, 1)


def api_cpu_per_post(results: dict[str, Any]) -> float | None:
    """Intake API CPU ms per POST (`bench.post_cpu`, telemetry on): the median of the passes at each
    number in flight, the worse of those."""
    passes = _get(results, "post-cpu", "passes") or []
    by_level: dict[int, list[float]] = {}
    for row in passes:
        by_level.setdefault(row["in_flight"], []).append(row["cpu_ms_per_post"])
    medians = [sorted(values)[(len(values) - 1) // 2] for values in by_level.values()]
    return max(medians) if medians else None


def relay_share(results: dict[str, Any]) -> float | None:
    """Relay rows/s after the backlog / raw aiokafka produce rate."""
    return ratio(_get(results, "backlog", "relay_rows_per_s"), _get(results, "ceilings", "kafka", "produce_per_s"))


TARGETS = (
    Target(
        "Divert's own CPU per arrest diversion (burst; Temporal and broker excluded)",
        "<= 25 ms",
        divert_cpu_per_diversion,
        lambda v: v <= 25,
        "ms",
    ),
    Target("intake API CPU per POST (telemetry on)", "<= 4 ms", api_cpu_per_post, lambda v: v <= 4, "ms"),
    Target(
        "sustained end-to-end throughput / raw Temporal start rate",
        ">= 70%",
        e2e_share,
        lambda v: v >= 0.7,
        "ratio",
    ),
    Target(
        "intake POST p99 at 100 req/s (small database)",
        "<= 50 ms",
        lambda r: _get(r, "scale-small", "rates", "100", "post", "p99_ms"),
        lambda v: v <= 50,
        "ms",
    ),
    Target(
        "median latency growth, small -> large database (worse of POST and GET)",
        "<= 20%",
        worst_growth,
        lambda v: v <= 0.2,
        "ratio",
    ),
    Target("relay rows/s / raw produce rate", ">= 50%", relay_share, lambda v: v >= 0.5, "ratio"),
    Target(
        "resident memory of every Divert process, idle after start",
        "<= 600 MiB",
        lambda r: _get(r, "run", "idle_rss_mb_total"),
        lambda v: v <= 600,
        "MiB",
    ),
    Target(
        "cold start to all-ready (the stack of `make run`)",
        "<= 8 s",
        lambda r: _get(r, "run", "stack_start_seconds"),
        lambda v: v <= 8,
        "s",
    ),
)


def evaluate(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target with its measured value and `pass`, `fail` or `not measured`."""
    rows = []
    for target in TARGETS:
        value = target.measure(results)
        verdict = "not measured" if value is None else ("pass" if target.passes(value) else "fail")
        if value is None and target.measure is worst_growth and "scale-large" in results:
            verdict = "not comparable: the API kept up with no scale rate at both sizes"
        rows.append(
            {"target": target.name, "goal": target.goal, "measured": value, "unit": target.unit, "result": verdict}
        )
    return rows
