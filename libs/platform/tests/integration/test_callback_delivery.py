"""Callback delivery against a real receiver, over real SQLite and PostgreSQL.

The receiver is a partner's endpoint as a partner would write it: an HTTP server (uvicorn, in the
test process, on a free port) that verifies every request with the Standard Webhooks reference
library and records what it got. Tests make it go down, fail, hang, answer 410 Gone or redirect,
and drive `CallbackDelivery.deliver_due()` until the rows say what they expect, then check both
sides: what the receiver verified, and the messages, attempts, endpoints and endpoint history.

A receiver may see one message more than once (an attempt that timed out after it did the work,
a redelivery); it always carries the same `webhook-id`, which is what receivers dedupe on.
"""

import asyncio
import contextlib
import json
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any
from uuid import uuid4

import httpx
import pytest
import pytest_asyncio
import uvicorn
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from divert_platform.callbacks import delivery as delivery_module
from divert_platform.callbacks import registry, targets
from divert_platform.callbacks.delivery import RETRY_DELAYS, CallbackDelivery, DeliveryPolicy
from divert_platform.callbacks.outbox import CallbackOutbox, StatusChange
from divert_platform.callbacks.schema import callback_messages, metadata
from divert_platform.callbacks.secret_box import DEVELOPMENT_CALLBACK_KEY, SecretBox
from divert_platform.clock import utcnow
from divert_platform.db import create_engine, create_session_factory
from divert_platform.embedded import free_port
from divert_platform.testing import metric_value

BOX = SecretBox([DEVELOPMENT_CALLBACK_KEY])
ALL_TYPES = ("referral.accepted", "referral.lapsed", "referral.closed")
FAST = (timedelta(milliseconds=50),) * 7
"""A retry schedule of the default's length, short enough to run through in a test."""
SLOW_SECONDS = 30.0
"""How long a slow receiver holds a request unless released: far beyond any policy timeout here."""

Sessions = async_sessionmaker[AsyncSession]


