"""The benchmark's own arithmetic, its load generator and its in-process POST measurement: what the
report's figures rest on.

No timing of Divert is asserted here (that is `make bench`'s job); these check that the tools
measure what they say: percentiles, open-loop latency, the growth comparison, the settings.
"""

import asyncio
import json
import os
import subprocess
import sys

import pytest
import uvicorn
from fastapi import FastAPI

from bench.config import QUICK, BenchConfig
from bench.loadgen import ROOT, LoadSpec, drive
from bench.report import write_reports
from bench.stats import percentile, summarize
from bench.targets import evaluate, growth
from divert_platform.embedded import free_port


def test_percentiles_are_nearest_rank_over_every_sample() -> None:
    samples = [float(n) for n in range(100, 0, -1)]  # 1..100, unsorted
    assert (percentile(samples, 50), percentile(samples, 99), percentile(samples, 100)) == (50.0, 99.0, 100.0)
    assert percentile([7.0], 99) == 7.0 and percentile([], 50) is None
    assert summarize([1.0, 2.0, 3.0, 4.0]) | {} == {
        "count": 4,
        "mean_ms": 2.5,
        "p50_ms": 2.0,
        "p95_ms": 4.0,
        "p99_ms": 4.0,
        "max_ms": 4.0,
    }


async def test_open_loop_latency_counts_from_each_requests_due_time() -> None:
    """A server that handles 20 requests/s, offered 40/s for a second: a closed-loop client would
    quietly send slower and see 50 ms every time; the open-loop generator keeps the schedule, so
    the queue shows as latency (the last requests wait about a second)."""
    app, one_at_a_time = FastAPI(), asyncio.Lock()

    @app.post("/v1/referrals", status_code=201)
    async def slow() -> dict[str, str]:
        async with one_at_a_time:
            await asyncio.sleep(0.05)
        return {}

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False))
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
            await asyncio.sleep(0.01)
        spec = LoadSpec(url=f"http://127.0.0.1:{port}/v1/referrals", duration=1.0, rate=40.0, body="{}", drain=10)
        result = await drive(spec)
    finally:
        server.should_exit = True
        await serving
    assert result.sent == 40 and result.statuses == {"201": 40} and result.unfinished == 0
    assert min(result.latencies_ms) >= 50
    assert (percentile(result.latencies_ms, 99) or 0) > 800  # 40 x 50 ms of work, offered within 1 s
    assert result.throughput_rps < 25  # what the server did, not what was offered


def _load(p50: float, unfinished: int = 0) -> dict[str, float | int]:
    return {"p50_ms": p50, "p99_ms": p50 * 3, "unfinished": unfinished}


def _scale(small: dict[str, dict[str, object]], large: dict[str, dict[str, object]]) -> dict[str, object]:
    return {"scale-small": {"rates": small}, "scale-large": {"rates": large}}


def test_growth_is_compared_at_the_highest_rate_the_api_kept_up_with_at_both_sizes() -> None:
    results = _scale(
        {"100": {"post": _load(900), "get": _load(40)}, "25": {"post": _load(20), "get": _load(10)}},
        {"100": {"post": _load(1200), "get": _load(44)}, "25": {"post": _load(23), "get": _load(11)}},
    )
    assert growth(results, "post") == (0.15, "25")  # at 100 req/s the POSTs only queued
    assert growth(results, "get") == (0.1, "100")
    verdicts = {row["target"]: row for row in evaluate(results)}
    worst = verdicts["median latency growth, small -> large database (worse of POST and GET)"]
    assert (worst["measured"], worst["result"]) == (0.15, "pass")
    assert verdicts["intake POST p99 at 100 req/s (small database)"]["result"] == "fail"  # 2,700 ms


def test_no_growth_is_claimed_where_the_api_never_kept_up() -> None:
    results = _scale({"100": {"post": _load(900, unfinished=3)}}, {"100": {"post": _load(950)}})
    assert growth(results, "post") is None
    worst = {row["target"]: row for row in evaluate(results)}[
        "median latency growth, small -> large database (worse of POST and GET)"
    ]
    assert worst["result"].startswith("not comparable")


