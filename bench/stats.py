"""Latency summaries: nearest-rank percentiles over every sample (no histogram bucketing)."""

import math
from collections.abc import Sequence
from typing import Any


def percentile(samples: Sequence[float], p: float) -> float | None:
    """The nearest-rank `p`th percentile of `samples` (None when there are none)."""
    if not samples:
        return None
    ordered = sorted(samples)
    rank = max(math.ceil(p / 100 * len(ordered)), 1)
    return ordered[rank - 1]


def summarize(latencies_ms: Sequence[float]) -> dict[str, Any]:
    """Count, mean and the percentiles the report shows, in milliseconds."""
    if not latencies_ms:
        return {"count": 0}
    return {
        "count": len(latencies_ms),
        "mean_ms": round(sum(latencies_ms) / len(latencies_ms), 2),
        **{f"p{p}_ms": round(percentile(latencies_ms, p) or 0.0, 2) for p in (50, 95, 99)},
        "max_ms": round(max(latencies_ms), 2),
    }


def ratio(part: float | None, whole: float | None) -> float | None:
    """`part / whole`, or None when either is missing or `whole` is zero."""
    if part is None or not whole:
        return None
    return round(part / whole, 3)
