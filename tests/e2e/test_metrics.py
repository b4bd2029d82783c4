"""The system's health as Prometheus metrics: every process serves them, they count what really
happened to a referral, and they hold no personal data."""

import asyncio
import re
from collections import Counter
from datetime import UTC, datetime

import httpx
from aiokafka import AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from divert_local.journey import RoleTokens, demo_referral
from divert_local.stack import Stack

Key = tuple[str, frozenset[tuple[str, str]]]
UUID_PATTERN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


async def scrape(stack: Stack) -> dict[str, str]:
    """The metrics text of every Divert process, by process name (`intake`, or `intake-api`, ...)."""
    async with httpx.AsyncClient(timeout=5) as http:
        pages = await asyncio.gather(
            *(http.get(f"http://127.0.0.1:{port}/metrics") for port in stack.metrics_ports.values())
        )
    for response in pages:
        assert response.status_code == 200
    return {name: response.text for name, response in zip(stack.metrics_ports, pages, strict=True)}


def samples(text: str) -> Counter[Key]:
    """Every sample of one process's page, keyed by sample name and labels."""
    values: Counter[Key] = Counter()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            values[(sample.name, frozenset(sample.labels.items()))] += sample.value
    return values


def total(values: Counter[Key], name: str, **labels: str) -> float:
    """The sum of the samples called `name` whose labels include `labels`."""
    return sum(value for (sample, have), value in values.items() if sample == name and labels.items() <= have)


async def test_metrics_count_a_lapse_its_rescission_and_a_poison_message_and_name_nobody(stack: Stack) -> None:
    before = {name: samples(text) for name, text in (await scrape(stack)).items()}
    tokens = RoleTokens(intake=stack.url("intake"), assessment=stack.url("assessment"), warrants=stack.url("warrants"))
    subject = demo_referral("Ottoline", referred_at=datetime.now(UTC))
    subject["subject"].update(family_name="Marchbanks", phone="+15555550142", date_of_birth="1969-03-21")
    async with httpx.AsyncClient(timeout=10, auth=tokens) as http:
        response = await http.post(f"{stack.url('intake')}/v1/referrals", json=subject)
        assert response.status_code == 201
        referral_id = response.json()["referral_id"]
        requests_url = f"{stack.url('warrants')}/v1/warrant-requests"
        async with asyncio.timeout(90):  # the demo window is 20 seconds
            while not (await http.get(requests_url, params={"referral_id": referral_id})).json()["items"]:  # noqa: ASYNC110
                await asyncio.sleep(0.5)
            await http.post(f"{stack.url('intake')}/v1/referrals/{referral_id}/withdrawal", json={"reason": "error"})
            while (await http.get(requests_url, params={"referral_id": referral_id})).json()["items"][0][  # noqa: ASYNC110
                "status"
            ] != "rescinded":
                await asyncio.sleep(0.5)

    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait("divert.referrals", value=b"{not json", key=b"poison-for-metrics")
    finally:
        await producer.stop()
    readers_of_referrals = [stack.host(service, "consumer") for service in ("intake", "assessment", "warrants")]

    async def dead_lettered() -> bool:
        now = {name: samples(text) for name, text in (await scrape(stack)).items()}
        return all(
            total(now[p], "divert_consumer_dead_letters_total", topic="divert.referrals")
            > total(before[p], "divert_consumer_dead_letters_total", topic="divert.referrals")
            for p in readers_of_referrals
        )

    async with asyncio.timeout(30):
        while not await dead_lettered():  # noqa: ASYNC110 - polling the public endpoints
            await asyncio.sleep(0.5)
    pages = await scrape(stack)
    after = {name: samples(text) for name, text in pages.items()}

    def grew(role: str, name: str, **labels: str) -> float:
        """How much the metric grew in the process running `role` (`intake-api`: intake's API)."""
        process = stack.host(*role.split("-", 1))
        return total(after[process], name, **labels) - total(before[process], name, **labels)

    demo = {"jurisdiction": "demo"}
    dead_lettered_referrals = {"topic": "divert.referrals", "outcome": "dead_lettered"}
    assert grew("intake-api", "divert_referrals_total", decision="accepted", pathway="arrest_diversion", **demo) == 1
    assert grew("intake-consumer", "divert_deadline_start_latency_seconds_count", **demo) >= 1
    assert grew("intake-worker", "divert_deadline_lapses_total", **demo) >= 1
    assert grew("warrants-api", "divert_warrant_requests_total", **demo) >= 1
    assert grew("warrants-consumer", "divert_warrant_rescissions_total", reason="referral_withdrawn", **demo) >= 1
    assert grew("assessment-consumer", "divert_cases_opened_total", pathway="arrest_diversion", **demo) >= 1
    assert grew("intake-api", "http_server_request_duration_seconds_count", http_route="/v1/referrals") >= 1
    for service in ("intake", "assessment", "warrants"):
        consumer = f"{service}-consumer"
        assert grew(consumer, "divert_consumer_messages_total", topic="divert.referrals", outcome="applied") >= 1
        assert grew(consumer, "divert_consumer_messages_total", **dead_lettered_referrals) == 1
        assert ("divert_consumer_lag", "divert.referrals") in {
            (name, dict(labels).get("topic")) for name, labels in after[stack.host(service, "consumer")]
        }
    for process in stack.hosts_of("relay"):
        reported = {name for name, _ in after[process]}
        assert {"divert_outbox_backlog", "divert_outbox_oldest_unpublished_age_seconds"} <= reported, process

    personal = ["Ottoline", "Marchbanks", "+15555550142", "1969-03-21", referral_id]
    leaks = {name: [p for p in personal if p in text] for name, text in pages.items()}
    assert {name: found for name, found in leaks.items() if found} == {}
    ids_in_labels = {
        (name, value)
        for process in after.values()
        for name, labels in process
        for _, value in labels
        if UUID_PATTERN.search(value) and name != "target_info"  # target_info: the process's own instance id
    }
    assert ids_in_labels == set()  # labels hold codes, never ids: bounded series, nobody named
