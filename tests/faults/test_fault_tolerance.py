"""Fault injection: a thousand referrals while processes are killed, the broker and Temporal restart,
warrants is unreachable, events arrive twice, late and out of order, and poison lands on every topic.
At the end, the promises are checked through the public APIs, the topics and the stores.

What each fault exercises and the recovery times measured are in docs/reliability.md. Sizes come
from DIVERT_FAULTS_REFERRALS (default 1000) and DIVERT_FAULTS_SECONDS (the load phase, 120).
"""

import asyncio
import itertools
import json
import os
import sqlite3
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from prometheus_client.parser import text_string_to_metric_families
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import Client

from divert_contracts import codec, dataplane
from divert_contracts.examples import EXAMPLES
from divert_contracts.topics import ALL_TOPICS, by_name
from divert_local.stack import Stack
from divert_platform.auth import Role, mint_token
from divert_platform.kafka import ensure_topics
from divert_platform.settings import DEFAULT_CASE_AGENCIES, ServiceSettings

REFERRALS = int(os.environ.get("DIVERT_FAULTS_REFERRALS", "1000"))
LOAD_SECONDS = float(os.environ.get("DIVERT_FAULTS_SECONDS", "120"))
JURISDICTIONS = ("king-county", "santa-fe", "albany")
PATHWAYS = {
    "king-county": ("arrest_diversion", "social_contact"),
    "santa-fe": ("arrest_diversion",),
    "albany": ("arrest_diversion", "social_contact"),
}
OFFENSES = {"king-county": "trespass", "santa-fe": "shoplifting", "albany": "trespass", "demo": "trespass"}
# What declines a referral meant to be declined, by how each version in force judges convictions:
# King County's and Santa Fe's compute them from `prior_convictions`, Albany's reads none (a person
# exploiting minors is declined there), demo's reads the officer's `disqualifying_convictions`.
ROBBERY = {"prior_convictions": [{"category": "robbery", "convicted_on": "2019-05-01"}]}
DECLINED_BY = {
    "king-county": ROBBERY,
    "santa-fe": ROBBERY,
    "albany": {"exploits_minors": True},
    "demo": {"disqualifying_convictions": ["assault_1"]},
}

# Which consumer groups read which topic (as contracts/ declares it), and the event types each
# applies (the rest it skips).
READERS = {
    topic.name: tuple(entry.consumer_group for entry in dataplane.SERVICES if topic in entry.consumes)
    for topic in ALL_TOPICS
}
APPLIES = {
    "divert-intake": {
        "referral.accepted",
        "referral.approval_requested",
        "referral.withdrawn",
        "referral.deadline_extended",
        "case_milestone.opened",
        "case_milestone.assessed",
        "case_milestone.enrolled",
        "warrant.requested",
        "warrant.request_rescinded",
    },
    "divert-assessment": {"referral.accepted", "referral.deadline_extended", "referral.assessment_due_soon"},
    "divert-warrants": {
        "referral.accepted",
        "referral.deadline_extended",
        "referral.assessment_deadline_lapsed",
        "referral.withdrawn",
        "case_milestone.assessed",
    },
    "divert-directory": {
        "case.opened",
        "case.assessment_completed",
        "case.consent_recorded",
        "case.consent_revoked",
        "case.closed",
        "case.reopened",
    },
}
PUBLISHES = {entry.name: tuple(topic.name for topic in entry.produces) for entry in dataplane.SERVICES}


@dataclass
class Referral:
    """One referral of the workload and what the workload did to it."""

    index: int
    jurisdiction: str
    pathway: str
    eligible: bool
    plan: str
    """assess | extend | withdraw | withdraw_after_lapse | lapse | none"""
    referral_id: str | None = None
    accepted: bool = False
    gated: bool = False
    """It waited at its policy's approval gate (King County's, Santa Fe's) for the approver."""
    due: datetime | None = None
    assessed_at: datetime | None = None
    withdrawn_at: datetime | None = None

    @property
    def arrest(self) -> bool:
        return self.pathway == "arrest_diversion"

    @property
    def assessed_on_time(self) -> bool:
        return self.assessed_at is not None and (self.due is None or self.assessed_at <= self.due)


