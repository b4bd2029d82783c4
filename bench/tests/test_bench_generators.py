"""The load generators that drive the stack: wrk at saturation and the Python generator split over
processes at high fixed rates. These check what they send and count, against a real server in this
process; no timing of Divert is asserted (that is `make bench`'s job)."""

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio
import uvicorn
from fastapi import FastAPI, Request

from bench.loadgen import SEQ, LoadSpec, run_split
from bench.wrk import ensure_wrk, saturate
from divert_platform.embedded import free_port


class Recorder:
    """A server that answers 201 and keeps each request's case number and `Idempotency-Key`."""

    def __init__(self) -> None:
        self.case_numbers: list[str] = []
        self.keys: list[str] = []
        self.purposes: set[str] = set()
        self.app = FastAPI()
        self.app.post("/v1/referrals", status_code=201)(self.accept)

    async def accept(self, request: Request) -> dict[str, Any]:
        body = json.loads(await request.body())
        self.case_numbers.append(body["rms"]["case_number"])
        self.keys.append(request.headers.get("idempotency-key", ""))
        self.purposes.add(request.headers.get("x-divert-purpose", ""))
        return {}


@pytest_asyncio.fixture
async def recorder() -> AsyncIterator[tuple[Recorder, str]]:
    recorder, port = Recorder(), free_port()
    config = uvicorn.Config(recorder.app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        await asyncio.sleep(0.01)
    yield recorder, f"http://127.0.0.1:{port}/v1/referrals"
    server.should_exit = True
    await serving


BODY = json.dumps({"rms": {"case_number": f"T-{SEQ}"}})


async def test_wrk_sends_every_post_with_its_own_case_number_and_key_and_counts_them(
    recorder: tuple[Recorder, str],
) -> None:
    ensure_wrk()  # installs Debian's wrk when missing and allowed; otherwise fails saying how
    server, url = recorder
    figures = await saturate(url, 1, 4, tag="run1", headers={"X-Divert-Purpose": "benchmark"}, body=BODY)
    assert figures["generator"] == "wrk" and figures["errors"] == {}
    # wrk counts the answers it read; a request cut off at the end may have reached the server
    assert 0 < figures["sent"] <= len(server.case_numbers) <= figures["sent"] + 4
    assert len(set(server.case_numbers)) == len(server.case_numbers)
    assert all(number.startswith("T-run1-t") for number in server.case_numbers)
    assert len(set(server.keys)) == len(server.keys) and all(key.startswith("run1-t") for key in server.keys)
    assert server.purposes == {"benchmark"}
    assert 0 < figures["p50_ms"] <= figures["p99_ms"] <= figures["max_ms"]


async def test_a_rate_split_over_processes_offers_the_whole_rate_with_distinct_case_numbers(
    recorder: tuple[Recorder, str],
) -> None:
    server, url = recorder
    spec = LoadSpec(url=url, duration=1.0, rate=60.0, body=BODY, drain=10)
    result = await run_split(spec, 3)
    assert result.offered_rate == 60.0 and result.sent == 60 and result.statuses == {"201": 60}
    assert len(result.latencies_ms) == 60 and result.unfinished == 0
    assert len(set(server.case_numbers)) == 60
    assert {number.split("-")[1] for number in server.case_numbers} == {"g0", "g1", "g2"}
    assert len(set(server.keys)) == 60
