"""A service's roles as tasks of one process (`divert-<svc> all`): how they stop together."""

import asyncio
import logging

import httpx
import pytest
from fastapi import FastAPI

from divert_platform.all_roles import RoleFailed, api_role, run_roles
from divert_platform.embedded import free_port
from divert_platform.settings import ServiceSettings
from divert_platform.telemetry import RoleOfTask, _TraceContext, current_role


class Role:
    """A role that runs until stopped, noting what happened to it."""

    def __init__(self, *, fails_after: float | None = None, ends_after: float | None = None) -> None:
        self.fails_after = fails_after
        self.ends_after = ends_after
        self.finished_cleanly = False
        self.role_seen: str | None = None

    async def __call__(self, stop: asyncio.Event) -> None:
        self.role_seen = current_role.get()
        if self.fails_after is not None:
            await asyncio.sleep(self.fails_after)
            raise ConnectionError("lost the broker")
        if self.ends_after is not None:
            await asyncio.sleep(self.ends_after)
            return
        await stop.wait()
        await asyncio.sleep(0.01)  # its current unit of work
        self.finished_cleanly = True


async def test_a_stop_ends_every_role_after_its_current_work() -> None:
    roles = {"relay": Role(), "consumer": Role()}
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(0.05, stop.set)
    await run_roles(roles, stop)
    assert all(role.finished_cleanly for role in roles.values())
    assert {name: role.role_seen for name, role in roles.items()} == {"relay": "relay", "consumer": "consumer"}
    assert current_role.get() is None  # set in each role's task only


async def test_a_failing_role_stops_the_others_and_the_process_fails_naming_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    relay, consumer = Role(fails_after=0.05), Role()
    with pytest.raises(RoleFailed, match="relay"):
        await run_roles({"relay": relay, "consumer": consumer}, asyncio.Event())
    assert consumer.finished_cleanly  # it was asked to stop, not cancelled mid-work
    failure = next(record for record in caplog.records if record.levelno == logging.ERROR)
    assert "relay role failed" in failure.getMessage()
    assert failure.exc_info is not None


async def test_a_role_that_ends_on_its_own_is_a_failure_too() -> None:
    consumer = Role()
    with pytest.raises(RoleFailed, match="worker"):
        await run_roles({"worker": Role(ends_after=0.05), "consumer": consumer}, asyncio.Event())
    assert consumer.finished_cleanly


async def test_a_role_that_does_not_stop_is_cancelled_after_the_grace(caplog: pytest.LogCaptureFixture) -> None:
    cancelled = asyncio.Event()

    async def stuck(stop: asyncio.Event) -> None:  # e.g. still waiting for the broker at start-up
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    stop = asyncio.Event()
    stop.set()
    await asyncio.wait_for(run_roles({"relay": stuck, "consumer": Role()}, stop, grace=0.1), timeout=5)
    assert cancelled.is_set()
    assert any("relay role had not stopped" in record.getMessage() for record in caplog.records)


async def test_the_api_role_serves_until_stopped_and_then_drains() -> None:
    port = free_port()
    settings = ServiceSettings(service_name="test", host="127.0.0.1", port=port)
    stop = asyncio.Event()
    task = asyncio.create_task(run_roles({"api": api_role(f"{__name__}:hello_app", settings)}, stop))
    async with httpx.AsyncClient() as http:
        for _ in range(100):
            try:
                response = await http.get(f"http://127.0.0.1:{port}/hello")
                break
            except httpx.TransportError:
                await asyncio.sleep(0.05)
        assert response.json() == {"hello": "api"}
        stop.set()
        await asyncio.wait_for(task, timeout=5)
        with pytest.raises(httpx.TransportError):
            await http.get(f"http://127.0.0.1:{port}/hello")


async def test_the_api_role_fails_when_its_port_is_taken() -> None:
    port = free_port()
    holder = await asyncio.start_server(lambda r, w: None, "127.0.0.1", port)
    try:
        settings = ServiceSettings(service_name="test", host="127.0.0.1", port=port)
        with pytest.raises(RoleFailed, match="api"):
            await asyncio.wait_for(
                run_roles({"api": api_role(f"{__name__}:hello_app", settings), "relay": Role()}, asyncio.Event()),
                timeout=10,
            )
    finally:
        holder.close()


def hello_app() -> FastAPI:
    app = FastAPI()

    @app.get("/hello")
    async def hello() -> dict[str, str | None]:
        return {"hello": current_role.get()}

    return app


async def test_spans_and_log_lines_name_the_role_whose_task_made_them() -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exported = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(RoleOfTask())
    provider.add_span_processor(SimpleSpanProcessor(exported))
    stamp = _TraceContext("all")
    lines: dict[str, str] = {}

    async def role(stop: asyncio.Event) -> None:
        with provider.get_tracer("test").start_as_current_span("divert.referrals send"):
            record = logging.LogRecord("relay", logging.INFO, __file__, 1, "sent", None, None)
            stamp.filter(record)
            lines["in the task"] = record.role
        await stop.wait()

    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(0.05, stop.set)
    await run_roles({"relay": role}, stop)
    outside = logging.LogRecord("x", logging.INFO, __file__, 1, "idle", None, None)
    stamp.filter(outside)
    assert lines == {"in the task": "relay"} and outside.role == "all"
    assert [span.attributes["divert.role"] for span in exported.get_finished_spans()] == ["relay"]
