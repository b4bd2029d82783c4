"""Outbox relay throughput and consumer catch-up after a backlog of N events.

With intake's relay stopped, N social-contact referrals are written through intake's service layer
(outbox rows included, exactly as the API writes them). The relay is started again and the
unpublished rows are counted until none is left; meanwhile each consumer group's inbox is counted
until it holds a row for every referral of the backlog (assessment's and intake's for the referral
events, the directory's for the opened cases; the warrants consumer applies nothing to these events
and is not timed). Inbox rows rather than lag, because the embedded broker under-reports end offsets
(`bench.pipeline`). Rates count from the relay's first send, the earliest producer timestamp of
the records it published, so the relay process's own start-up (imports, connecting) is left out
but its first batch is not (the relay marks a whole batch published at once).
"""

import asyncio
import contextlib
import time
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.context import Context
from bench.pipeline import APPLYING_GROUPS, applied, outbox_backlog
from bench.profiler import Recording, available
from bench.seed import seed_referrals
from divert_contracts.topics import REFERRALS

PROFILED = ("intake-relay", "assessment-consumer")


async def backlog_phase(ctx: Context) -> dict[str, Any]:
    """Stop the relay, write the backlog, start the relay, time relay and consumers."""
    config, stack = ctx.config, ctx.stack
    await ctx.pipeline.settle(config.settle_timeout)
    stack.kill("intake-relay")
    seeded = await seed_referrals(
        ctx.database_url("intake"), config.backlog, pathway="social_contact", publish=True, tag=ctx.tag("backlog")
    )
    backlog = await outbox_backlog(ctx.databases, "intake")
    goals = {group: await applied(ctx.databases, group) + config.backlog for group in APPLYING_GROUPS}
    ends = await _end_offsets(stack.kafka_bootstrap)
    restarted = time.time()
    stack.start_again("intake-relay")
    profile = config.profile and available()
    recordings: list[Recording] = []
    publishing = False
    relay_done = None
    caught_up: dict[str, float] = {}
    deadline = time.time() + config.settle_timeout + config.backlog / 20
    next_check = 0.0
    while time.time() < deadline and len(caught_up) < len(goals):
        now, left = time.time(), await outbox_backlog(ctx.databases, "intake")
        if not publishing and left < backlog:
            publishing = True
            if profile:  # from the first batch on: the relay's start-up (imports) is not its hot path
                recordings = [
                    await Recording(stack.pid(name), ctx.artifacts / f"{name}-backlog.txt").start() for name in PROFILED
                ]
        if relay_done is None and left == 0:
            relay_done = now
        if publishing and now >= next_check:
            next_check = now + 0.25
            for group, goal in goals.items():
                if group not in caught_up and await applied(ctx.databases, group) >= goal:
                    caught_up[group] = now
        await asyncio.sleep(0.05)
    first_sent = await _first_sent(stack.kafka_bootstrap, ends, restarted) if publishing else None
    figures: dict[str, Any] = {
        "events": backlog,
        "seeding_per_s": seeded.per_second,
        "relay_rows_per_s": _rate(backlog, first_sent, relay_done),
        "relay_seconds": _span(first_sent, relay_done),
        "consumers": {
            group: {"referrals_per_s": _rate(backlog, first_sent, at), "seconds": _span(first_sent, at)}
            for group, at in caught_up.items()
        },
        "not_caught_up": sorted(set(goals) - set(caught_up)),
    }
    if recordings:
        figures["profiles"] = {name: await r.stop() for name, r in zip(PROFILED, recordings, strict=True)}
    figures["settle"] = await ctx.pipeline.settle(config.settle_timeout)
    return figures


async def _end_offsets(bootstrap: str) -> dict[TopicPartition, int]:
    """Where each partition of `divert.referrals` ends before the relay publishes the backlog."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(REFERRALS.name, p) for p in range(REFERRALS.partitions)]
        return dict(await consumer.end_offsets(partitions))
    finally:
        await consumer.stop()


async def _first_sent(bootstrap: str, ends: dict[TopicPartition, int], since: float) -> float | None:
    """The earliest producer timestamp (epoch seconds) of a record sent after `since`, reading
    each partition from where it ended before; None when there is none."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(list(ends))
        firsts = []
        for partition, offset in ends.items():
            consumer.seek(partition, offset)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(10):
                    firsts.append(await _first_after(consumer, partition, since))
        return min((first for first in firsts if first is not None), default=None)
    finally:
        await consumer.stop()


async def _first_after(consumer: AIOKafkaConsumer, partition: TopicPartition, since: float) -> float | None:
    # An under-reported end offset only means reading some older records first.
    while batch := (await consumer.getmany(partition, timeout_ms=1000)).get(partition, []):
        sent = [record.timestamp / 1000 for record in batch if record.timestamp / 1000 >= since]
        if sent:
            return min(sent)
    return None


def _span(start: float | None, end: float | None) -> float | None:
    return round(end - start, 2) if start is not None and end is not None else None


def _rate(count: int, start: float | None, end: float | None) -> float | None:
    span = _span(start, end)
    return round(count / span, 1) if span else None
