"""End to end: from an RMS's POST to the case opened in assessment and the deadline running.

Each referral's clock starts at the POST's *scheduled* time (open loop). The case is "opened" when
its `case.opened` event reaches a plain consumer of `divert.cases` (matched by key, the referral
id); the deadline is "running" at the workflow's start time as Temporal's visibility records it.
All on one machine, so one wall clock serves for both.

Two runs: a sustained rate for latency, then a burst well above what the workflow starts can
follow, whose drain gives the sustained end-to-end throughput. During the burst, until the pipeline
has settled, the CPU time of every process of the stack (broker and Temporal included, the load
generator not) is summed: what one arrest diversion costs the whole machine.
"""

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from temporalio.client import Client

from bench.context import Context, load_summary
from bench.loadgen import LoadResult, LoadSpec
from bench.procs import CpuMeter
from bench.stats import summarize
from bench.workload import auth_headers, body_template
from divert_contracts.topics import CASES

CASE_OPENED = b"org.divert.case.opened.v1"


class CaseWatcher:
    """Notes when each `case.opened` arrives on `divert.cases`, by referral id (the record key)."""

    def __init__(self, bootstrap: str) -> None:
        self._consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        self.opened: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> "CaseWatcher":
        await self._consumer.start()
        partitions = [TopicPartition(CASES.name, p) for p in range(CASES.partitions)]
        self._consumer.assign(partitions)
        await self._consumer.seek_to_end()
        for partition in partitions:
            await self._consumer.position(partition)  # resolve "end" now, before the load starts
        self._task = asyncio.create_task(self._watch())
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        await self._consumer.stop()

    async def _watch(self) -> None:
        while True:
            batches = await self._consumer.getmany(timeout_ms=200)
            now = time.time()
            for records in batches.values():
                for record in records:
                    if dict(record.headers or ()).get("ce_type") == CASE_OPENED and record.key:
                        self.opened.setdefault(record.key.decode(), now)


async def workflow_starts(client: Client, since: datetime) -> dict[str, float]:
    """Start times (epoch seconds) of the deadline workflows started since `since`, by referral id."""
    query = f"WorkflowType = 'ReferralDeadlineWorkflow' AND StartTime >= '{since.isoformat().replace('+00:00', 'Z')}'"
    return {
        execution.id.removeprefix("referral-deadline-"): execution.start_time.timestamp()
        async for execution in client.list_workflows(query)
    }


async def journey(ctx: Context, client: Client, watcher: CaseWatcher, spec: LoadSpec) -> dict[str, Any]:
    """Send `spec`'s referrals and follow each to its case and its running workflow."""
    since = datetime.now(UTC)
    result: LoadResult = await ctx.load(spec)
    due = {rid: at for at, _, status, rid in result.records if rid and status == 201}
    deadline = time.monotonic() + ctx.config.e2e_timeout
    started: dict[str, float] = {}
    while time.monotonic() < deadline:
        started = await workflow_starts(client, since)
        if all(rid in started and rid in watcher.opened for rid in due):
            break
        await asyncio.sleep(1.0)
    case_ms = [(watcher.opened[rid] - at) * 1000 for rid, at in due.items() if rid in watcher.opened]
    workflow_ms = [(started[rid] - at) * 1000 for rid, at in due.items() if rid in started]
    figures: dict[str, Any] = {
        "post": load_summary(result),
        "referrals": len(due),
        "case_opened": summarize(case_ms),
        "workflow_running": summarize(workflow_ms),
    }
    if due and started:
        first = min(due.values())
        done = [started[rid] for rid in due if rid in started]
        figures["workflow_throughput_per_s"] = round(len(done) / max(max(done) - first, 1e-9), 1)
        opened = [watcher.opened[rid] for rid in due if rid in watcher.opened]
        figures["case_throughput_per_s"] = round(len(opened) / max(max(opened) - first, 1e-9), 1) if opened else None
    return figures


async def e2e_phase(ctx: Context) -> dict[str, Any]:
    """The sustained-rate journey, then the burst."""
    config = ctx.config
    client = await Client.connect(ctx.stack.temporal_address)
    url, headers = ctx.intake("/v1/referrals"), auth_headers()

    def spec(rate: float, duration: float, tag: str) -> LoadSpec:
        body = body_template("arrest_diversion", ctx.tag(tag))
        return LoadSpec(url=url, duration=duration, headers=headers, body=body, rate=rate, record=True)

    async with CaseWatcher(ctx.stack.kafka_bootstrap) as watcher:
        sustained = await journey(ctx, client, watcher, spec(config.e2e_rate, config.e2e_seconds, "e2e"))
        sustained["rate"] = config.e2e_rate
        await ctx.pipeline.settle(config.settle_timeout)
        burst_seconds = config.e2e_burst / config.e2e_burst_rate
        cpu = CpuMeter({name: process.pid for name, process in ctx.stack.processes}).start()
        burst = await journey(ctx, client, watcher, spec(config.e2e_burst_rate, burst_seconds, "burst"))
        burst["rate"] = config.e2e_burst_rate
    burst["settle"] = await ctx.pipeline.settle(config.settle_timeout)
    used = cpu.stop()
    burst["stack_cpu_s"] = dict(sorted(used.items(), key=lambda item: -item[1]))
    if burst["referrals"]:
        burst["stack_cpu_ms_per_referral"] = round(1000 * sum(used.values()) / burst["referrals"], 1)
    return {"sustained": sustained, "burst": burst}
