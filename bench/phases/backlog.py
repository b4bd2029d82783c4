"""Outbox relay throughput and consumer catch-up after a backlog of N events.

With intake's relay stopped, N social-contact referrals are written through intake's service layer
(outbox rows included, exactly as the API writes them). The relay is started again and the
unpublished rows are counted until none is left; meanwhile each consumer group's inbox is counted
until it holds a row for every referral of the backlog (assessment's and intake's for the referral
events, the directory's for the opened cases; the warrants consumer applies nothing to these events
and is not timed). Inbox rows rather than lag, because the embedded broker under-reports end offsets
(`bench.pipeline`). Rates count from the first row published, so the relay process's own start-up
(imports, connecting) is left out.
"""

import asyncio
import time
from typing import Any

from bench.context import Context
from bench.pipeline import APPLYING_GROUPS, applied, outbox_backlog
from bench.profiler import Recording, available
from bench.seed import seed_referrals

PROFILED = ("intake-relay", "assessment-consumer")


async def backlog_phase(ctx: Context) -> dict[str, Any]:
    """Stop the relay, write the backlog, start the relay, time relay and consumers."""
    config, stack = ctx.config, ctx.stack
    await ctx.pipeline.settle(config.settle_timeout)
    intake_db = stack.data_dir / "intake.db"
    stack.kill("intake-relay")
    seeded = await seed_referrals(
        ctx.database_url("intake"), config.backlog, pathway="social_contact", publish=True, tag=ctx.tag("backlog")
    )
    backlog = outbox_backlog(intake_db)
    goals = {group: _applied(ctx, group) + config.backlog for group in APPLYING_GROUPS}
    stack.start_again("intake-relay")
    profile = config.profile and available()
    recordings: list[Recording] = []
    first_published = relay_done = None
    caught_up: dict[str, float] = {}
    deadline = time.perf_counter() + config.settle_timeout + config.backlog / 20
    next_check = 0.0
    while time.perf_counter() < deadline and len(caught_up) < len(goals):
        now, left = time.perf_counter(), outbox_backlog(intake_db)
        if first_published is None and left < backlog:
            first_published = now
            if profile:  # from the first row on: the relay's start-up (imports) is not its hot path
                recordings = [
                    await Recording(stack.pid(name), ctx.artifacts / f"{name}-backlog.txt").start() for name in PROFILED
                ]
        if relay_done is None and left == 0:
            relay_done = now
        if first_published is not None and now >= next_check:
            next_check = now + 0.25
            for group, goal in goals.items():
                if group not in caught_up and _applied(ctx, group) >= goal:
                    caught_up[group] = now
        await asyncio.sleep(0.05)
    figures: dict[str, Any] = {
        "events": backlog,
        "seeding_per_s": seeded.per_second,
        "relay_rows_per_s": _rate(backlog, first_published, relay_done),
        "relay_seconds": _span(first_published, relay_done),
        "consumers": {
            group: {"referrals_per_s": _rate(backlog, first_published, at), "seconds": _span(first_published, at)}
            for group, at in caught_up.items()
        },
        "not_caught_up": sorted(set(goals) - set(caught_up)),
    }
    if recordings:
        figures["profiles"] = {name: await r.stop() for name, r in zip(PROFILED, recordings, strict=True)}
    figures["settle"] = await ctx.pipeline.settle(config.settle_timeout)
    return figures


def _applied(ctx: Context, group: str) -> int:
    return applied(ctx.stack.data_dir / f"{APPLYING_GROUPS[group]}.db", group)


def _span(start: float | None, end: float | None) -> float | None:
    return round(end - start, 2) if start is not None and end is not None else None


def _rate(count: int, start: float | None, end: float | None) -> float | None:
    span = _span(start, end)
    return round(count / span, 1) if span else None
