"""Intake's POST and GET latency with few and with many stored referrals.

The database is filled to the size first (`bench.seed.clone_referrals`: one referral through
intake's repository, the rest copies of its rows, thousands a second), then POSTs of new referrals
and GETs of stored ones (a random sample, each GET also writes its audit row) run at the same
fixed rate. Growth between the two sizes is compared on the median, the steadiest figure on a
shared machine; p99 is shown beside it.
"""

import random
from typing import Any

from bench.context import Context, load_summary
from bench.loadgen import LoadSpec, run_in_process
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

    def spec(method: str, tag: str, duration: float) -> LoadSpec:
        if method == "GET":
            url = ctx.intake("/v1/referrals/{id}")
            return LoadSpec(url=url, method="GET", ids=ids, duration=duration, headers=headers, rate=config.scale_rate)
        body = body_template("social_contact", ctx.tag(tag))
        url = ctx.intake("/v1/referrals")
        return LoadSpec(url=url, duration=duration, headers=headers, body=body, rate=config.scale_rate)

    await run_in_process(spec("GET", f"warm{label}", 2.0))  # warm the API's caches and connections
    stored = await count_referrals(database_url)
    post = load_summary(await run_in_process(spec("POST", f"scale{label}", config.scale_seconds)))
    settle = await ctx.pipeline.settle(config.settle_timeout)
    get = load_summary(await run_in_process(spec("GET", f"get{label}", config.scale_seconds)))
    return {
        "stored_referrals": stored,
        "seeding": seeding,
        "rate": config.scale_rate,
        "post": post,
        "get": get,
        "settle": settle,
    }
