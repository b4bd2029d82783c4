"""The load generator, run in its own process: `python -m bench.loadgen < spec.json > result.json`.

Open loop (a `rate` is given): request i is due at t0 + i/rate whatever happened to the earlier
ones, and its latency is measured from that due time, not from when it was actually sent. A server
(or this generator) falling behind therefore shows up as latency instead of quietly lowering the
offered load, the coordinated-omission trap of closed-loop tools. Requests wait for one of
`concurrency` keep-alive connections; that wait counts too. They wait on a semaphore, not in
httpx's connection pool, whose queue costs time quadratic in its length: thousands of requests
queued there kept this generator on a whole core doing nothing but bookkeeping.

Closed loop (no `rate`): `concurrency` workers each send the next request when the last one
answered. Used only to find saturation throughput, where the latency is that of a full queue.
"""

import asyncio
import json
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx

ROOT = Path(__file__).resolve().parent.parent
"""The repository root: where `python -m bench.loadgen` finds this package."""

SEQ = "__SEQ__"
"""Replaced in `LoadSpec.body` by each request's sequence number (unique RMS case numbers)."""


@dataclass
class LoadSpec:
    """One load phase: where, what, how fast and for how long."""

    url: str
    """May contain `{id}`, replaced by the ids in `ids` in turn (GET of existing referrals)."""
    duration: float
    method: str = "POST"
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    ids: list[str] = field(default_factory=list)
    rate: float | None = None
    concurrency: int = 256
    drain: float = 30.0
    """Seconds to wait for answers after the last request is due; later answers count as unfinished."""
    idempotency_keys: bool = True
    """Send a fresh `Idempotency-Key` with every POST, as an RMS does."""
    record: bool = False
    """Also return, per request, its due wall time, latency, status and `referral_id`."""


@dataclass
class LoadResult:
    """What one phase measured (latencies of 2xx answers only; the rest are counted by status)."""

    offered_rate: float | None
    duration: float
    sent: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    unfinished: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    throughput_rps: float = 0.0
    max_send_lag_ms: float = 0.0
    records: list[tuple[float, float, int, str | None]] = field(default_factory=list)


class _Driver:
    def __init__(self, spec: LoadSpec) -> None:
        self.spec = spec
        self.result = LoadResult(offered_rate=spec.rate, duration=spec.duration)
        limits = httpx.Limits(max_connections=spec.concurrency, max_keepalive_connections=spec.concurrency)
        self.client = httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(60.0, pool=None))
        self.connections = asyncio.Semaphore(spec.concurrency)
        # perf_counter, not the loop's clock: uvloop's has millisecond resolution
        self.wall_offset = time.time() - time.perf_counter()
        self.last_done = 0.0

    async def send(self, seq: int, due: float) -> None:
        spec, result = self.spec, self.result
        result.max_send_lag_ms = max(result.max_send_lag_ms, (time.perf_counter() - due) * 1000)
        url = spec.url.replace("{id}", spec.ids[seq % len(spec.ids)]) if spec.ids else spec.url
        headers = dict(spec.headers)
        content = None
        if spec.body is not None:
            content = spec.body.replace(SEQ, str(seq)).encode()
            headers["Content-Type"] = "application/json"
            if spec.idempotency_keys:
                headers["Idempotency-Key"] = str(uuid4())
        result.sent += 1
        try:
            async with self.connections:
                response = await self.client.request(spec.method, url, content=content, headers=headers)
            status = str(response.status_code)
        except httpx.HTTPError as error:
            response, status = None, type(error).__name__
        done = time.perf_counter()
        self.last_done = max(self.last_done, done)
        result.statuses[status] = result.statuses.get(status, 0) + 1
        latency_ms = (done - due) * 1000
        if response is not None and response.is_success:
            result.latencies_ms.append(latency_ms)
        if spec.record:
            ok = response is not None and response.is_success
            referral_id = response.json().get("referral_id") if ok and response is not None else None
            code = response.status_code if response is not None else 0
            result.records.append((due + self.wall_offset, latency_ms, code, referral_id))

    async def open_loop(self, rate: float) -> None:
        count = max(int(rate * self.spec.duration), 1)
        start = time.perf_counter() + 0.05
        tasks = set()
        for seq in range(count):
            due = start + seq / rate
            if (delay := due - time.perf_counter()) > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(self.send(seq, due))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await self._drain(tasks, start, self.spec.drain)

    async def closed_loop(self) -> None:
        start = time.perf_counter()
        end = start + self.spec.duration
        counter = iter(range(10**9))

        async def worker() -> None:
            while time.perf_counter() < end:
                await self.send(next(counter), time.perf_counter())

        workers = {asyncio.create_task(worker()) for _ in range(self.spec.concurrency)}
        await self._drain(workers, start, self.spec.duration + self.spec.drain)

    async def _drain(self, tasks: set[asyncio.Task[None]], start: float, within: float) -> None:
        """Wait up to `within` seconds for `tasks`; what is still running then is unfinished."""
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=within)
            for task in pending:
                task.cancel()
        ok = len(self.result.latencies_ms)
        self.result.unfinished = self.result.sent - sum(self.result.statuses.values())
        self.result.throughput_rps = round(ok / max(self.last_done - start, 1e-9), 2) if ok else 0.0


