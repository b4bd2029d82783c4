"""What the parts underneath allow, measured in the same run on the same machine as Divert.

- Kafka: raw aiokafka produce, and produce → consume, through the stack's own broker, with the
  relays' producer settings and a record shaped like a referral event (same headers and size).
- Temporal: starts/s of a trivial workflow against the stack's dev server, one at a time and
  concurrently, with its worker in this process.
- HTTP: a bare FastAPI endpoint served as Divert serves its APIs, driven by the same generator.
"""

import asyncio
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from temporalio.client import Client
from temporalio.worker import Worker

from bench.loadgen import ROOT
from bench.noop_workflow import TASK_QUEUE, BenchNoopWorkflow
from bench.workload import referral
from divert_contracts import codec
from divert_platform.embedded import free_port, stop_process, wait_for_port
from divert_platform.kafka import create_producer

PARTITIONS = 6  # as divert.referrals


def _sample_record() -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """Key, value and headers of a CloudEvent the size of a referral event."""
    message = codec.encode(
        event_id=str(uuid4()),
        source="/divert/bench",
        event_type="org.divert.referral.accepted.v1",
        subject="referrals/bench",
        time=datetime.now(UTC),
        key=str(uuid4()),
        data=referral("arrest_diversion", "RAW-1"),
    )
    return str(message.key).encode(), message.value, list(message.headers.items())


async def kafka_ceiling(bootstrap: str, messages: int) -> dict[str, Any]:
    """Produce `messages` records to a fresh topic while a consumer reads them all back."""
    topic = f"bench.raw.{uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, PARTITIONS, 1)])
    finally:
        await admin.close()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    consumer.assign([TopicPartition(topic, p) for p in range(PARTITIONS)])
    await consumer.seek_to_beginning()
    producer = create_producer(bootstrap, "divert-bench-raw")
    await producer.start()
    key, value, headers = _sample_record()
    received = 0
    try:

        async def consume() -> float:
            nonlocal received
            while received < messages:
                batches = await consumer.getmany(timeout_ms=500, max_records=5000)
                received += sum(len(records) for records in batches.values())
            return time.perf_counter()

        reading = asyncio.create_task(consume())
        started = time.perf_counter()
        deliveries = [await producer.send(topic, value=value, key=key, headers=headers) for _ in range(messages)]
        await asyncio.gather(*deliveries)
        produced = time.perf_counter()
        consumed = await asyncio.wait_for(reading, timeout=120)
    finally:
        await producer.stop()
        await consumer.stop()
    return {
        "messages": messages,
        "record_bytes": len(value) + len(key) + sum(len(k) + len(v) for k, v in headers),
        "produce_per_s": round(messages / (produced - started)),
        "produce_consume_per_s": round(messages / (consumed - started)),
    }


async def temporal_ceiling(address: str, starts: int, concurrency: int) -> dict[str, Any]:
    """Starts/s of `BenchNoopWorkflow`: a quarter of `starts` one at a time, then all concurrently."""
    client = await Client.connect(address)
    run = uuid4().hex[:8]
    async with Worker(client, task_queue=TASK_QUEUE, workflows=[BenchNoopWorkflow]):

        async def start(n: int) -> None:
            workflow_id = f"bench-noop-{run}-{n}"
            await client.start_workflow(BenchNoopWorkflow.run, str(n), id=workflow_id, task_queue=TASK_QUEUE)

        sequential = max(starts // 4, 1)
        started = time.perf_counter()
        for n in range(sequential):
            await start(n)
        one_at_a_time = sequential / (time.perf_counter() - started)
        gate = asyncio.Semaphore(concurrency)

        async def gated(n: int) -> None:
            async with gate:
                await start(n)

        started = time.perf_counter()
        await asyncio.gather(*(gated(n) for n in range(sequential, sequential + starts)))
        concurrent = starts / (time.perf_counter() - started)
    return {
        "starts": starts,
        "concurrency": concurrency,
        "sequential_starts_per_s": round(one_at_a_time, 1),
        "concurrent_starts_per_s": round(concurrent, 1),
    }


class BareApi:
    """`with BareApi() as url:` serves the bare endpoint in its own process for the block."""

    def __enter__(self) -> str:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.bare_app", str(self.port)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for_port(self.port, timeout=30, process=self.process)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *_: object) -> None:
        stop_process(self.process)
