"""Delivering the callback outbox: signed POSTs, retried for more than a day, in order per subject.

Each pass takes the messages that are due, whose endpoint is active, and that have no earlier
undelivered message of the same subject for the same endpoint (so a receiver sees a referral's
changes in the order they happened), claims them with a lease (so a second delivery process
passes them by), and sends each. A 2xx answer delivers the message; anything else, a timeout
or no answer, is an attempt recorded with its outcome, and the message is tried again after the
next delay of `RETRY_DELAYS` — about 27½ hours in all — and then marked `failed`. An endpoint
that has failed without a single success for `DISABLE_AFTER` when a message runs out of
attempts, or that answers 410 Gone, is disabled: recorded in its history, logged, and counted
(`divert_callback_endpoints_disabled_total`, which the operations alert watches).

A message goes out at least once per round and carries the same `webhook-id` every time:
receivers drop an id they have already handled (a crash between sending and recording, or a
timeout after the receiver did the work, are the ways one can arrive twice).
"""

import asyncio
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

import httpx
from opentelemetry import context, metrics, propagate
from sqlalchemy import CursorResult, and_, exists, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from divert_platform.callbacks import registry
from divert_platform.callbacks.schema import callback_attempts, callback_endpoints, callback_messages
from divert_platform.callbacks.secret_box import SecretBox, SecretBoxError
from divert_platform.callbacks.signing import signed_headers
from divert_platform.callbacks.targets import UnsafeTarget, check_address
from divert_platform.clock import utcnow

log = logging.getLogger(__name__)

RETRY_DELAYS: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
"""The wait after each failed attempt (Standard Webhooks' suggested schedule): eight attempts
over 27 h 35 m, so a receiver down for a whole day still gets every message."""

DISABLE_AFTER = timedelta(hours=24)
"""How long an endpoint may fail without one success before running out of attempts disables it."""

_meter = metrics.get_meter("divert.callbacks")
_attempts = _meter.create_counter(
    "divert.callback.attempts", description="Callback delivery attempts, by outcome (delivered, rejected, ...)."
)
_failed = _meter.create_counter(
    "divert.callback.messages.failed", description="Callback messages whose attempts ran out undelivered."
)
_disabled = _meter.create_counter(
    "divert.callback.endpoints.disabled", description="Endpoints disabled for failing, by reason (exhausted, gone)."
)
_lag = _meter.create_histogram(
    "divert.callback.delivery.lag", unit="s", description="From a change to its callback's delivery."
)