# --- the receiver ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    """One request as the receiver got it, and whether a secret it trusts verified it."""

    path: str
    webhook_id: str
    verified: bool
    body: bytes
    headers: dict[str, str]

    def verifies_with(self, secret: str) -> bool:
        """Whether `secret` alone verifies this request (`standardwebhooks`, as a receiver would)."""
        try:
            Webhook(secret).verify(self.body, self.headers)
        except WebhookVerificationError:
            return False
        return True

    @property
    def payload(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """A partner's endpoint: a real HTTP server whose behaviour the test switches.

    `behaviour` is what it does by default: `ok` (200), `error` (500), `gone` (410), `redirect`
    (`redirect_status` to `redirect_to`) or `slow` (holds the request for `SLOW_SECONDS` unless
    released by `fast()` or `stop()`, then 200). `plan(...)` queues one-off behaviours for the
    next requests, or for the next requests of one `webhook-id`. Down is simply not started, or
    stopped. Every request is recorded when it arrives, before the behaviour plays out.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.behaviour = "ok"
        self.redirect_status = 302
        self.redirect_to = ""
        self.received: list[Received] = []
        self._secrets: dict[str, list[str]] = {}
        self._planned: list[str] = []
        self._planned_for: dict[str, list[str]] = {}
        self._release = asyncio.Event()
        self._server: uvicorn.Server | None = None
        self._serving: asyncio.Task[None] | None = None

    def url(self, path: str = "/hooks") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def trust(self, secret: str, path: str = "/hooks") -> None:
        """Verify requests to `path` with `secret` too (a request verifies when any trusted secret does)."""
        self._secrets.setdefault(path, []).append(secret)

    def plan(self, *behaviours: str, webhook_id: str | None = None) -> None:
        """Play `behaviours` for the next requests (of `webhook_id` only, when given), then `behaviour`."""
        (self._planned if webhook_id is None else self._planned_for.setdefault(webhook_id, [])).extend(behaviours)

    def fast(self) -> None:
        """Answer 200 from now on and let held requests go."""
        self.behaviour = "ok"
        self._release.set()

    def ids(self, path: str = "/hooks") -> list[str]:
        return [got.webhook_id for got in self.received if got.path == path]

    async def start(self) -> None:
        # Bound here rather than by uvicorn, which exits the process when it cannot bind.
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        self._release = asyncio.Event()
        config = uvicorn.Config(
            self._app, interface="asgi3", log_config=None, access_log=False, lifespan="off", timeout_graceful_shutdown=5
        )
        self._server = uvicorn.Server(config)
        self._serving = asyncio.create_task(self._server.serve(sockets=[listener]))
        while not self._server.started:  # uvicorn offers no event to wait on
            if self._serving.done():
                await self._serving  # raises what stopped it
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        """Down: connections are refused from now on."""
        self._release.set()
        if self._server is not None and self._serving is not None:
            self._server.should_exit = True
            await self._serving
        self._server = self._serving = None

    async def _app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
        path, webhook_id = scope["path"], headers.get("webhook-id", "")
        verified = any(_verifies(secret, body, headers) for secret in self._secrets.get(path, []))
        self.received.append(Received(path, webhook_id, verified, body, headers))
        status, extra = 200, []
        behaviour = self._next(webhook_id)
        if behaviour == "slow":
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._release.wait(), SLOW_SECONDS)
        elif behaviour == "error":
            status = 500
        elif behaviour == "gone":
            status = 410
        elif behaviour == "redirect":
            status, extra = self.redirect_status, [(b"location", self.redirect_to.encode())]
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-length", b"0"), *extra]})
        await send({"type": "http.response.body", "body": b""})

    def _next(self, webhook_id: str) -> str:
        for queue in (self._planned_for.get(webhook_id), self._planned):
            if queue:
                return queue.pop(0)
        return self.behaviour


def _verifies(secret: str, body: bytes, headers: dict[str, str]) -> bool:
    try:
        Webhook(secret).verify(body, headers)
    except WebhookVerificationError:
        return False
    return True


class Clock:
    """The delivery's clock: real time moved on by `shift`, or `frozen`.

    Receivers check `webhook-timestamp` against their own (real) clock with five minutes'
    tolerance, so a shifted clock stays within minutes when a receiver has to verify; the frozen
    one runs the day-long schedule against a receiver that is down.
    """

    def __init__(self, frozen: datetime | None = None) -> None:
        self.shift = timedelta(0)
        self.frozen = frozen

    def __call__(self) -> datetime:
        return self.frozen if self.frozen is not None else utcnow() + self.shift


# --- fixtures and helpers ------------------------------------------------------------------------


@pytest_asyncio.fixture
async def callback_db(database_url: str) -> AsyncIterator[tuple[str, Sessions]]:
    """A fresh database (SQLite file, or a PostgreSQL database of its own) with the callback tables."""
    engine = create_engine(database_url)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield database_url, create_session_factory(engine)
    await engine.dispose()


@pytest.fixture
def sessions(callback_db: tuple[str, Sessions]) -> Sessions:
    return callback_db[1]


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A running receiver (stop it for a test that needs it down)."""
    partner = Receiver()
    await partner.start()
    yield partner
    await partner.stop()


@pytest_asyncio.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """The HTTP client as the relay makes it."""
    async with httpx.AsyncClient(follow_redirects=False) as http:
        yield http


def _delivery(
    sessions: Sessions,
    client: httpx.AsyncClient,
    *,
    development: bool = True,
    timeout: float = 10.0,
    delays: Sequence[timedelta] = FAST,
    clock: Callable[[], datetime] = utcnow,
    batch: int = 100,
    concurrency: int = 16,
) -> CallbackDelivery:
    policy = DeliveryPolicy(
        development=development,
        timeout_seconds=timeout,
        retry_delays=tuple(delays),
        batch=batch,
        concurrency=concurrency,
    )
    return CallbackDelivery(sessions, client, BOX, policy, clock=clock)


async def _register(
    sessions: Sessions,
    url: str,
    *,
    audience: registry.Audience = "agency",
    agency: str | None = "PD1",
    jurisdiction: str = "J1",
    event_types: Sequence[str] = ALL_TYPES,
    now: datetime | None = None,
) -> registry.Registered:
    async with sessions() as session, session.begin():
        return await registry.register(
            session,
            BOX,
            audience=audience,
            agency=agency,
            jurisdiction=jurisdiction,
            url=url,
            event_types=event_types,
            description="RMS test receiver",
            actor="admin@pd1",
            now=now or utcnow(),
        )


def _change(
    subject: str = "ref-1",
    sequence: int = 1,
    *,
    event_type: str = "referral.accepted",
    agency: str | None = "PD1",
    jurisdiction: str = "J1",
) -> StatusChange:
    return StatusChange(
        event_id=str(uuid4()),
        event_type=event_type,
        subject=subject,
        sequence=sequence,
        jurisdiction=jurisdiction,
        agency=agency,
        occurred_at=utcnow(),
        data={"referral_id": subject, "sequence": sequence, "note": "né à Zürich"},
    )


async def _add(sessions: Sessions, change: StatusChange, now: datetime | None = None) -> int:
    async with sessions() as session, session.begin():
        return await CallbackOutbox(session).add(change, now or utcnow())


async def _message_id(sessions: Sessions, endpoint_id: str, change: StatusChange) -> str:
    async with sessions() as session:
        found = await session.scalar(
            select(callback_messages.c.message_id).where(
                callback_messages.c.endpoint_id == endpoint_id, callback_messages.c.event_id == change.event_id
            )
        )
    assert found is not None, "no message was written for the change"
    return str(found)


async def _message(sessions: Sessions, message_id: str) -> dict[str, Any]:
    async with sessions() as session:
        row = await registry.message(session, message_id)
    assert row is not None
    return row


async def _attempts(sessions: Sessions, message_id: str) -> list[dict[str, Any]]:
    async with sessions() as session:
        return await registry.attempts(session, message_id)


async def _endpoint(sessions: Sessions, endpoint_id: str) -> dict[str, Any]:
    async with sessions() as session:
        row = await registry.endpoint(session, endpoint_id)
    assert row is not None
    return row


async def _history(sessions: Sessions, endpoint_id: str) -> list[dict[str, Any]]:
    async with sessions() as session:
        return await registry.history(session, endpoint_id)


def _status_is(sessions: Sessions, message_id: str, status: str) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        found = (await _message(sessions, message_id))["status"]
        assert found == status or found == "pending", f"the message is {found}, not {status}"
        return found == status

    return check


async def _deliver_until(
    condition: Callable[[], Awaitable[bool]], *deliveries: CallbackDelivery, deadline: float = 60.0
) -> None:
    """Run delivery passes until `condition` holds (a generous deadline: no speed is asserted)."""
    give_up = time.monotonic() + deadline
    while not await condition():
        if time.monotonic() > give_up:
            raise AssertionError(f"not reached within {deadline:g}s")
        await asyncio.gather(*(delivery.deliver_due() for delivery in deliveries))
        await asyncio.sleep(0.02)


async def _attempt_count(sessions: Sessions, message_id: str, outcome: str, at_least: int) -> bool:
    return sum(a["outcome"] == outcome for a in await _attempts(sessions, message_id)) >= at_least


# --- the cases -----------------------------------------------------------------------------------


async def test_a_message_is_delivered_signed_with_its_payload_as_the_body(
    sessions: Sessions, receiver: Receiver, client: httpx.AsyncClient, metric_reader: InMemoryMetricReader
) -> None:
    delivered_before = metric_value(metric_reader, "divert.callback.attempts", outcome="delivered")
    lag_before = metric_value(metric_reader, "divert.callback.delivery.lag")
    endpoint = await _register(sessions, receiver.url())
    receiver.trust(endpoint.secret)
    change = _change()
    assert await _add(sessions, change) == 1
    message_id = await _message_id(sessions, endpoint.endpoint["endpoint_id"], change)

    await _deliver_until(_status_is(sessions, message_id, "delivered"), _delivery(sessions, client))

    [got] = receiver.received
    assert got.verified and got.webhook_id == message_id
    assert got.payload == change.payload() == (await _message(sessions, message_id))["payload"]
    assert got.payload["data"]["note"] == "né à Zürich"
    assert {"webhook-id", "webhook-timestamp", "webhook-signature"} <= got.headers.keys()
    assert got.headers["content-type"] == "application/json"
    assert len(got.headers["webhook-signature"].split(" ")) == 1
    [attempt] = await _attempts(sessions, message_id)
    assert (attempt["outcome"], attempt["status_code"], attempt["error"]) == ("delivered", 200, None)
    message = await _message(sessions, message_id)
    assert message["attempts"] == 1 and message["delivered_at"] is not None and message["next_attempt_at"] is None
    row = await _endpoint(sessions, endpoint.endpoint["endpoint_id"])
    assert row["last_success_at"] is not None and row["failing_since"] is None and row["status"] == "active"
    assert endpoint.secret not in json.dumps(row["secrets"])  # stored sealed only
    assert metric_value(metric_reader, "divert.callback.attempts", outcome="delivered") == delivered_before + 1
    assert metric_value(metric_reader, "divert.callback.delivery.lag") == lag_before + 1


async def test_a_receiver_that_was_down_gets_the_message_later_with_the_same_id(
    sessions: Sessions, receiver: Receiver, client: httpx.AsyncClient
) -> None:
    await receiver.stop()
    endpoint = await _register(sessions, receiver.url())
    endpoint_id = endpoint.endpoint["endpoint_id"]
    receiver.trust(endpoint.secret)
    change = _change()
    await _add(sessions, change)
    message_id = await _message_id(sessions, endpoint_id, change)
    delivery = _delivery(sessions, client)

    await _deliver_until(lambda: _attempt_count(sessions, message_id, "unreachable", 2), delivery)
    assert receiver.received == []
    assert (await _message(sessions, message_id))["status"] == "pending"
    assert (await _endpoint(sessions, endpoint_id))["failing_since"] is not None

    await receiver.start()
    await _deliver_until(_status_is(sessions, message_id, "delivered"), delivery)

    [got] = receiver.received
    assert got.verified and got.webhook_id == message_id and got.payload == change.payload()
    attempts = await _attempts(sessions, message_id)
    assert [a["outcome"] for a in attempts[:-1]] == ["unreachable"] * (len(attempts) - 1)
    assert attempts[-1]["outcome"] == "delivered" and len(attempts) >= 3
    assert all(a["error"] for a in attempts[:-1])
    assert (await _message(sessions, message_id))["attempts"] == len(attempts)
    row = await _endpoint(sessions, endpoint_id)
    assert row["failing_since"] is None and row["last_success_at"] is not None


async def test_a_server_error_is_retried_until_the_receiver_takes_the_message(
    sessions: Sessions, receiver: Receiver, client: httpx.AsyncClient
) -> None:
    endpoint = await _register(sessions, receiver.url())
    receiver.trust(endpoint.secret)
    receiver.plan("error", "error")
    change = _change()
    await _add(sessions, change)
    message_id = await _message_id(sessions, endpoint.endpoint["endpoint_id"], change)

    await _deliver_until(_status_is(sessions, message_id, "delivered"), _delivery(sessions, client))

    assert receiver.ids() == [message_id] * 3
    assert all(got.verified for got in receiver.received)
    attempts = await _attempts(sessions, message_id)
    assert [(a["outcome"], a["status_code"]) for a in attempts] == [
        ("rejected", 500),
        ("rejected", 500),
        ("delivered", 200),
    ]
    assert [a["attempted_at"] for a in attempts] == sorted(a["attempted_at"] for a in attempts)


async def test_a_slow_receiver_times_out_and_gets_the_same_id_again(
    sessions: Sessions, receiver: Receiver, client: httpx.AsyncClient
) -> None:
    """The receiver saw the id twice (or more): receivers dedupe by `webhook-id`."""
    endpoint = await _register(sessions, receiver.url())
    receiver.trust(endpoint.secret)
    receiver.behaviour = "slow"
    change = _change()
    await _add(sessions, change)
    message_id = await _message_id(sessions, endpoint.endpoint["endpoint_id"], change)
    delivery = _delivery(sessions, client, timeout=0.5)

    await _deliver_until(lambda: _attempt_count(sessions, message_id, "timeout", 1), delivery)
    assert (await _message(sessions, message_id))["status"] == "pending"
    receiver.fast()
    await _deliver_until(_status_is(sessions, message_id, "delivered"), delivery)

    assert len(receiver.received) >= 2
    assert set(receiver.ids()) == {message_id}
    assert all(got.verified and got.payload == change.payload() for got in receiver.received)
    attempts = await _attempts(sessions, message_id)
    assert attempts[0]["outcome"] == "timeout" and attempts[0]["status_code"] is None
    assert "0.5s" in attempts[0]["error"]
    assert attempts[-1]["outcome"] == "delivered"


async def test_the_policys_timeout_governs_an_attempt_not_the_clients_default(
    sessions: Sessions, receiver: Receiver
) -> None:
    """A receiver answering within `timeout_seconds` is delivered to, whatever the client's default."""
    endpoint = await _register(sessions, receiver.url())
    receiver.trust(endpoint.secret)
    receiver.behaviour = "slow"
    change = _change()
    await _add(sessions, change)
    message_id = await _message_id(sessions, endpoint.endpoint["endpoint_id"], change)

    async def answer_soon() -> None:
        while not receiver.received:  # noqa: ASYNC110 - the receiver is in this loop; nothing to wait on
            await asyncio.sleep(0.01)
        await asyncio.sleep(1.0)
        receiver.fast()

    # A client whose own timeout is short, standing for httpx's 5 s default under a 10 s policy.
    async with httpx.AsyncClient(follow_redirects=False, timeout=0.2) as short:
        answering = asyncio.create_task(answer_soon())
        await _delivery(sessions, short, timeout=20.0).deliver_due()
        await answering

    [attempt] = await _attempts(sessions, message_id)
    assert attempt["outcome"] == "delivered", attempt


async def test_after_a_rotation_both_secrets_verify_until_the_old_one_expires(
    sessions: Sessions, receiver: Receiver, client: httpx.AsyncClient
) -> None:
    # Four minutes of overlap: the clock can pass its end while staying within the receiver's
    # five-minute timestamp tolerance (the 24-hour default is only a longer value of the same).
    clock = Clock()
    endpoint = await _register(sessions, receiver.url(), now=clock())
    endpoint_id, old = endpoint.endpoint["endpoint_id"], endpoint.secret
    async with sessions() as session, session.begin():
        new = await registry.rotate_secret(
            session, BOX, endpoint_id, actor="admin@pd1", now=clock(), overlap=timedelta(minutes=4)
        )
    assert new != old
    delivery = _delivery(sessions, client, clock=clock)
    receiver.trust(new)

    during = _change("ref-1", 1)
    await _add(sessions, during, clock())
    during_id = await _message_id(sessions, endpoint_id, during)
    await _deliver_until(_status_is(sessions, during_id, "delivered"), delivery)
    [got] = receiver.received
    assert got.verified and len(got.headers["webhook-signature"].split(" ")) == 2
    assert got.verifies_with(old) and got.verifies_with(new)

    clock.shift = timedelta(minutes=4, seconds=30)
    after = _change("ref-1", 2)
    await _add(sessions, after, clock())
    after_id = await _message_id(sessions, endpoint_id, after)
    await _deliver_until(_status_is(sessions, after_id, "delivered"), delivery)
    got = receiver.received[-1]
    assert got.webhook_id == after_id and got.verified
    assert len(got.headers["webhook-signature"].split(" ")) == 1
    assert got.verifies_with(new) and not got.verifies_with(old)

    row = await _endpoint(sessions, endpoint_id)
    assert len(registry.secret_summaries(row, clock())) == 1
    assert old not in json.dumps(row["secrets"]) and new not in json.dumps(row["secrets"])
    history = await _history(sessions, endpoint_id)
    assert [(h["kind"], h["actor"]) for h in history] == [("registered", "admin@pd1"), ("secret_rotated", "admin@pd1")]


async def test_a_subjects_messages_go_in_order_and_do_not_hold_up_another_subject(
    sessions: Sessions, receiver: Receiver, client: httpx.AsyncClient
) -> None:
    clock = Clock()  # retries a minute apart, and the clock moved on by hand
    endpoint = await _register(sessions, receiver.url())
    endpoint_id = endpoint.endpoint["endpoint_id"]
    receiver.trust(endpoint.secret)
    changes = [_change("ref-1", sequence) for sequence in (1, 2, 3)]
    other = _change("ref-2", 1)
    for change in [*changes, other]:
        await _add(sessions, change, clock())
    first, second, third = [await _message_id(sessions, endpoint_id, change) for change in changes]
    other_id = await _message_id(sessions, endpoint_id, other)
    receiver.plan("error", webhook_id=first)
    delivery = _delivery(sessions, client, clock=clock, delays=(timedelta(minutes=1),) * 7)

    await _deliver_until(_status_is(sessions, other_id, "delivered"), delivery)
    for _ in range(3):  # the first is not due again yet, and the others wait behind it
        await delivery.deliver_due()
    assert receiver.ids() == [first, other_id] or receiver.ids() == [other_id, first]
    assert [(await _message(sessions, m))["attempts"] for m in (first, second, third)] == [1, 0, 0]

    clock.shift = timedelta(minutes=1, seconds=1)
    await _deliver_until(_status_is(sessions, third, "delivered"), delivery)

    subject_ids = [got.webhook_id for got in receiver.received if got.payload["data"]["referral_id"] == "ref-1"]
    assert subject_ids == [first, first, second, third]
    assert [got.payload["data"]["sequence"] for got in receiver.received if got.webhook_id != other_id] == [1, 1, 2, 3]
    assert all(got.verified for got in receiver.received)
    delivered = [(await _message(sessions, m))["delivered_at"] for m in (first, second, third)]
    assert delivered == sorted(delivered)
    assert [a["outcome"] for a in await _attempts(sessions, first)] == ["rejected", "delivered"]


async def test_each_subscribed_endpoint_gets_one_message_per_change(
    sessions: Sessions, receiver: Receiver, client: httpx.AsyncClient
) -> None:
    endpoints = {
        "/pd1": await _register(sessions, receiver.url("/pd1")),
        "/pd1-accepted": await _register(sessions, receiver.url("/pd1-accepted"), event_types=["referral.accepted"]),
        "/pd1-lapsed": await _register(sessions, receiver.url("/pd1-lapsed"), event_types=["referral.lapsed"]),
        "/pd2": await _register(sessions, receiver.url("/pd2"), agency="PD2"),
        "/j2": await _register(sessions, receiver.url("/j2"), jurisdiction="J2"),
        "/prosecutor": await _register(sessions, receiver.url("/prosecutor"), audience="jurisdiction", agency=None),
    }
    for path, endpoint in endpoints.items():
        receiver.trust(endpoint.secret, path)
    of_pd1, of_pd2 = _change("ref-1", agency="PD1"), _change("ref-2", agency="PD2")

    assert await _add(sessions, of_pd1) == 3  # /pd1, /pd1-accepted, /prosecutor
    assert await _add(sessions, of_pd2) == 2  # /pd2, /prosecutor
    with pytest.raises(IntegrityError):  # the same change again: one message per endpoint per change
        await _add(sessions, of_pd1)
    async with sessions() as session:
        rows = (await session.execute(select(callback_messages.c.endpoint_id, callback_messages.c.event_id))).all()
    assert len(rows) == len(set(rows)) == 5

    async def all_delivered() -> bool:
        async with sessions() as session:
            statuses = (await session.scalars(select(callback_messages.c.status))).all()
        return set(statuses) == {"delivered"}

    await _deliver_until(all_delivered, _delivery(sessions, client))

    seen = {path: [got.payload for got in receiver.received if got.path == path] for path in endpoints}
    prosecutor = seen.pop("/prosecutor")  # the jurisdiction's audience: every agency's changes
    assert sorted(prosecutor, key=lambda p: p["data"]["referral_id"]) == [of_pd1.payload(), of_pd2.payload()]
    assert seen == {
        "/pd1": [of_pd1.payload()],
        "/pd1-accepted": [of_pd1.payload()],
        "/pd1-lapsed": [],  # not subscribed to the type
        "/pd2": [of_pd2.payload()],  # its own agency's change only
        "/j2": [],  # another jurisdiction
    }
    assert all(got.verified for got in receiver.received)
    for got in receiver.received:  # each signed with its own endpoint's secret only
        others = [e.secret for path, e in endpoints.items() if path != got.path]
        assert not any(got.verifies_with(secret) for secret in others)


async def test_410_gone_disables_the_endpoint_and_enabling_sends_what_was_held(
    sessions: Sessions, receiver: Receiver, client: httpx.AsyncClient, metric_reader: InMemoryMetricReader
) -> None:
    disabled_before = metric_value(metric_reader, "divert.callback.endpoints.disabled", reason="gone")
    endpoint = await _register(sessions, receiver.url())
    endpoint_id = endpoint.endpoint["endpoint_id"]
    receiver.trust(endpoint.secret)
    receiver.behaviour = "gone"
    first = _change("ref-1")
    await _add(sessions, first)
    first_id = await _message_id(sessions, endpoint_id, first)
    delivery = _delivery(sessions, client)

    async def disabled() -> bool:
        return (await _endpoint(sessions, endpoint_id))["status"] == "disabled"

    await _deliver_until(disabled, delivery)
    row = await _endpoint(sessions, endpoint_id)
    assert "410" in row["disabled_reason"] and row["disabled_at"] is not None
    [attempt] = await _attempts(sessions, first_id)
    assert (attempt["outcome"], attempt["status_code"]) == ("gone", 410)
    assert metric_value(metric_reader, "divert.callback.endpoints.disabled", reason="gone") == disabled_before + 1

    held = _change("ref-2")
    await _add(sessions, held)  # still written while disabled
    held_id = await _message_id(sessions, endpoint_id, held)

    async def both_due() -> bool:
        rows = [await _message(sessions, m) for m in (first_id, held_id)]
        return all(r["status"] == "pending" and r["next_attempt_at"] <= utcnow() for r in rows)

    await _deliver_until(both_due)
    for _ in range(3):
        assert await delivery.deliver_due() == 0
    assert receiver.ids() == [first_id]

    receiver.behaviour = "ok"
    async with sessions() as session, session.begin():
        await registry.enable(session, endpoint_id, actor="admin@pd1", now=utcnow())

    async def both_delivered() -> bool:
        return [(await _message(sessions, m))["status"] for m in (first_id, held_id)] == ["delivered"] * 2

    await _deliver_until(both_delivered, delivery)
    assert sorted(receiver.ids()) == sorted([first_id, first_id, held_id])
    assert all(got.verified for got in receiver.received)
    history = await _history(sessions, endpoint_id)
    assert [(h["kind"], h["actor"]) for h in history] == [
        ("registered", "admin@pd1"),
        ("disabled", "divert"),
        ("enabled", "admin@pd1"),
    ]
    row = await _endpoint(sessions, endpoint_id)
    assert (row["status"], row["disabled_reason"]) == ("active", None)


@pytest.mark.parametrize("status", [302, 307])
async def test_a_redirect_is_not_followed_and_counts_as_rejected(
    sessions: Sessions, receiver: Receiver, client: httpx.AsyncClient, status: int
) -> None:
    elsewhere = Receiver()
    await elsewhere.start()
    try:
        endpoint = await _register(sessions, receiver.url())
        receiver.trust(endpoint.secret)
        receiver.behaviour, receiver.redirect_status, receiver.redirect_to = "redirect", status, elsewhere.url()
        change = _change()
        await _add(sessions, change)
        message_id = await _message_id(sessions, endpoint.endpoint["endpoint_id"], change)

        await _deliver_until(lambda: _attempt_count(sessions, message_id, "rejected", 2), _delivery(sessions, client))
    finally:
        await elsewhere.stop()

    assert elsewhere.received == []
    assert receiver.ids() == [message_id] * 2
    attempts = await _attempts(sessions, message_id)
    assert [(a["outcome"], a["status_code"]) for a in attempts] == [("rejected", status)] * 2
    assert (await _message(sessions, message_id))["status"] == "pending"


async def test_outside_development_a_loopback_endpoint_is_never_contacted(
    sessions: Sessions, receiver: Receiver, client: httpx.AsyncClient, metric_reader: InMemoryMetricReader
) -> None:
    refused_before = metric_value(metric_reader, "divert.callback.attempts", outcome="refused_target")
    endpoint = await _register(sessions, receiver.url())  # as if the name had been re-pointed since
    change = _change()
    await _add(sessions, change)
    message_id = await _message_id(sessions, endpoint.endpoint["endpoint_id"], change)
    delivery = _delivery(sessions, client, development=False)

    await _deliver_until(lambda: _attempt_count(sessions, message_id, "refused_target", 3), delivery)

    assert receiver.received == []
    attempts = await _attempts(sessions, message_id)
    assert {a["outcome"] for a in attempts} == {"refused_target"}
    assert all("loopback" in a["error"] and a["status_code"] is None for a in attempts)
    assert metric_value(metric_reader, "divert.callback.attempts", outcome="refused_target") >= refused_before + 3


async def test_a_name_that_resolves_to_loopback_only_when_connecting_is_still_never_contacted(
    sessions: Sessions, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the check before the attempt is told the host is public, and the name points
    at loopback by the time the client connects. The production client resolves once more as it
    connects, refuses, and never reaches the receiver."""

    async def told_public(url: str, *, development: bool) -> None:
        return None

    monkeypatch.setattr(delivery_module, "check_address", told_public)
    endpoint = await _register(sessions, receiver.url())
    change = _change()
    await _add(sessions, change)
    message_id = await _message_id(sessions, endpoint.endpoint["endpoint_id"], change)
    async with targets.callback_client(development=False) as guarded:
        delivery = _delivery(sessions, guarded, development=False)

        await _deliver_until(lambda: _attempt_count(sessions, message_id, "refused_target", 2), delivery)

    assert receiver.received == []
    assert all("loopback" in a["error"] for a in await _attempts(sessions, message_id))


async def test_the_development_client_reaches_a_local_receiver(sessions: Sessions, receiver: Receiver) -> None:
    endpoint = await _register(sessions, receiver.url())
    receiver.trust(endpoint.secret)
    change = _change()
    await _add(sessions, change)
    message_id = await _message_id(sessions, endpoint.endpoint["endpoint_id"], change)
    async with targets.callback_client(development=True) as local:
        await _deliver_until(_status_is(sessions, message_id, "delivered"), _delivery(sessions, local))

    assert [r.webhook_id for r in receiver.received] == [message_id]


async def test_two_delivery_processes_deliver_each_message_once(
    callback_db: tuple[str, Sessions], receiver: Receiver
) -> None:
    database_url, sessions = callback_db
    endpoint = await _register(sessions, receiver.url())
    receiver.trust(endpoint.secret)
    changes = [_change(f"ref-{n % 10}", n // 10 + 1) for n in range(40)]
    for change in changes:
        await _add(sessions, change)
    ids = {await _message_id(sessions, endpoint.endpoint["endpoint_id"], change) for change in changes}

    # Two processes' worth of parts: each its own engine, its own client.
    other_engine = create_engine(database_url)
    claimed = [0, 0]
    try:
        async with httpx.AsyncClient() as first_client, httpx.AsyncClient() as second_client:
            deliveries = [
                _delivery(sessions, first_client, batch=4),
                _delivery(create_session_factory(other_engine), second_client, batch=4),
            ]

            async def all_delivered() -> bool:
                async with sessions() as session:
                    statuses = (await session.scalars(select(callback_messages.c.status))).all()
                return statuses.count("delivered") == len(changes)

            give_up = time.monotonic() + 120
            while not await all_delivered():
                assert time.monotonic() < give_up, "not all delivered within 120s"
                counts = await asyncio.gather(*(delivery.deliver_due() for delivery in deliveries))
                claimed = [total + count for total, count in zip(claimed, counts, strict=True)]
    finally:
        await other_engine.dispose()

    assert sorted(receiver.ids()) == sorted(ids)  # each exactly once
    assert all(got.verified for got in receiver.received)
    assert sum(claimed) == len(changes)  # no message was claimed twice
    for message_id in ids:
        assert [a["outcome"] for a in await _attempts(sessions, message_id)] == ["delivered"]
    for subject in {change.subject for change in changes}:
        sequences = [
            got.payload["data"]["sequence"]
            for got in receiver.received
            if got.payload["data"]["referral_id"] == subject
        ]
        assert sequences == sorted(sequences)


async def test_a_claim_that_outlived_its_lease_does_not_undo_another_process_delivery(
    sessions: Sessions, receiver: Receiver, client: httpx.AsyncClient
) -> None:
    """Process A claims two messages and sends them one at a time; the first is held so long
    that the second's lease runs out before A gets to it (a slot can be held past the lease however
    it is sized). Process B, whose clock stands past
    the lease, claims and delivers both. A's late attempt of the second is answered 500: the
    message B delivered must stay delivered (A's attempt is still recorded)."""
    endpoint = await _register(sessions, receiver.url())
    endpoint_id = endpoint.endpoint["endpoint_id"]
    receiver.trust(endpoint.secret)
    held, queued = _change("ref-0"), _change("ref-1")
    await _add(sessions, held)
    await _add(sessions, queued)
    held_id, queued_id = (
        await _message_id(sessions, endpoint_id, held),
        await _message_id(sessions, endpoint_id, queued),
    )
    receiver.plan("slow", "ok", webhook_id=held_id)  # A's attempt held, B's answered
    receiver.plan("ok", "error", webhook_id=queued_id)  # B's answered, A's late one refused
    process_a = _delivery(sessions, client, timeout=60.0, batch=2, concurrency=1)
    late = Clock()
    late.shift = DeliveryPolicy(development=True, timeout_seconds=60.0, batch=2, concurrency=1).lease
    late.shift += timedelta(seconds=1)
    process_b = _delivery(sessions, client, clock=late)

    a_passes = asyncio.create_task(process_a.deliver_due())
    while held_id not in receiver.ids():  # noqa: ASYNC110 - the receiver is in this loop; nothing to wait on
        await asyncio.sleep(0.01)
    assert await process_b.deliver_due() == 2  # both of A's leases have run out by B's clock
    assert [(await _message(sessions, m))["status"] for m in (held_id, queued_id)] == ["delivered"] * 2
    receiver.fast()
    assert await a_passes == 2

    assert receiver.ids().count(queued_id) == 2  # at least once: a duplicate the receiver drops by id
    assert [a["outcome"] for a in await _attempts(sessions, queued_id)] == ["delivered", "rejected"]
    assert (await _message(sessions, queued_id))["status"] == "delivered"
    assert (await _endpoint(sessions, endpoint_id))["failing_since"] is None


async def test_a_redelivery_sends_the_message_again_with_the_same_id(
    sessions: Sessions, receiver: Receiver, client: httpx.AsyncClient
) -> None:
    endpoint = await _register(sessions, receiver.url())
    endpoint_id = endpoint.endpoint["endpoint_id"]
    receiver.trust(endpoint.secret)
    change = _change()
    await _add(sessions, change)
    message_id = await _message_id(sessions, endpoint_id, change)
    delivery = _delivery(sessions, client)
    await _deliver_until(_status_is(sessions, message_id, "delivered"), delivery)
    first_delivered_at = (await _message(sessions, message_id))["delivered_at"]

    async with sessions() as session, session.begin():
        await registry.redeliver(session, message_id, actor="admin@pd1", now=utcnow())
    assert (await _message(sessions, message_id))["status"] == "pending"
    await _deliver_until(_status_is(sessions, message_id, "delivered"), delivery)

    assert receiver.ids() == [message_id, message_id]
    assert all(got.verified and got.payload == change.payload() for got in receiver.received)
    assert [a["outcome"] for a in await _attempts(sessions, message_id)] == ["delivered", "delivered"]
    message = await _message(sessions, message_id)
    assert message["attempts"] == 1  # a new round
    assert message["delivered_at"] >= first_delivered_at
    history = await _history(sessions, endpoint_id)
    assert (history[-1]["kind"], history[-1]["actor"], history[-1]["detail"]) == (
        "redelivery_requested",
        "admin@pd1",
        message_id,
    )


async def test_the_default_schedule_runs_over_a_day_then_fails_the_message_and_disables_the_endpoint(
    sessions: Sessions, client: httpx.AsyncClient, metric_reader: InMemoryMetricReader
) -> None:
    failed_before = metric_value(metric_reader, "divert.callback.messages.failed")
    disabled_before = metric_value(metric_reader, "divert.callback.endpoints.disabled", reason="exhausted")
    down = Receiver()  # never started: nothing listens on its port
    start = utcnow()
    clock = Clock(frozen=start)
    endpoint = await _register(sessions, down.url(), now=start)
    endpoint_id = endpoint.endpoint["endpoint_id"]
    change = _change()
    await _add(sessions, change, start)
    message_id = await _message_id(sessions, endpoint_id, change)
    delivery = _delivery(sessions, client, delays=RETRY_DELAYS, clock=clock)

    while True:
        assert await delivery.deliver_due() == 1
        message = await _message(sessions, message_id)
        if message["status"] != "pending":
            break
        due = message["next_attempt_at"]
        clock.frozen = due - timedelta(seconds=1)
        assert await delivery.deliver_due() == 0, "an attempt came early"
        clock.frozen = due

    attempts = await _attempts(sessions, message_id)
    times = [a["attempted_at"] for a in attempts]
    assert times[0] == start
    assert [later - earlier for earlier, later in pairwise(times)] == [
        timedelta(seconds=5),
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(hours=2),
        timedelta(hours=5),
        timedelta(hours=10),
        timedelta(hours=10),
    ]
    assert times[-1] - times[0] >= timedelta(hours=24)
    assert {a["outcome"] for a in attempts} == {"unreachable"}
    assert (message["status"], message["attempts"], message["next_attempt_at"]) == ("failed", 8, None)
    row = await _endpoint(sessions, endpoint_id)
    assert row["status"] == "disabled" and row["failing_since"] == start
    assert row["disabled_at"] == times[-1]
    assert "no delivery succeeded since" in row["disabled_reason"]
    history = await _history(sessions, endpoint_id)
    assert [(h["kind"], h["actor"]) for h in history] == [("registered", "admin@pd1"), ("disabled", "divert")]
    assert history[-1]["detail"] == row["disabled_reason"]
    assert metric_value(metric_reader, "divert.callback.messages.failed") == failed_before + 1
    assert metric_value(metric_reader, "divert.callback.endpoints.disabled", reason="exhausted") == disabled_before + 1
    clock.frozen = times[-1] + timedelta(days=2)
    assert await delivery.deliver_due() == 0  # failed stays failed


async def test_an_endpoint_failing_for_less_than_a_day_stays_active_when_a_message_runs_out(
    sessions: Sessions, client: httpx.AsyncClient
) -> None:
    down = Receiver()  # never started
    endpoint = await _register(sessions, down.url())
    endpoint_id = endpoint.endpoint["endpoint_id"]
    change = _change()
    await _add(sessions, change)
    message_id = await _message_id(sessions, endpoint_id, change)

    await _deliver_until(_status_is(sessions, message_id, "failed"), _delivery(sessions, client))

    assert [a["outcome"] for a in await _attempts(sessions, message_id)] == ["unreachable"] * (len(FAST) + 1)
    row = await _endpoint(sessions, endpoint_id)
    assert row["status"] == "active" and row["failing_since"] is not None and row["disabled_reason"] is None
    assert [h["kind"] for h in await _history(sessions, endpoint_id)] == ["registered"]
