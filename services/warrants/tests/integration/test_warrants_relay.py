"""The warrants outbox reaches `divert.warrants` as a CloudEvent (real broker, real database)."""

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import httpx
from aiokafka import AIOKafkaConsumer

from divert_contracts import codec
from divert_contracts.topics import WARRANTS
from divert_contracts.warrants import WarrantRequested
from divert_platform.auth import mint_token
from divert_platform.kafka import create_producer, ensure_topics
from divert_platform.relay import OutboxRelay
from divert_platform.testing import migrate
from divert_warrants.bootstrap import MIGRATIONS, bootstrap
from divert_warrants.config import WarrantsSettings
from divert_warrants.entrypoints.api import build_api

DUE = datetime(2025, 3, 9, 7, 59, 59, tzinfo=UTC)


async def test_a_warrant_request_is_published_as_warrant_requested(
    database_url: str, kafka_bootstrap: str, hear_lapse
) -> None:
    await migrate(database_url, MIGRATIONS)
    warrants = bootstrap(WarrantsSettings(database_url=database_url, kafka_bootstrap=kafka_bootstrap))
    referral_id = str(uuid4())
    body = {
        "referral_id": referral_id,
        "jurisdiction": "king-county",
        "kind": "return_for_charging",
        "assessment_due_by": DUE.isoformat(),
        "lapsed_at": (DUE + timedelta(seconds=1)).isoformat(),
    }
    await hear_lapse(body)  # warrants' own record: intake accepted the referral and recorded its lapse
    await ensure_topics(kafka_bootstrap, [WARRANTS])
    producer = create_producer(kafka_bootstrap, "warrants-relay-test")
    consumer = AIOKafkaConsumer(
        WARRANTS.name, bootstrap_servers=kafka_bootstrap, group_id=f"test-{uuid4()}", auto_offset_reset="earliest"
    )
    await producer.start()
    await consumer.start()
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=build_api(warrants)), base_url="http://w"
        ) as http:
            worker = mint_token(warrants.settings, subject="divert-intake-worker", role="deadline_worker")
            headers = {"Authorization": f"Bearer {worker}"}
            created = (await http.post("/v1/warrant-requests", json=body, headers=headers)).json()
        assert await OutboxRelay(warrants.sessions, producer).publish_pending() == 1
        assert await OutboxRelay(warrants.sessions, producer).publish_pending() == 0  # marked published

        decoded = None
        async with asyncio.timeout(30):  # fail, never hang, if the event does not arrive
            while decoded is None or str(decoded.event.referral_id) != referral_id:  # the topic is shared
                message = await consumer.getone()
                decoded = codec.decode(message.headers, message.key, message.value)
    finally:
        await consumer.stop()
        await producer.stop()
        await warrants.engine.dispose()

    assert message.key == referral_id.encode()
    assert decoded.source == "/divert/warrants"
    assert isinstance(decoded.event, WarrantRequested)
    assert decoded.event.warrant_request_id == UUID(created["warrant_request_id"])
    assert decoded.event.kind == "return_for_charging"