def plan_workload(count: int) -> list[Referral]:
    """A deterministic mix over every jurisdiction and pathway. Every tenth referral is a `demo` one
    (a 20-second window), so its arrest diversions lapse during the run unless assessed or withdrawn."""
    referrals = []
    for index in range(count):
        eligible = index % 17 != 5  # the rest are declined by their screening (DECLINED_BY)
        if index % 10 == 0:
            number = index // 10
            if number % 5 == 4:
                pathway, plan = ("social_contact", "community")[number // 5 % 2], "none"
            else:
                pathway, plan = "arrest_diversion", ("lapse", "assess", "withdraw", "withdraw_after_lapse")[number % 5]
            referrals.append(Referral(index, "demo", pathway, eligible, plan if eligible else "none"))
            continue
        jurisdiction = JURISDICTIONS[index % 3]
        options = PATHWAYS[jurisdiction]
        pathway = options[index // 3 % len(options)]
        plan = ("assess", "none", "extend", "assess", "withdraw", "none")[index % 6]
        if plan == "extend" and pathway != "arrest_diversion":
            plan = "none"
        referrals.append(Referral(index, jurisdiction, pathway, eligible, plan if eligible else "none"))
    return referrals


def referral_body(referral: Referral) -> dict[str, Any]:
    j = referral.jurisdiction
    return {
        "jurisdiction": j,
        "pathway": referral.pathway,
        "referred_at": datetime.now(UTC).isoformat(),
        "rms": {"agency": f"{j}-pd", "case_number": f"F-{referral.index}-{uuid4().hex[:6]}", "officer_id": "0042"},
        "subject": {"given_name": f"Person{referral.index}", "family_name": "Faultline", "date_of_birth": "1980-02-02"},
        "location": {"precinct": "North"},
        "offense": {"category": OFFENSES[j]},
        "screening": {
            "amenable": True,
            "dealing_for_profit": False,
            "exploits_minors": False,
            "promotes_prostitution": False,
            "disqualifying_convictions": [],
            "on_state_probation": False,
            "in_treatment_court": False,
            "no_contact_order_with_participant": False,
            "prior_involvement_documented_on": (datetime.now(UTC) - timedelta(days=30)).date().isoformat(),
        }
        | ({} if referral.eligible else DECLINED_BY[j]),
        "contact_drivers": ["drug_use"],
    }


class Tokens:
    """`Authorization` headers of the people who act: officers, case managers, program managers."""

    def __init__(self) -> None:
        self._settings = ServiceSettings()
        self._cache: dict[tuple[str, str], dict[str, str]] = {}

    def officer(self, jurisdiction: str) -> dict[str, str]:
        return self._headers("officer", jurisdiction, agency=f"{jurisdiction}-pd", scope=jurisdiction)

    def case_manager(self, jurisdiction: str) -> dict[str, str]:
        return self._headers("case_manager", jurisdiction, agency=DEFAULT_CASE_AGENCIES[jurisdiction])

    def program_manager(self, jurisdiction: str) -> dict[str, str]:
        return self._headers("program_manager", jurisdiction, scope=jurisdiction)

    def prosecutor(self, jurisdiction: str) -> dict[str, str]:
        return self._headers("prosecutor", jurisdiction, scope=jurisdiction)

    def _headers(self, role: Role, of: str, *, agency: str | None = None, scope: str | None = None) -> dict[str, str]:
        if (role, of) not in self._cache:
            token = mint_token(
                self._settings,
                subject=f"{role}-{of}",
                role=role,
                agency=agency,
                jurisdiction=scope,
                lifetime=timedelta(hours=2),
            )
            self._cache[(role, of)] = {"Authorization": f"Bearer {token}"}
        return self._cache[(role, of)]


async def insist(
    http: httpx.AsyncClient, method: str, url: str, *, within: float = 180, **kwargs: Any
) -> httpx.Response:
    """Send until the service answers something other than a 5xx or a dropped connection: the
    processes behind it are being killed. Repeats are safe: POSTs carry an Idempotency-Key or are
    state changes that refuse to happen twice (409)."""
    deadline = time.monotonic() + within
    while True:
        try:
            response = await http.request(method, url, **kwargs)
            if response.status_code < 500:
                return response
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{method} {url} kept failing for {within:.0f}s")
        await asyncio.sleep(0.5)


@dataclass
class Timeline:
    """When each fault happened and how long its part of the system took to serve again."""

    started: float = field(default_factory=time.monotonic)
    faults: list[dict[str, Any]] = field(default_factory=list)

    def note(self, fault: str, seconds_to_recover: float | None = None, **detail: Any) -> None:
        at = round(time.monotonic() - self.started, 1)
        recovered = None if seconds_to_recover is None else round(seconds_to_recover, 2)
        self.faults.append({"at_s": at, "fault": fault, "recovery_s": recovered, **detail})


async def until(what: str, check: Callable[[], Awaitable[bool]], *, within: float) -> float:
    """Await `check()` until true; returns the seconds it took."""
    began = time.monotonic()
    async with asyncio.timeout(within):
        while not await check():  # noqa: ASYNC110 - polling public interfaces is the point
            await asyncio.sleep(0.25)
    return time.monotonic() - began


async def metrics_of(stack: Stack, names: list[str] | None = None) -> dict[str, Counter[str]]:
    """Each process's metric totals by sample name (labels summed); {} for a process not answering."""
    pages: dict[str, Counter[str]] = {}
    async with httpx.AsyncClient(timeout=3) as http:
        for name in names or list(stack.metrics_ports):
            try:
                text = (await http.get(f"http://127.0.0.1:{stack.metrics_ports[name]}/metrics")).text
            except httpx.HTTPError:
                continue
            totals: Counter[str] = Counter()
            for family in text_string_to_metric_families(text):
                for sample in family.samples:
                    totals[sample.name] += sample.value
            pages[name] = totals
    return pages


async def serving(stack: Stack, process: str) -> bool:
    """The process answers on its metrics port (APIs also on /readyz)."""
    async with httpx.AsyncClient(timeout=2) as http:
        try:
            await http.get(f"http://127.0.0.1:{stack.metrics_ports[process]}/metrics")
            if process in stack.hosts_of("api"):
                return (await http.get(f"{stack.url(stack.service_of(process))}/readyz")).status_code == 200
            return True
        except httpx.HTTPError:
            return False


async def caught_up(stack: Stack) -> bool:
    """Every relay's outbox is empty and every consumer group has read to the end."""
    pages = await metrics_of(stack)
    if len(pages) != len(stack.metrics_ports):
        return False
    relays = [p for p in pages if p in stack.hosts_of("relay")]
    consumers = [p for p in pages if p in stack.hosts_of("consumer")]
    return all(pages[p]["divert_outbox_backlog"] == 0 for p in relays) and all(
        "divert_consumer_lag" in pages[p] and pages[p]["divert_consumer_lag"] == 0 for p in consumers
    )


async def inject_faults(
    stack: Stack, timeline: Timeline, poison_keys: dict[str, str], forged: dict[str, list[str]]
) -> None:
    """The fault schedule, spread over the load phase. Each fault names a role; in the combined
    layout the whole process of its service suffers it (pausing assessment's relay freezes
    assessment's API and consumer too). Every Divert process is killed at least once."""
    step = LOAD_SECONDS / 12
    warrants_api, assessment_relay = stack.host("warrants", "api"), stack.host("assessment", "relay")
    rotation = [p for p in stack.process_names() if p not in (warrants_api, assessment_relay)]
    killed = iter(rotation)

    async def kill_next(count: int) -> None:
        for name in itertools.islice(killed, count):
            stack.kill(name)
            await asyncio.sleep(0.5)
            stack.start_again(name)
            timeline.note(f"kill -9 {name}", await until(name, lambda n=name: serving(stack, n), within=60))

    await asyncio.sleep(step)
    await kill_next(3)
    stack.kill(assessment_relay)  # between publish and commit, perhaps: the batch is re-sent
    stack.start_again(assessment_relay)
    timeline.note(
        f"kill -9 {assessment_relay}", await until("relay", lambda: serving(stack, assessment_relay), within=60)
    )

    await asyncio.sleep(step)
    # The broker comes back with its topics, empty, before any Divert process can reach it: they are
    # frozen meanwhile. Tansu takes a produce to a topic it does not have (a relay's batch in flight
    # when it died) and stores it where the re-created topic's first batch goes; the next write there
    # fails, and a batch it acknowledged after that was never readable (two of three runs of the
    # combined layout lost records so; docs/reliability.md). Kafka refuses such a produce. The relays
    # must still notice that the broker lost their records, and re-publish them.
    divert = stack.process_names()
    for name in divert:
        stack.pause(name)
    stack.kill("broker")  # memory storage: every topic, record and committed offset is gone
    stack.start_again("broker")
    await ensure_topics(stack.kafka_bootstrap, ALL_TOPICS)
    for name in divert:
        stack.resume(name)
    began = time.monotonic()
    await until("topics replayed", lambda: _replayed(stack), within=120)
    timeline.note("broker restart: relays noticed and re-published", time.monotonic() - began)
    await until("consumers caught up", lambda: _consumers_within(stack, 25), within=180)
    timeline.note("broker restart: consumers re-read and caught up", time.monotonic() - began)

    await asyncio.sleep(2)
    await poison_every_topic(stack, poison_keys, forged)
    timeline.note("poison message on every topic")
    await kill_next(3)

    await asyncio.sleep(step)
    for service in ("intake", "assessment"):
        since = (datetime.now(UTC) - timedelta(seconds=step)).isoformat()
        printed = await asyncio.to_thread(stack.command, service, "replay", "--since", since)
        timeline.note(f"duplicates: divert-{service} replay --since <{step:.0f}s ago>", detail=printed.strip())

    stack.kill("temporal")
    stack.start_again("temporal")
    timeline.note(
        "Temporal restart (SQLite file)",
        await until("intake ready", lambda: serving(stack, stack.host("intake", "api")), within=90),
    )
    await kill_next(3)

    await asyncio.sleep(step)
    stack.kill(warrants_api)  # lapses in this window reach warrants only after it is back
    stack.pause(assessment_relay)  # assessments completed now reach intake and warrants late
    await asyncio.sleep(2 * step)
    stack.start_again(warrants_api)
    timeline.note(
        f"warrants unreachable for {2 * step:.0f}s",
        await until("warrants ready", lambda: serving(stack, warrants_api), within=60),
    )
    stack.resume(assessment_relay)
    timeline.note(f"assessment relay frozen for {2 * step:.0f}s (late, out-of-order case events)")
    await kill_next(len(rotation))


async def _replayed(stack: Stack) -> bool:
    """Intake's and assessment's relays noticed the lost topics and marked their rows again."""
    pages = await metrics_of(stack, [stack.host("intake", "relay"), stack.host("assessment", "relay")])
    return len(pages) == 2 and all(page["divert_outbox_replayed_total"] > 0 for page in pages.values())


async def _consumers_within(stack: Stack, records: int) -> bool:
    """Every consumer group is back within a few records of the end (the load goes on meanwhile)."""
    consumers = stack.hosts_of("consumer")
    pages = await metrics_of(stack, consumers)
    return len(pages) == len(consumers) and all(
        "divert_consumer_lag" in page and page["divert_consumer_lag"] <= records for page in pages.values()
    )


async def poison_every_topic(stack: Stack, keys: dict[str, str], forged: dict[str, list[str]]) -> None:
    """An undecodable record on every topic, and on every topic something reads, two forgeries:
    an event the topic carries under another service's source, and a type the topic never carries
    under its own producer's source (each keyed by a referral id of its own, noted in `forged`)."""
    # The broker restart emptied the broker, and a topic nobody wrote to since comes back only when
    # its relay first sends to it (no client makes the broker create one: the poisoner waits too).
    # Create them as deploy/ does in production, with their declared partitions.
    await ensure_topics(stack.kafka_bootstrap, ALL_TOPICS, dead_letters=False)
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap)
    await producer.start()
    try:
        for topic in READERS:
            keys[topic] = f"poison-{uuid4()}"
            await producer.send_and_wait(topic, value=b"\x00 not an event", key=keys[topic].encode())
        for topic, readers in READERS.items():
            if not readers:
                continue
            carried = next(event for event in EXAMPLES if event.topic == topic)
            foreign = next(event for event in EXAMPLES if event.topic != topic)
            declared = by_name(topic)
            for event, source in ((carried, "/divert/forger"), (foreign, declared.source)):
                planted = event.model_copy(update={"referral_id": uuid4()})
                message = codec.encode(
                    event_id=str(uuid4()),
                    source=source,
                    event_type=planted.event_type,
                    subject=planted.cloudevent_subject,
                    time=datetime.now(UTC),
                    key=planted.partition_key,
                    data=planted.model_dump(mode="json"),
                )
                key = str(message.key)
                forged[topic].append(key)
                headers = list(message.headers.items())
                await producer.send_and_wait(topic, value=message.value, key=key.encode(), headers=headers)
    finally:
        await producer.stop()


async def drive(referral: Referral, http: httpx.AsyncClient, stack: Stack, tokens: Tokens, start_at: float) -> None:
    """Submit one referral at its time, then do what its plan says, retrying through the faults."""
    await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    j = referral.jurisdiction
    intake, assessment = stack.url("intake"), stack.url("assessment")
    headers = {**tokens.officer(j), "Idempotency-Key": f"faults-{referral.index}"}
    body = referral_body(referral)
    response = await insist(http, "POST", f"{intake}/v1/referrals", json=body, headers=headers)
    assert response.status_code in (200, 201), response.text
    submitted = response.json()
    referral.referral_id = submitted["referral_id"]
    referral.accepted = submitted["decision"]["eligible"]
    if submitted["status"] == "pending_approval":
        submitted = await approve_as_recommended(referral, submitted, http, stack, tokens)
    due = submitted.get("assessment_due_by")
    referral.due = datetime.fromisoformat(due) if due else None
    if not referral.accepted or referral.plan in ("none", "lapse"):
        return
    rid = referral.referral_id
    if referral.plan in ("withdraw", "withdraw_after_lapse", "extend"):
        if referral.plan == "withdraw_after_lapse" and referral.due:
            await asyncio.sleep(max(0.0, (referral.due - datetime.now(UTC)).total_seconds() + 5))
        if referral.plan == "extend":
            assert referral.due is not None
            new_due = (referral.due + timedelta(days=7)).isoformat()
            url, json_body = f"{intake}/v1/referrals/{rid}/extension", {"assessment_due_by": new_due, "reason": "x"}
            response = await insist(http, "POST", url, json=json_body, headers=tokens.program_manager(j))
            assert response.status_code in (200, 409), response.text
            return
        at = datetime.now(UTC)
        url = f"{intake}/v1/referrals/{rid}/withdrawal"
        response = await insist(http, "POST", url, json={"reason": "fault suite"}, headers=tokens.officer(j))
        assert response.status_code in (200, 409), response.text
        if referral.withdrawn_at is None:  # 409: an earlier attempt, cut off by a fault, got through
            referral.withdrawn_at = at
        return
    # plan == "assess": once the case is open at the case agency (it arrives through Kafka).
    case_url = f"{assessment}/v1/cases/{rid}"
    async with asyncio.timeout(240):
        while (await insist(http, "GET", case_url, headers=tokens.case_manager(j))).status_code != 200:  # noqa: ASYNC110
            await asyncio.sleep(0.5)
    completed_at = datetime.now(UTC)
    needs = [{"domain": "housing", "priority": 1}]
    json_body = {"completed_at": completed_at.isoformat(), "case_manager_id": "cm-faults", "needs": needs}
    response = await insist(http, "POST", f"{case_url}/assessment", json=json_body, headers=tokens.case_manager(j))
    assert response.status_code in (201, 409), response.text
    referral.assessed_at = completed_at  # 409: an earlier attempt with this same body got through


APPROVERS = {"king-county": Tokens.program_manager, "santa-fe": Tokens.prosecutor}


async def approve_as_recommended(
    referral: Referral, waiting: dict[str, Any], http: httpx.AsyncClient, stack: Stack, tokens: Tokens
) -> dict[str, Any]:
    """The approver's decision on a referral waiting at its gate, through the faults: approve what
    the rules recommend, deny the rest. Its status after the decision (the retry of a decision that
    got through answers the same, from the idempotency store)."""
    referral.gated = True
    rid, j = waiting["referral_id"], referral.jurisdiction
    decision = (
        {"decision": "approve", "reason_code": "meets_criteria"}
        if referral.accepted
        else {"decision": "deny", "reason_code": "criminal_history"}
    )
    headers = {**APPROVERS[j](tokens, j), "Idempotency-Key": f"faults-approval-{referral.index}"}
    url = f"{stack.url('intake')}/v1/referrals/{rid}/approval"
    response = await insist(http, "POST", url, json=decision, headers=headers)
    assert response.status_code == 200, response.text
    decided: dict[str, Any] = response.json()
    assert decided["status"] == ("accepted" if referral.accepted else "declined"), decided
    return decided


async def read_topics(bootstrap: str, names: set[str]) -> list[ConsumerRecord]:
    """Every record now on these topics, from the partitions the broker has (no group). A broker
    that lost its topics may have re-created one on a client's request with its own partition count."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics()  # all of them: naming one could create it
    finally:
        await admin.close()
    partitions = [
        TopicPartition(topic["topic"], partition["partition"])
        for topic in described
        if topic["topic"] in names and topic["error_code"] == 0
        for partition in topic["partitions"]
    ]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: list[ConsumerRecord] = []
        async with asyncio.timeout(60):
            while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
                batches = await consumer.getmany(timeout_ms=500)
                records += [r for batch in batches.values() for r in batch]
        return records
    finally:
        await consumer.stop()


def short_type(record: ConsumerRecord) -> str | None:
    """`referral.accepted` for `org.divert.referral.accepted.v1`."""
    raw = dict(record.headers).get("ce_type")
    return raw.decode().removeprefix("org.divert.").rsplit(".v", 1)[0] if raw else None


def rows(db: Path, query: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
        return connection.execute(query).fetchall()


async def test_nothing_is_lost_or_applied_twice_and_nobody_is_wrongly_reported_under_faults(stack: Stack) -> None:
    tokens, timeline, poison_keys = Tokens(), Timeline(), {}
    forged: dict[str, list[str]] = defaultdict(list)
    referrals = plan_workload(REFERRALS)
    start = time.monotonic()
    limits = httpx.Limits(max_connections=16)
    async with httpx.AsyncClient(timeout=15, limits=limits) as http:
        faults = asyncio.create_task(inject_faults(stack, timeline, poison_keys, forged))
        spacing = LOAD_SECONDS / len(referrals)
        await asyncio.gather(*(drive(r, http, stack, tokens, start + i * spacing) for i, r in enumerate(referrals)))
        await faults
    load_done = time.monotonic()
    timeline.note("load finished", detail=f"{len(referrals)} referrals in {load_done - start:.0f}s")

    temporal = await Client.connect(stack.temporal_address)
    lapsing = [r for r in referrals if r.accepted and r.jurisdiction == "demo" and r.arrest]

    async def settled() -> bool:
        for referral in lapsing:
            description = await temporal.get_workflow_handle(f"referral-deadline-{referral.referral_id}").describe()
            if description.status is None or description.status.name == "RUNNING":
                return False
        return await caught_up(stack)

    timeline.note("caught up after the load", await until("settled", settled, within=300))
    report = stack.data_dir / "fault-timeline.json"
    report.write_text(json.dumps(timeline.faults, indent=2))
    print(json.dumps(timeline.faults, indent=2))  # the recovery times, for docs/reliability.md

    accepted = [r for r in referrals if r.accepted]
    assert all(r.referral_id for r in referrals)
    assert len({r.referral_id for r in referrals}) == len(referrals)  # retried POSTs made no second referral
    assert {r.accepted for r in referrals} == {True, False}

    records = await read_topics(stack.kafka_bootstrap, {n for t in ALL_TOPICS for n in (t.name, t.dead_letter.name)})
    forgeries = {key for keys in forged.values() for key in keys}
    genuine = [record for record in records if record.key is None or record.key.decode() not in forgeries]
    by_type: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for record in genuine:
        if (kind := short_type(record)) is not None:
            by_type[kind][record.key.decode()].add(dict(record.headers)["ce_id"].decode())

    # Index the topics: every event's id, type and topic (dead-letter topics aside).
    on_topic: dict[str, set[str]] = defaultdict(set)
    types_of: dict[str, str] = {}
    for record in genuine:
        if (kind := short_type(record)) is not None and not record.topic.endswith(".dlq"):
            ce_id = dict(record.headers)["ce_id"].decode()
            on_topic[record.topic].add(ce_id)
            types_of[ce_id] = kind

    def inbox_of(service: str) -> list[str]:
        query = f"SELECT event_id FROM inbox WHERE consumer = 'divert-{service}'"
        return [event_id for (event_id,) in rows(stack.data_dir / f"{service}.db", query)]

    expected_inbox = {
        service: {
            ce_id
            for topic, readers in READERS.items()
            if f"divert-{service}" in readers
            for ce_id in on_topic[topic]
            if types_of[ce_id] in APPLIES[f"divert-{service}"]
        }
        for service in ("intake", "assessment", "warrants", "directory")
    }
    # A consumer restarted by the last fault may still be re-joining when the metrics look settled:
    # wait (90 s at most) until every group has applied what the topics hold, then check it all.
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and any(  # noqa: ASYNC110 - polling the stores
        not expected <= set(inbox_of(service)) for service, expected in expected_inbox.items()
    ):
        await asyncio.sleep(1)

    # Every accepted referral has exactly one case (one case.opened, whatever its re-deliveries).
    assert {rid: len(ids) for rid, ids in by_type["case.opened"].items()} == {r.referral_id: 1 for r in accepted}
    async with httpx.AsyncClient(timeout=15) as http:
        for referral in accepted[:: max(1, len(accepted) // 100)]:
            case = await http.get(
                f"{stack.url('assessment')}/v1/cases/{referral.referral_id}",
                headers=tokens.case_manager(referral.jurisdiction),
            )
            assert case.status_code == 200

    # Every arrest diversion has exactly one deadline workflow, started once.
    runs: Counter[str] = Counter()
    async for execution in temporal.list_workflows('WorkflowType="ReferralDeadlineWorkflow"'):
        runs[execution.id] += 1
    assert runs == Counter({f"referral-deadline-{r.referral_id}": 1 for r in accepted if r.arrest})
    # A referral that waited at an approval gate has at most one approval timer (none when its
    # decision reached intake before `referral.approval_requested` reached the consumer, as the
    # approver here decides at once), none other has one, and each has exactly one outcome.
    timers: Counter[str] = Counter()
    async for execution in temporal.list_workflows('WorkflowType="ReferralApprovalWorkflow"'):
        timers[execution.id] += 1
    gated = [r for r in referrals if r.gated]
    assert {r.jurisdiction for r in gated} == {"king-county", "santa-fe"}
    assert set(timers) <= {f"referral-approval-{r.referral_id}" for r in gated} and set(timers.values()) <= {1}
    outcomes = {kind: by_type[f"referral.{kind}"] for kind in ("accepted", "declined")}
    assert [r for r in gated if sum(len(found.get(r.referral_id, ())) for found in outcomes.values()) != 1] == []

    # Each lapse was recorded once. A warrant request exists at most once per referral, and only
    # for a referral whose window closed without an on-time assessment; every lapse of a referral
    # neither withdrawn nor assessed on time has its request standing; none stands for the others
    # (a withdrawal or on-time assessment that intake heard of first means none is ever made).
    lapsed = {rid for rid, ids in by_type["referral.assessment_deadline_lapsed"].items() if len(ids) == 1}
    assert set(by_type["referral.assessment_deadline_lapsed"]) == lapsed  # never two lapse events
    requested = {rid: len(ids) for rid, ids in by_type["warrant.requested"].items()}
    assert set(requested.values()) <= {1}
    wrongful, missing = [], []
    async with httpx.AsyncClient(timeout=15) as http:
        for referral in lapsing:
            listed = await http.get(
                f"{stack.url('warrants')}/v1/warrant-requests",
                params={"referral_id": referral.referral_id},
                headers=tokens.program_manager("demo"),
            )
            items = listed.json()["items"]
            assert len(items) == requested.get(referral.referral_id, 0) <= 1, referral
            settled = referral.assessed_on_time or referral.withdrawn_at is not None
            if items and not settled:
                assert referral.due is not None and datetime.now(UTC) > referral.due, referral
            if items and items[0]["status"] != "rescinded" and settled:
                wrongful.append(referral)
            if referral.referral_id in lapsed and not settled and not (items and items[0]["status"] == "requested"):
                missing.append(referral)  # the promise to the court: the window closed, unassessed
    assert (wrongful, missing) == ([], [])
    assert set(requested) <= {r.referral_id for r in lapsing}  # only demo windows closed during the run
    assert any(r.plan == "lapse" for r in lapsing) and lapsed and requested  # the run did exercise lapses

    # Event stores, topics and inboxes reconcile: every outbox row is on its topic, every event a
    # consumer applies is in its inbox once, and the inbox holds nothing that is not on a topic.
    for service, topics in PUBLISHES.items():
        published = {event_id for (event_id,) in rows(stack.data_dir / f"{service}.db", "SELECT event_id FROM outbox")}
        assert published == set().union(*(on_topic[topic] for topic in topics)), service
    for service, expected in expected_inbox.items():
        inbox = inbox_of(service)
        assert len(inbox) == len(set(inbox))
        missing_detail = [
            (r.topic, r.partition, r.offset, short_type(r))
            for r in records
            if dict(r.headers).get("ce_id", b"").decode() in expected - set(inbox)
        ]
        assert set(inbox) == expected, (service, missing_detail)

    # The dead-letter topics hold the poison messages and the forgeries, once per consumer group that
    # read them, and nothing else; each forgery with the provenance reason, and none was applied.
    dead = [
        (dict(r.headers)["divert_dlq_topic"].decode(), r.key.decode(), dict(r.headers)["divert_dlq_consumer"].decode())
        for r in records
        if r.topic.endswith(".dlq")
    ]
    assert sorted(set(dead)) == sorted(
        (topic, key, group)
        for topic, groups in READERS.items()
        for group in groups
        for key in (poison_keys[topic], *forged[topic])
    )
    refused = [
        dict(r.headers)["divert_dlq_error"].decode()
        for r in records
        if r.topic.endswith(".dlq") and r.key and r.key.decode() in forgeries
    ]
    assert refused and all(reason.startswith("provenance: ") for reason in refused)
    await replay_after_retention(stack, temporal, [r for r in lapsing if r.referral_id], tokens)
    forged_ids = {dict(r.headers)["ce_id"].decode() for r in records if r.key and r.key.decode() in forgeries}
    for service in ("intake", "assessment", "warrants", "directory"):
        applied = {event_id for (event_id,) in rows(stack.data_dir / f"{service}.db", "SELECT event_id FROM inbox")}
        assert not applied & forged_ids, service
    assert stack.dead() == []


async def replay_after_retention(stack: Stack, temporal: Client, finished: list[Referral], tokens: Tokens) -> None:
    """Temporal drops finished workflows after the namespace's retention; a re-read of
    `divert.referrals` (the relays re-publish whole topics after the embedded broker restarts)
    must not start them again. Delete the finished deadlines, replay intake's outbox, and check
    that no deadline came back and no warrant request changed."""
    ids = [f"referral-deadline-{referral.referral_id}" for referral in finished]

    async def requests() -> list[dict[str, Any]]:
        async with httpx.AsyncClient(timeout=15) as http:
            listed = await http.get(
                f"{stack.url('warrants')}/v1/warrant-requests",
                params={"limit": 1000},
                headers=tokens.program_manager("demo"),
            )
        return sorted(listed.json()["items"], key=lambda item: item["warrant_request_id"])

    before = await requests()
    for workflow_id in ids:
        await temporal.workflow_service.delete_workflow_execution(
            DeleteWorkflowExecutionRequest(
                namespace="default", workflow_execution=WorkflowExecution(workflow_id=workflow_id)
            )
        )

    async def gone() -> bool:
        return not [execution async for execution in temporal.list_workflows(_any_of(ids))]

    await until("finished deadlines deleted", gone, within=120)
    stack.command("intake", "replay", "--topic", "divert.referrals")
    await asyncio.sleep(5)  # the relay's next poll marks and sends them again
    await until("replay applied", partial(caught_up, stack), within=300)
    revived = [execution.id async for execution in temporal.list_workflows(_any_of(ids))]
    assert revived == []
    assert await requests() == before


def _any_of(workflow_ids: list[str]) -> str:
    return " OR ".join(f'WorkflowId="{workflow_id}"' for workflow_id in workflow_ids)
