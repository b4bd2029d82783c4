"""Intake's `POST /v1/referrals` at fixed arrival rates and at saturation, beside the bare ceiling.

Fixed rates are offered open loop by the Python generator, over as many processes as the rate
needs (`Context.generators_for`); saturation is driven by wrk (`bench.wrk`), which is not the
bottleneck. The bare endpoint is driven the same ways, and also by one Python generator process
closed loop, which measures that generator's own ceiling.

The referrals are social contacts: the same request path as an arrest diversion (validation, policy
decision, event store, status view, active-case claim, outbox, idempotency key, one transaction)
but with no deadline workflow behind it, so thousands of them do not leave minutes of workflow
starts behind to disturb later phases. Between phases the pipeline is let settle.
"""

from typing import Any

from bench.ceilings import BareApi
from bench.context import Context, load_summary
from bench.loadgen import LoadSpec, run_in_process
from bench.procs import CpuMeter
from bench.profiler import Recording, available
from bench.workload import auth_headers, body_template
from bench.wrk import saturate

PATHWAY = "social_contact"
PROFILED_RATE = 200.0


async def intake_phase(ctx: Context) -> dict[str, Any]:
    """Every fixed rate, then saturation; the API is profiled during the rate nearest 200 req/s."""
    config = ctx.config
    url, headers = ctx.intake("/v1/referrals"), auth_headers()
    profiled = min(config.rates, key=lambda rate: abs(rate - PROFILED_RATE)) if config.profile and available() else None
    figures: dict[str, Any] = {"pathway": PATHWAY, "rates": []}
    cpu = CpuMeter({"intake-api": ctx.stack.pid("intake-api")})
    for rate in config.rates:
        spec = LoadSpec(
            url=url,
            duration=config.phase_seconds,
            headers=headers,
            body=body_template(PATHWAY, ctx.tag(f"r{rate:g}")),
            rate=rate,
            concurrency=config.max_connections,
        )
        recording = None
        if rate == profiled:
            output = ctx.artifacts / f"intake-api-{rate:g}rps.txt"
            recording = await Recording(ctx.stack.pid("intake-api"), output).start()
        cpu.start()
        result = await ctx.load(spec)
        row = {
            **load_summary(result),
            "generators": ctx.generators_for(rate),
            **_cpu_per_request(cpu.stop()["intake-api"], result.sent),
        }
        if recording is not None:
            figures["profile"] = {"process": "intake-api", "rate": rate, **await recording.stop()}
        row["settle"] = await ctx.pipeline.settle(config.settle_timeout)
        figures["rates"].append(row)
    cpu.start()
    saturation = await saturate(
        url,
        config.phase_seconds,
        config.saturation_concurrency,
        tag=ctx.tag("wrk"),
        headers=headers,
        body=body_template(PATHWAY, ctx.tag("sat")),
    )
    figures["saturation"] = {**saturation, **_cpu_per_request(cpu.stop()["intake-api"], saturation["sent"])}
    figures["saturation"]["settle"] = await ctx.pipeline.settle(config.settle_timeout)
    return figures


async def bare_phase(ctx: Context) -> dict[str, Any]:
    """The same rates and saturation against a bare FastAPI endpoint under the same server settings."""
    config = ctx.config
    body = body_template(PATHWAY, ctx.tag("bare"))
    figures: dict[str, Any] = {"rates": []}
    with BareApi() as base:
        url = f"{base}/v1/referrals"
        spec = LoadSpec(url, config.phase_seconds, body=body, concurrency=config.saturation_concurrency)
        generator = load_summary(await run_in_process(spec))
        figures["python_generator"] = {"concurrency": config.saturation_concurrency, **generator}
        ctx.generator_ceiling = generator["achieved_rps"]
        for rate in config.rates:
            spec = LoadSpec(url, config.phase_seconds, body=body, rate=rate, concurrency=config.max_connections)
            row = load_summary(await ctx.load(spec))
            figures["rates"].append({**row, "generators": ctx.generators_for(rate)})
        figures["saturation"] = await saturate(
            url, config.phase_seconds, config.saturation_concurrency, tag=ctx.tag("bare-wrk"), body=body
        )
    return figures


def _cpu_per_request(seconds: float, requests: int) -> dict[str, float]:
    return {"api_cpu_s": seconds, "api_cpu_ms_per_request": round(1000 * seconds / requests, 2) if requests else 0.0}