@dataclass(frozen=True)
class DeliveryPolicy:
    """How callbacks are delivered (`DIVERT_CALLBACK_*` settings)."""

    development: bool
    """Allow http:// and private or loopback addresses (never outside development)."""
    timeout_seconds: float = 10.0
    """The longest one attempt may take, connection to last byte of the answer's head."""
    retry_delays: Sequence[timedelta] = RETRY_DELAYS
    disable_after: timedelta = DISABLE_AFTER
    concurrency: int = 16
    batch: int = 100

    @property
    def lease(self) -> timedelta:
        """How long a claimed message is left alone by other delivery processes: long enough for
        a whole batch to go through `concurrency` slots (a claim that outlives it anyway cannot
        undo another process's outcome: see `_still_ours`)."""
        rounds = -(-self.batch // self.concurrency)
        return timedelta(seconds=self.timeout_seconds * rounds + 30)


@dataclass
class Outcome:
    """What one attempt came to."""

    outcome: str
    status_code: int | None = None
    error: str | None = None
    duration_ms: int = 0
    at: datetime = field(default_factory=utcnow)

    @property
    def delivered(self) -> bool:
        """Whether the receiver took the message (a 2xx answer)."""
        return self.outcome == "delivered"


class CallbackDelivery:
    """Sends due callback messages from a service's database."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        client: httpx.AsyncClient,
        box: SecretBox,
        policy: DeliveryPolicy,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._client = client
        self._box = box
        self._policy = policy
        self._clock = clock
        self._slots = asyncio.Semaphore(policy.concurrency)

    async def deliver_due(self) -> int:
        """Attempt every message due now (one per endpoint and subject); returns how many."""
        claimed = await self._claim_due()
        await asyncio.gather(*(self._deliver(row) for row in claimed))
        return len(claimed)

    async def run(self, stop: asyncio.Event, *, idle_seconds: float = 0.5, max_backoff: float = 10.0) -> None:
        """Deliver until `stop` is set, backing off while the database is unavailable."""
        backoff = idle_seconds
        while not stop.is_set():
            try:
                sent = await self.deliver_due()
                backoff = idle_seconds
            except Exception:
                log.exception("callback delivery failed; retrying in %.1fs", backoff)
                sent, backoff = 0, min(backoff * 2, max_backoff)
            if not sent:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=backoff)
                except TimeoutError:
                    pass

    async def _claim_due(self) -> list[dict[str, Any]]:
        now = self._clock()
        message, earlier = callback_messages, aliased(callback_messages)
        endpoint = callback_endpoints
        waiting_behind_earlier = exists().where(
            and_(
                earlier.c.endpoint_id == message.c.endpoint_id,
                earlier.c.subject == message.c.subject,
                earlier.c.status == "pending",
                earlier.c.sequence < message.c.sequence,
            )
        )
        query = (
            select(message, endpoint.c.url, endpoint.c.secrets)
            .join(endpoint, endpoint.c.endpoint_id == message.c.endpoint_id)
            .where(
                message.c.status == "pending",
                message.c.next_attempt_at <= now,
                endpoint.c.status == "active",
                ~waiting_behind_earlier,
            )
            .order_by(message.c.next_attempt_at, message.c.sequence, message.c.message_id)
            .limit(self._policy.batch)
        )
        claimed = []
        until = now + self._policy.lease
        async with self._sessions() as session, session.begin():
            for row in (await session.execute(query)).all():
                taken = await session.execute(
                    update(message)
                    .where(
                        message.c.message_id == row.message_id,
                        message.c.status == "pending",
                        message.c.next_attempt_at == row.next_attempt_at,
                    )
                    .values(next_attempt_at=until)
                )
                if _rows_changed(taken) == 1:
                    claimed.append({**row._mapping, "claimed_until": until})
        return claimed

    async def _deliver(self, row: dict[str, Any]) -> None:
        async with self._slots:
            outcome = await self._attempt(row)
        await self._record(row, outcome)

    async def _attempt(self, row: dict[str, Any]) -> Outcome:
        at = self._clock()
        started = time.monotonic()
        body = json.dumps(row["payload"], separators=(",", ":"), ensure_ascii=False)
        token = context.attach(propagate.extract({"traceparent": row["traceparent"]} if row["traceparent"] else {}))
        try:
            await check_address(row["url"], development=self._policy.development)
            headers = signed_headers(row["message_id"], at, body, registry.live_secrets(row, self._box, at))
            async with asyncio.timeout(self._policy.timeout_seconds):
                # Streamed and never read: what a receiver answers beyond its status is not ours to hold.
                async with self._client.stream(
                    "POST",
                    row["url"],
                    content=body.encode(),
                    headers=headers,
                    follow_redirects=False,
                    timeout=self._policy.timeout_seconds,  # the policy's, whatever the client's default
                ) as response:
                    status = response.status_code
            kind = "delivered" if 200 <= status < 300 else "gone" if status == 410 else "rejected"
            outcome = Outcome(kind, status_code=status, at=at)
        except UnsafeTarget as error:
            outcome = Outcome("refused_target", error=str(error), at=at)
        except SecretBoxError as error:  # a key was dropped too soon: never send unsigned
            outcome = Outcome("unsigned", error=str(error), at=at)
        except (TimeoutError, httpx.TimeoutException):
            outcome = Outcome("timeout", error=f"no answer within {self._policy.timeout_seconds:g}s", at=at)
        except httpx.HTTPError as error:
            outcome = Outcome("unreachable", error=f"{type(error).__name__}: {error}"[:300], at=at)
        finally:
            context.detach(token)
        outcome.duration_ms = int((time.monotonic() - started) * 1000)
        _attempts.add(1, {"outcome": outcome.outcome})
        return outcome

    async def _record(self, row: dict[str, Any], outcome: Outcome) -> None:
        now = self._clock()
        attempts = row["attempts"] + 1
        async with self._sessions() as session, session.begin():
            await session.execute(
                insert(callback_attempts),
                {
                    "message_id": row["message_id"],
                    "attempted_at": outcome.at,
                    "duration_ms": outcome.duration_ms,
                    "status_code": outcome.status_code,
                    "outcome": outcome.outcome,
                    "error": outcome.error,
                },
            )
            if outcome.delivered:
                await self._delivered(session, row, attempts, now)
            else:
                await self._failed(session, row, attempts, outcome, now)

    @staticmethod
    def _still_ours(row: dict[str, Any]) -> Any:
        """The message's row while this process's claim on it holds: another process may have
        claimed it since the lease ran out (and delivered it); its outcome is then not ours to set."""
        return and_(
            callback_messages.c.message_id == row["message_id"],
            callback_messages.c.status == "pending",
            callback_messages.c.next_attempt_at == row["claimed_until"],
        )

    async def _delivered(self, session: AsyncSession, row: dict[str, Any], attempts: int, now: datetime) -> None:
        ours = await session.execute(
            update(callback_messages)
            .where(self._still_ours(row))
            .values(status="delivered", attempts=attempts, last_attempt_at=now, delivered_at=now, next_attempt_at=None)
        )
        await session.execute(
            update(callback_endpoints)
            .where(callback_endpoints.c.endpoint_id == row["endpoint_id"])
            .values(last_success_at=now, failing_since=None)
        )
        if _rows_changed(ours) == 1:
            _lag.record(max((now - row["created_at"]).total_seconds(), 0.0))

    async def _failed(
        self, session: AsyncSession, row: dict[str, Any], attempts: int, outcome: Outcome, now: datetime
    ) -> None:
        delays = self._policy.retry_delays
        exhausted = attempts > len(delays)
        ours = await session.execute(
            update(callback_messages)
            .where(self._still_ours(row))
            .values(
                status="failed" if exhausted else "pending",
                attempts=attempts,
                last_attempt_at=now,
                next_attempt_at=None if exhausted else now + delays[attempts - 1],
            )
        )
        if _rows_changed(ours) != 1:
            return  # a stale claim: the attempt is recorded, the message is another process's now
        endpoint_id = row["endpoint_id"]
        failing_since = await session.scalar(
            select(callback_endpoints.c.failing_since).where(callback_endpoints.c.endpoint_id == endpoint_id)
        )
        if failing_since is None:
            failing_since = now
            await session.execute(
                update(callback_endpoints)
                .where(callback_endpoints.c.endpoint_id == endpoint_id)
                .values(failing_since=now)
            )
        if exhausted:
            _failed.add(1)
            log.warning("callback %s to endpoint %s ran out of attempts", row["message_id"], endpoint_id)
        if outcome.outcome == "gone":
            await self._disable(session, endpoint_id, "gone", "the endpoint answered 410 Gone", now)
        elif exhausted and now - failing_since >= self._policy.disable_after:
            reason = f"no delivery succeeded since {failing_since.isoformat()}; last attempt: {outcome.outcome}"
            await self._disable(session, endpoint_id, "exhausted", reason, now)

    async def _disable(self, session: AsyncSession, endpoint_id: str, why: str, reason: str, now: datetime) -> None:
        await registry.disable(session, endpoint_id, reason=reason, actor="divert", now=now)
        _disabled.add(1, {"reason": why})
        log.warning("callback endpoint %s disabled: %s", endpoint_id, reason)


def _rows_changed(result: Any) -> int:
    """How many rows an UPDATE changed (`Session.execute` is typed as returning any `Result`)."""
    return cast(CursorResult[Any], result).rowcount
