"""How far behind the pipeline runs: unpublished outbox rows per service, consumer lag per group.

Read directly (the services' databases, SQLite files read-only; Kafka group offsets through the
admin API) rather than from the Prometheus gauges, which the relays refresh only every few seconds.

Beware: the embedded broker (Tansu) under-reports a partition's end offset after batched produce
(211 records sent, 110 reported, in a plain aiokafka test), so lag read from end offsets can show
zero too early. Where it matters (the backlog phase), progress is counted in the consumers' inbox
tables instead.
"""

import asyncio
import time

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from bench.databases import Databases
from divert_contracts import dataplane
from divert_contracts.topics import Topic

# Each service's consumer group and what it reads, as the data plane declares them (each consumer
# subscribes to exactly that). A hand-kept copy went stale once: it still had `divert.cases` where
# intake and warrants read `divert.case-milestones`, so their groups never looked caught up and every
# settle waited out its whole timeout.
GROUP_TOPICS: dict[str, tuple[Topic, ...]] = {
    access.consumer_group: access.consumes for access in dataplane.SERVICES if access.consumes
}
SERVICES = tuple(access.name for access in dataplane.SERVICES)


# Consumer groups whose effect on each referral is an inbox row in their service's database (the
# warrants consumer ignores accepted referrals and opened cases, so it leaves none to count).
APPLYING_GROUPS = {"divert-assessment": "assessment", "divert-intake": "intake", "divert-directory": "directory"}


async def applied(databases: Databases, group: str) -> int:
    """Records a consumer group has applied (its inbox rows in its service's database)."""
    return await databases.scalar(APPLYING_GROUPS[group], "SELECT count(*) FROM inbox WHERE consumer = $1", group)


async def outbox_backlog(databases: Databases, service: str) -> int:
    """Unpublished outbox rows in one service's database."""
    return await databases.scalar(service, "SELECT count(*) FROM outbox WHERE published_at IS NULL")


class Pipeline:
    """Outbox backlogs and consumer lags of one running stack."""

    def __init__(self, databases: Databases, bootstrap: str) -> None:
        self._databases = databases
        self._admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="divert-bench")
        self._offsets = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)

    async def __aenter__(self) -> "Pipeline":
        await self._admin.start()
        await self._offsets.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._offsets.stop()
        await self._admin.close()

    async def backlogs(self) -> dict[str, int]:
        """Unpublished outbox rows by service."""
        return {service: await outbox_backlog(self._databases, service) for service in SERVICES}

    async def lags(self) -> dict[str, int]:
        """Records not yet handled, by consumer group, over every partition the group reads."""
        lags = {}
        for group, topics in GROUP_TOPICS.items():
            partitions = [TopicPartition(topic.name, p) for topic in topics for p in range(topic.partitions)]
            ends = await self._offsets.end_offsets(partitions)
            committed = await self._admin.list_consumer_group_offsets(group, partitions=partitions)
            lags[group] = sum(
                max(ends[tp] - max(committed[tp].offset if tp in committed else 0, 0), 0) for tp in partitions
            )
        return lags

    async def settle(self, within: float) -> dict[str, object]:
        """Wait until every outbox is published and every group has caught up, for `within` seconds at most."""
        started = time.perf_counter()
        while True:
            backlog = sum((await self.backlogs()).values())
            lag = sum((await self.lags()).values())
            waited = time.perf_counter() - started
            if backlog == 0 and lag == 0:
                return {"settled": True, "seconds": round(waited, 1)}
            if waited > within:
                return {"settled": False, "seconds": round(waited, 1), "outbox_backlog": backlog, "lag": lag}
            await asyncio.sleep(0.5)
