"""The ceilings phase: raw Kafka, raw Temporal and the bare HTTP endpoint (see `bench.ceilings`)."""

from typing import Any

from bench.ceilings import kafka_ceiling, temporal_ceiling
from bench.context import Context
from bench.phases.intake import bare_phase


async def ceilings_phase(ctx: Context) -> dict[str, Any]:
    """All three ceilings, one after the other, on the idle stack."""
    config, stack = ctx.config, ctx.stack
    return {
        "kafka": await kafka_ceiling(stack.kafka_bootstrap, config.kafka_messages),
        "temporal": await temporal_ceiling(stack.temporal_address, config.temporal_starts, config.temporal_concurrency),
        "http": await bare_phase(ctx),
    }
