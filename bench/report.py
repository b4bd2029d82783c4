"""The reports: JSON with every figure, and the Markdown results section of docs/performance.md.

docs/performance.md is hand-written around two markers; only the text between them is replaced,
so the method and the how-to-reproduce stay as written.
"""

import json
import os
from pathlib import Path
from typing import Any

from bench.stats import ratio
from bench.targets import evaluate, growth

START = "<!-- bench:results:start -->"
END = "<!-- bench:results:end -->"


def write_reports(results: dict[str, Any], directory: Path) -> tuple[Path, Path]:
    """Write `performance.json` and the results section of `performance.md` in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    results["targets"] = evaluate(results)
    for other in results.get("other_databases", {}).values():
        other["targets"] = evaluate(other)
    json_path = directory / "performance.json"
    json_path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    markdown_path = directory / "performance.md"
    section = f"{START}\n{render(results)}\n{END}"
    if markdown_path.exists() and START in (text := markdown_path.read_text()) and END in text:
        head, _, rest = text.partition(START)
        text = head + section + rest.partition(END)[2]
    else:
        text = f"# Performance\n\n{section}\n"
    markdown_path.write_text(text)
    return json_path, markdown_path


DATABASE_NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


def render(results: dict[str, Any]) -> str:
    """The results section: run facts, targets (side by side for every kind of database run),
    then every phase's table, and the same tables for each other kind of database."""
    others = results.get("other_databases", {})
    parts = [_run(results), _targets(results) if not others else _targets_side_by_side(results, others)]
    parts += _phases(results)
    for kind, other in others.items():
        name = DATABASE_NAMES.get(kind, kind)
        split = other["run"]["layouts"]["split"]
        parts.append(
            f"### On {name}\n\nThe same phases with every service's database on {name} (Temporal and the broker "
            f"as before). The stack with a process per role started in {split['stack_start_seconds']:.1f} s; its "
            f"{len(split['idle_rss_mb'])} Divert processes held {split['idle_rss_mb_total']:.0f} MiB idle."
        )
        parts += [part.replace("\n### ", "\n#### ").replace("### ", "#### ", 1) for part in _phases(other)]
    return "\n\n".join(part for part in parts if part)


def _phases(results: dict[str, Any]) -> list[str]:
    failed = {name: part["error"] for name, part in results.items() if isinstance(part, dict) and "error" in part}
    parts = [f"**Phase {name} failed:** `{error}`" for name, error in failed.items()]
    for names, renderer in _SECTIONS:
        if any(name in results and name not in failed for name in names):
            parts.append(renderer(results))
    return parts