def test_every_target_of_issue_21_is_judged_from_the_runs_own_figures() -> None:
    results = {
        "run": {"stack_start_seconds": 7.9, "idle_rss_mb_total": 640.0},
        "post-cpu": {
            "passes": [
                {"in_flight": 1, "cpu_ms_per_post": 3.0},
                {"in_flight": 1, "cpu_ms_per_post": 9.0},
                {"in_flight": 1, "cpu_ms_per_post": 3.5},
                {"in_flight": 16, "cpu_ms_per_post": 3.9},
                {"in_flight": 16, "cpu_ms_per_post": 3.8},
            ]
        },
        # the broker and Temporal run elsewhere in production: 12 s of theirs are not Divert's
        "e2e": {"burst": {"referrals": 400, "stack_cpu_s": {"temporal": 10.0, "broker": 2.0, "intake-api": 4.0}}},
    }
    verdicts = {row["target"]: (row["measured"], row["result"]) for row in evaluate(results)}
    assert verdicts["Divert's own CPU per arrest diversion (burst; Temporal and broker excluded)"] == (10.0, "pass")
    # the median of each level (3.5 one at a time, 3.8 of two passes at 16), the worse of those
    assert verdicts["intake API CPU per POST (telemetry on)"] == (3.8, "pass")
    assert verdicts["resident memory of every Divert process, idle after start"] == (640.0, "fail")
    assert verdicts["cold start to all-ready (the stack of `make run`)"] == (7.9, "pass")
    assert verdicts["relay rows/s / raw produce rate"] == (None, "not measured")


def test_sizes_come_from_the_environment_over_the_quick_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENCH_QUICK", "1")
    monkeypatch.setenv("BENCH_SCALE_RATES", "100, 10")
    monkeypatch.setenv("BENCH_PHASES", "ceilings,intake")
    config = BenchConfig.from_env()
    assert config.quick and config.backlog == QUICK["backlog"]
    assert config.scale_rates == (100.0, 10.0) and config.phases == ("ceilings", "intake")
    assert config.runs("intake") and not config.runs("e2e")


def test_the_in_process_post_measurement_posts_real_referrals_and_reports_their_cost() -> None:
    # A real run, small: intake's API over a fresh SQLite file, every POST a 201.
    env = {**os.environ, "BENCH_POSTS": "5"}
    done = subprocess.run(
        [sys.executable, "-m", "bench.post_cpu"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    passes = json.loads(done.stdout)["passes"]
    assert [(p["in_flight"], p["posts"], p["created"]) for p in passes] == [
        (1, 5, 5),
        (1, 5, 5),
        (16, 5, 5),
        (16, 5, 5),
    ]
    assert all(p["cpu_ms_per_post"] > 0 and p["posts_per_s"] > 0 for p in passes)


def test_a_run_on_both_databases_reports_the_targets_side_by_side_and_each_ones_tables(tmp_path) -> None:
    def report(kind: str, cpu_ms: float) -> dict:
        split = {"stack_start_seconds": 15.0, "idle_rss_mb": {"intake-api": 140.0}, "idle_rss_mb_total": 140.0}
        run = {"quick": True, "started_at": "2026-12-07T10:00:00+00:00", "seconds": 9.0, "database": kind}
        if kind == "sqlite":
            run |= {"stack_start_seconds": 5.0, "idle_rss_mb": {"intake all": 150.0}, "idle_rss_mb_total": 535.0}
        run["layouts"] = {"split": split}
        env = {"cpus": 2, "load_before": [0.1], "load_after": [0.2], "python": "3.11", "revision": "x", "versions": {}}
        passes = [{"in_flight": 1, "posts": 100, "created": 100, "cpu_ms_per_post": cpu_ms, "posts_per_s": 100.0}]
        return {"run": run, "environment": env, "post-cpu": {"pathway": "social_contact", "passes": passes}}

    results = report("sqlite", 7.5) | {"other_databases": {"postgres": report("postgres", 9.5)}}
    json_path, markdown_path = write_reports(results, tmp_path)
    written = json.loads(json_path.read_text())
    on_postgres = {t["target"]: t for t in written["other_databases"]["postgres"]["targets"]}
    assert on_postgres["intake API CPU per POST (telemetry on)"]["measured"] == 9.5
    assert on_postgres["cold start to all-ready (the stack of `make run`)"]["result"] == "not measured"
    text = markdown_path.read_text()
    assert "| target | goal | SQLite | PostgreSQL |" in text
    assert "| intake API CPU per POST (telemetry on) | <= 4 ms | 7.5 ms **fail** | 9.5 ms **fail** |" in text
    assert "### On PostgreSQL" in text and text.count("POST /v1/referrals` in one process") == 2
