"""Intake's POST and GET latency with few and with many stored referrals.

The database is filled to the size first (`bench.seed.clone_referrals`: one referral through
intake's repository, the rest copies of its rows, thousands a second), then POSTs of new referrals
and GETs of stored ones (a random sample, each GET also writes its audit row) run at the same
fixed rate, at each of the scale rates: 100 req/s, the rate of the POST p99 target, and a lower
one the API can keep up with on a small machine (above its capacity latency measures the queue,
not the database). Growth between the two sizes is compared on the median, the steadiest figure
on a shared machine; p99 is shown beside it.
"""

import random
from typing import Any

from bench.context import Context, load_summary
from bench.loadgen import LoadSpec
from bench.seed import clone_referrals, count_referrals
from bench.workload import auth_headers, body_template

SAMPLE = 2000


async def scale_phase(ctx: Context, size: int, label: str) -> dict[str, Any]:
    """Fill intake's database to `size` referrals, then measure POST and GET at the scale rate."""
    config = ctx.config
    database_url = ctx.database_url("intake")
    before = await count_referrals(database_url)
    seeding: dict[str, Any] = {"added": 0}
    if before < size:
        seeded = await clone_referrals(database_url, size - before, tag=ctx.tag(f"seed{label}"))
        ctx.seeded_ids += seeded.ids
        seeding = {"added": len(seeded.ids), "seconds": round(seeded.seconds, 1), "per_s": seeded.per_second}
    await ctx.pipeline.settle(config.settle_timeout)
    headers = auth_headers()
    ids = random.sample(ctx.seeded_ids, min(SAMPLE, len(ctx.seeded_ids)))

    def spec(method: str, tag: str, duration: float, rate: float) -> LoadSpec:
        if method == "GET":
            url = ctx.intake("/v1/referrals/{id}")
            return LoadSpec(url=url, method="GET", ids=ids, duration=duration, headers=headers, rate=rate)
        body = body_template("social_contact", ctx.tag(tag))
        url = ctx.intake("/v1/referrals")
        return LoadSpec(url=url, duration=duration, headers=headers, body=body, rate=rate)

    await ctx.load(spec("GET", f"warm{label}", 2.0, 50.0))  # warm the API's caches and connections
    stored = await count_referrals(database_url)
    by_rate = {}
    for rate in config.scale_rates:
        tag = f"{label}{rate:g}"
        post = load_summary(await ctx.load(spec("POST", f"scale{tag}", config.scale_seconds, rate)))
        settle = await ctx.pipeline.settle(config.settle_timeout)
        get = load_summary(await ctx.load(spec("GET", f"get{tag}", config.scale_seconds, rate)))
        by_rate[f"{rate:g}"] = {"post": post, "get": get, "settle": settle}
        await ctx.pipeline.settle(config.settle_timeout)
    return {"stored_referrals": stored, "seeding": seeding, "rates": by_rate}