def _targets_side_by_side(results: dict[str, Any], others: dict[str, dict[str, Any]]) -> str:
    kinds = [results["run"].get("database", "sqlite"), *others]
    reports = [results, *others.values()]
    rows = []
    for index, target in enumerate(results["targets"]):
        row = [target["target"], target["goal"]]
        for report in reports:
            t = report["targets"][index]
            value = t["measured"]
            shown = _pct(value) if t["unit"] == "ratio" else (None if value is None else f"{value} {t['unit']}")
            row.append(f"{shown} **{t['result']}**" if shown is not None else t["result"])
        rows.append(row)
    header = ["target", "goal", *(DATABASE_NAMES.get(kind, kind) for kind in kinds)]
    note = (
        "Memory and cold start are `make run`'s, which runs on SQLite; on PostgreSQL they are not measured."
        if "postgres" in others
        else ""
    )
    return "### Targets\n\n" + _table(header, rows) + ("\n\n" + note if note else "")


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join("-" if cell is None else str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _pct(value: float | None) -> str | None:
    return None if value is None else f"{100 * value:.0f}%"


def _errors(load: dict[str, Any]) -> str:
    bad = {status: n for status, n in load.get("statuses", {}).items() if not status.startswith("2")}
    bad |= load.get("errors", {})  # wrk's counts: non-2xx/3xx answers, socket errors, timeouts
    if load.get("unfinished"):
        bad["unfinished"] = load["unfinished"]
    return ", ".join(f"{status}: {n}" for status, n in bad.items()) or "0"


def _run(results: dict[str, Any]) -> str:
    run, env = results["run"], results["environment"]
    kind = "Full run"
    if run["quick"]:
        kind = "**Quick smoke run** (`BENCH_QUICK=1`): tiny sizes on a busy machine, figures are indicative only"
    return (
        f"### Run\n\n{kind}. Started {run['started_at']}, took {run['seconds']:.0f} s "
        f"(start-up of `make run`'s stack {run['stack_start_seconds']:.1f} s{_idle_memory(run)}). "
        f"Revision `{env['revision']}`. "
        f"{env['cpus']} CPUs, load average {env['load_before']} before and {env['load_after']} after; "
        f"Python {env['python']}; " + ", ".join(f"{k} {v}" for k, v in env["versions"].items()) + "."
    )


def _idle_memory(run: dict[str, Any]) -> str:
    if "idle_rss_mb" not in run:
        return ""
    largest = sorted(run["idle_rss_mb"].items(), key=lambda item: -item[1])[:3]
    text = (
        f"; idle, its {len(run['idle_rss_mb'])} Divert processes held {run['idle_rss_mb_total']:.0f} MiB resident, "
        + ", ".join(f"{name} {mb:.0f}" for name, mb in largest)
        + " the most"
    )
    split = run.get("layouts", {}).get("split")
    if split is None:
        return text
    return (
        f"{text}; with a process per role, as the phases ran, start-up took {split['stack_start_seconds']:.1f} s "
        f"and its {len(split['idle_rss_mb'])} Divert processes held {split['idle_rss_mb_total']:.0f} MiB"
    )


def _targets(results: dict[str, Any]) -> str:
    rows = []
    for t in results["targets"]:
        value = t["measured"]
        shown = _pct(value) if t["unit"] == "ratio" else (None if value is None else f"{value} {t['unit']}")
        rows.append([t["target"], t["goal"], shown, f"**{t['result']}**"])
    return "### Targets\n\n" + _table(["target", "goal", "measured", "result"], rows)


def _ceilings(results: dict[str, Any]) -> str:
    c = results["ceilings"]
    kafka, temporal, http = c["kafka"], c["temporal"], c["http"]["saturation"]
    rows = [
        [
            "aiokafka produce (acks=all, linger 5 ms, relay settings)",
            f"{kafka['produce_per_s']:,} records/s",
            f"{kafka['messages']:,} records of {kafka['record_bytes']} bytes",
        ],
        ["aiokafka produce → consume", f"{kafka['produce_consume_per_s']:,} records/s", "same records, one consumer"],
        ["Temporal starts, one at a time", f"{temporal['sequential_starts_per_s']} /s", "trivial workflow"],
        [
            "Temporal starts, concurrent",
            f"{temporal['concurrent_starts_per_s']} /s",
            f"{temporal['concurrency']} in flight, {temporal['starts']} starts",
        ],
        [
            "bare FastAPI POST at saturation",
            f"{http['achieved_rps']} req/s",
            f"wrk, closed loop, {http.get('connections')} connections, p50 {http.get('p50_ms')} ms",
        ],
    ]
    if generator := c["http"].get("python_generator"):
        rows.append(
            [
                "the Python load generator's own ceiling",
                f"{generator['achieved_rps']} req/s",
                f"one process, closed loop against the bare endpoint, {generator['concurrency']} in flight: "
                "fixed rates are offered by enough processes to keep each below half of it",
            ]
        )
    return "### Ceilings (same machine, same run)\n\n" + _table(["what", "rate", "how"], rows)


def _post_cpu(results: dict[str, Any]) -> str:
    passes = results["post-cpu"].get("passes", [])
    rows = [[p["in_flight"], p["posts"], p["created"], p["cpu_ms_per_post"], p["posts_per_s"]] for p in passes]
    header = ["in flight", "POSTs", "201s", "CPU ms per POST", "POSTs/s"]
    database = "PostgreSQL database" if results["run"].get("database") == "postgres" else "SQLite file"
    return (
        "### Intake `POST /v1/referrals` in one process (`python -m bench.post_cpu`)\n\n"
        + _table(header, rows)
        + f"\n\nThe API from intake's own composition root over a fresh {database}, driven through httpx's "
        "ASGI transport, tracing and metrics on; CPU time of the whole process (client included) per POST "
        "(on PostgreSQL the server's own CPU is not in it)."
    )


def _intake(results: dict[str, Any]) -> str:
    intake = results["intake"]
    if "rates" not in intake:
        return ""
    bare = results.get("ceilings", {}).get("http", {})
    bare_by_rate = {row["offered_rps"]: row for row in bare.get("rates", [])}
    rows = []
    for row in intake["rates"]:
        b = bare_by_rate.get(row["offered_rps"], {})
        rows.append(
            [
                f"{row['offered_rps']:g} req/s open loop ({row.get('generators', 1)} generator processes)",
                row["achieved_rps"],
                row.get("p50_ms"),
                row.get("p95_ms"),
                row.get("p99_ms"),
                row.get("max_ms"),
                _errors(row),
                row["api_cpu_ms_per_request"],
                b.get("p50_ms"),
                b.get("p99_ms"),
            ]
        )
    sat, bsat = intake["saturation"], bare.get("saturation", {})
    rows.append(
        [
            f"saturation, wrk, {sat.get('connections')} connections",
            sat["achieved_rps"],
            sat.get("p50_ms"),
            sat.get("p95_ms"),
            sat.get("p99_ms"),
            sat.get("max_ms"),
            _errors(sat),
            sat["api_cpu_ms_per_request"],
            bsat.get("p50_ms"),
            bsat.get("p99_ms"),
        ]
    )
    header = [
        "load",
        "achieved req/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms",
        "errors",
        "API CPU ms/req",
        "bare p50 ms",
        "bare p99 ms",
    ]
    share = ratio(sat["achieved_rps"], bsat.get("achieved_rps"))
    note = (
        f"Saturation throughput is **{_pct(share)}** of the bare endpoint's ({bsat.get('achieved_rps')} req/s). "
        f"Referrals: {intake['pathway']} (same request path, no workflow behind it). "
        "Open-loop latency is measured from each request's scheduled time; wrk's (saturation) from "
        "each request's send on a busy connection, so it is the queue's."
    )
    return "### Intake `POST /v1/referrals`\n\n" + _table(header, rows) + "\n\n" + note


def _e2e(results: dict[str, Any]) -> str:
    e2e = results["e2e"]
    temporal = results.get("ceilings", {}).get("temporal", {})
    rows = []
    for label, run in (("sustained", e2e["sustained"]), ("burst", e2e["burst"])):
        rows.append(
            [
                f"{label}: {run['rate']:g}/s, {run['referrals']} referrals",
                run["post"].get("p50_ms"),
                run["post"].get("p99_ms"),
                run["case_opened"].get("p50_ms"),
                run["case_opened"].get("p99_ms"),
                run["workflow_running"].get("p50_ms"),
                run["workflow_running"].get("p99_ms"),
                run.get("case_throughput_per_s"),
                run.get("workflow_throughput_per_s"),
            ]
        )
    header = [
        "run",
        "POST p50",
        "POST p99",
        "case opened p50",
        "p99",
        "workflow running p50",
        "p99",
        "cases/s",
        "workflows/s",
    ]
    burst = e2e["burst"].get("workflow_throughput_per_s")
    note = (
        f"Times in ms from the POST's scheduled time. Burst throughput is {burst} referrals/s to a running "
        f"workflow: {_pct(ratio(burst, temporal.get('concurrent_starts_per_s')))} of the raw concurrent Temporal "
        f"start rate, {_pct(ratio(burst, temporal.get('sequential_starts_per_s')))} of the one-at-a-time rate."
    )
    per_referral = e2e["burst"].get("stack_cpu_ms_per_referral")
    if per_referral:
        used = e2e["burst"]["stack_cpu_s"]
        total = sum(used.values())
        biggest = ", ".join(f"{name} {_pct(seconds / total)}" for name, seconds in list(used.items())[:6])
        cores = os.cpu_count() or 1
        note += (
            f" During the burst the stack used **{per_referral} ms of CPU per referral** across all its processes "
            f"(load generator excluded), so {cores} cores can carry at most "
            f"{round(cores * 1000 / per_referral, 1)} referrals/s. Largest shares: {biggest}."
        )
    return "### End to end (arrest diversions)\n\n" + _table(header, rows) + "\n\n" + note


def _scale(results: dict[str, Any]) -> str:
    rows = []
    for name in ("scale-small", "scale-large"):
        s = results.get(name, {})
        for rate, at in s.get("rates", {}).items():
            post, get = at["post"], at["get"]
            rows.append(
                [
                    f"{s['stored_referrals']:,}",
                    rate,
                    post.get("p50_ms"),
                    post.get("p95_ms"),
                    post.get("p99_ms"),
                    _errors(post),
                    get.get("p50_ms"),
                    get.get("p95_ms"),
                    get.get("p99_ms"),
                    _errors(get),
                    s["seeding"].get("per_s"),
                ]
            )
    header = [
        "stored referrals",
        "req/s",
        "POST p50",
        "p95",
        "p99",
        "errors",
        "GET p50",
        "p95",
        "p99",
        "errors",
        "seeded/s",
    ]
    changes = {method: growth(results, method) for method in ("post", "get")}
    note = "Median growth from the small to the large database, at the highest rate the API kept up with: " + ", ".join(
        f"{method.upper()} "
        + (f"{_pct(change[0])} at {change[1]} req/s" if change else "not compared (the API kept up with no rate)")
        for method, change in changes.items()
    )
    return "### Scale (open loop, ms)\n\n" + _table(header, rows) + "\n\n" + note + "."


def _workflows(results: dict[str, Any]) -> str:
    w = results["workflows"]
    rows = [
        [
            name,
            w["memory_before"][name]["rss_mb"],
            w["memory_after"][name]["rss_mb"],
            w["memory_after"][name]["peak_rss_mb"],
        ]
        for name in w["memory_after"]
    ]
    return (
        f"### {w['workflows']:,} open deadline workflows\n\n"
        f"Started in {w['start_seconds']} s ({w['starts_per_s']}/s, 16 in flight); the worker had run every "
        f"first task after {w['seconds_until_worker_caught_up']} s (caught up: {w['all_waiting_on_timer']}). "
        f"Open deadline workflows on the server (the end-to-end phase's included): "
        f"{w['open_deadline_workflows']:,}; Temporal database {w['temporal_db_mb']} MiB.\n\n"
        + _table(["process", "RSS before MiB", "RSS after MiB", "peak MiB"], rows)
    )


def _backlog(results: dict[str, Any]) -> str:
    b = results["backlog"]
    kafka = results.get("ceilings", {}).get("kafka", {})
    rows = [["intake relay", b["relay_rows_per_s"], b["relay_seconds"]]]
    rows += [[f"consumer {group}", c["referrals_per_s"], c["seconds"]] for group, c in b["consumers"].items()]
    note = (
        f"Relay: {_pct(ratio(b['relay_rows_per_s'], kafka.get('produce_per_s')))} of raw produce. "
        f"Not caught up in time: {', '.join(b['not_caught_up']) or 'none'}."
    )
    header = ["what", "referrals/s", "seconds (from the relay's first send)"]
    return f"### Backlog of {b['events']:,} events\n\n" + _table(header, rows) + "\n\n" + note


def _profiles(results: dict[str, Any]) -> str:
    found = []
    if "profile" in results.get("intake", {}):
        found.append(results["intake"]["profile"])
    for name, profile in results.get("backlog", {}).get("profiles", {}).items():
        found.append({"process": f"{name} (backlog)", **profile})
    parts = []
    for p in found:
        if "error" in p:
            parts.append(f"#### {p['process']}: {p['error']}")
            continue
        where = f" at {p['rate']:g} req/s" if "rate" in p else ""
        packages = ", ".join(f"{name} {share}%" for name, share in p["packages_self"])
        parts.append(
            f"#### {p['process']}{where}, {p['samples']} on-CPU samples\n\nSelf time by package: {packages}.\n\n"
            + _table(["self (top frames)", "% CPU"], [list(row) for row in p["self"][:10]])
            + "\n\n"
            + _table(["Divert function (inclusive)", "% CPU"], [list(row) for row in p["divert_inclusive"][:10]])
        )
    return "### Profiles (py-spy)\n\n" + "\n\n".join(parts) if parts else ""


_SECTIONS = (
    (("post-cpu",), _post_cpu),
    (("ceilings",), _ceilings),
    (("intake",), _intake),
    (("e2e",), _e2e),
    (("scale-small", "scale-large"), _scale),
    (("workflows",), _workflows),
    (("backlog",), _backlog),
    (("intake", "backlog"), _profiles),
)