async def drive(spec: LoadSpec) -> LoadResult:
    """Run one phase and return what it measured."""
    driver = _Driver(spec)
    try:
        await (driver.open_loop(spec.rate) if spec.rate else driver.closed_loop())
    finally:
        await driver.client.aclose()
    return driver.result


def main() -> None:
    """Read a `LoadSpec` as JSON on stdin, write the `LoadResult` as JSON on stdout."""
    spec = LoadSpec(**json.load(sys.stdin))
    try:
        import uvloop  # the generator must stay cheaper than the server it drives

        result = uvloop.run(drive(spec))
    except ImportError:
        result = asyncio.run(drive(spec))
    json.dump(asdict(result), sys.stdout)


if __name__ == "__main__":
    main()


async def run_in_process(spec: LoadSpec) -> LoadResult:
    """Run one phase in a fresh generator process (never in the caller's event loop, which has
    its own work: consuming Kafka, profiling) and return its result."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.loadgen",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        cwd=ROOT,
    )
    out, _ = await process.communicate(json.dumps(asdict(spec)).encode())
    if process.returncode != 0:
        raise RuntimeError(f"the load generator failed with exit code {process.returncode}")
    data: dict[str, Any] = json.loads(out)
    data["records"] = [tuple(record) for record in data["records"]]
    return LoadResult(**data)


async def run_split(spec: LoadSpec, processes: int) -> LoadResult:
    """Run an open-loop phase over `processes` generator processes, each offering an equal share of
    the rate, and merge what they measured: a rate near one generator's own ceiling would measure
    the generator (`Context.generators_for`). Each process numbers its bodies apart (`g<i>-`)."""
    if processes <= 1 or spec.rate is None:
        return await run_in_process(spec)
    parts = [
        replace(spec, rate=spec.rate / processes, body=spec.body.replace(SEQ, f"g{i}-{SEQ}") if spec.body else None)
        for i in range(processes)
    ]
    results = await asyncio.gather(*(run_in_process(part) for part in parts))
    return LoadResult(
        offered_rate=spec.rate,
        duration=spec.duration,
        sent=sum(r.sent for r in results),
        statuses=dict(sum((Counter(r.statuses) for r in results), Counter())),
        unfinished=sum(r.unfinished for r in results),
        latencies_ms=[latency for r in results for latency in r.latencies_ms],
        throughput_rps=round(sum(r.throughput_rps for r in results), 2),
        max_send_lag_ms=max(r.max_send_lag_ms for r in results),
        records=sorted((record for r in results for record in r.records), key=lambda record: record[0]),
    )
