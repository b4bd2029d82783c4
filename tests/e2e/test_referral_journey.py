"""One referral's whole journey through the real system, seen only through public interfaces.

The whole embedded stack runs as processes on free ports (Tansu broker, Temporal dev server on a
SQLite file, all four services with their relays, consumers and the intake worker). The test
speaks REST, reads the topics with a plain aiokafka consumer, and asks Temporal directly.
"""

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import httpx
import pytest_asyncio
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from divert_local.journey import RoleTokens, assessment_of, demo_referral
from divert_local.stack import Stack
from divert_platform.trace_view import load_spans

TOPICS = ["divert.referrals", "divert.cases", "divert.warrants", "divert.cases.dlq"]


class TopicReader:
    """Collects every record of Divert's topics, from the beginning, in the background."""

    def __init__(self, bootstrap: str) -> None:
        self.records: list[ConsumerRecord] = []
        self._consumer = AIOKafkaConsumer(
            *TOPICS,
            bootstrap_servers=bootstrap,
            group_id=f"e2e-{uuid4()}",
            auto_offset_reset="earliest",
            metadata_max_age_ms=1000,
        )
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> "TopicReader":
        await self._consumer.start()
        self._task = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await self._consumer.stop()

    async def _read(self) -> None:
        while True:
            batches = await self._consumer.getmany(timeout_ms=300)
            self.records += [record for records in batches.values() for record in records]

    def of(self, topic: str, key: str, event_type: str | None = None) -> list[ConsumerRecord]:
        return [
            r
            for r in self.records
            if r.topic == topic
            and r.key == key.encode()
            and (event_type is None or dict(r.headers).get("ce_type") == event_type.encode())
        ]


@pytest_asyncio.fixture(loop_scope="session")
async def topics(stack: Stack) -> AsyncIterator[TopicReader]:
    async with TopicReader(stack.kafka_bootstrap) as reader:
        yield reader


async def eventually(what: str, probe, within: float = 60.0):
    """Await `probe()` until it returns something truthy."""
    async with asyncio.timeout(within):
        while not (result := await probe()):  # noqa: ASYNC110 - polling public interfaces is the point
            await asyncio.sleep(0.3)
    assert result, what
    return result


async def test_two_demo_referrals_one_assessed_in_time_one_lapsed(stack: Stack, topics: TopicReader) -> None:
    temporal = await Client.connect(stack.temporal_address, data_converter=pydantic_data_converter)
    intake, assessment, warrants = stack.url("intake"), stack.url("assessment"), stack.url("warrants")
    async with httpx.AsyncClient(timeout=10, auth=_tokens(stack)) as http:
        # 1. The RMS refers three people under the demo policy (a window of seconds).
        ids = {}
        for name in ("Avery", "Blake", "Carey"):
            response = await http.post(
                f"{intake}/v1/referrals", json=demo_referral(name), headers={"Idempotency-Key": str(uuid4())}
            )
            assert response.status_code == 201, response.text
            assert response.json()["status"] == "accepted"
            ids[name] = response.json()["referral_id"]
        avery, blake, carey = ids["Avery"], ids["Blake"], ids["Carey"]

        # 2. referral.accepted reaches the topic as a binary-mode CloudEvent keyed by the referral id.
        for referral_id in (avery, blake):
            [accepted] = await eventually(
                "referral.accepted",
                _async(lambda rid=referral_id: topics.of("divert.referrals", rid, "org.divert.referral.accepted.v1")),
            )
            headers = {k: v.decode() for k, v in accepted.headers}
            assert headers["ce_specversion"] == "1.0" and headers["ce_source"] == "/divert/intake"
            assert headers["ce_subject"] == f"referrals/{referral_id}" and "traceparent" in headers
            assert "screening" not in json.loads(accepted.value)

        # 3. The case agency has a case for each; each has one running deadline workflow.
        for referral_id in (avery, blake):
            case = await eventually("case opened", lambda rid=referral_id: _json(http, f"{assessment}/v1/cases/{rid}"))
            assert case["status"] == "pending_assessment"
            handle = temporal.get_workflow_handle(f"referral-deadline-{referral_id}")
            await eventually("workflow started", lambda h=handle: _exists(h))

        # 4. A poison message on divert.cases is dead-lettered and consumers keep going.
        producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap)
        await producer.start()
        try:
            poison_key = str(uuid4())
            await producer.send_and_wait("divert.cases", b"{not json", key=poison_key.encode())
        finally:
            await producer.stop()
        await eventually("poison dead-lettered", _async(lambda: topics.of("divert.cases.dlq", poison_key)))

        # 5. Avery's assessment is completed in time: the clock stops, no warrant ever.
        response = await http.post(f"{assessment}/v1/cases/{avery}/assessment", json=assessment_of(datetime.now(UTC)))
        assert response.status_code == 201, response.text
        await eventually(
            "intake shows assessed", lambda: _status_is(http, f"{intake}/v1/referrals/{avery}", "assessed")
        )
        avery_result = await temporal.get_workflow_handle(f"referral-deadline-{avery}").result()
        assert avery_result["outcome"] == "assessed"
        # Our own reader of the topic may be a moment behind intake's consumer, which saw it already.
        completed = await eventually(
            "assessment_completed read",
            _async(lambda: topics.of("divert.cases", avery, "org.divert.case.assessment_completed.v1")),
        )
        assert json.loads(completed[0].value)["on_time"] is True

        # 5a. Avery enrolls; police see "enrolled: yes" and nothing of the case itself.
        response = await http.post(
            f"{assessment}/v1/cases/{avery}/enrollment", json={"enrolled_at": datetime.now(UTC).isoformat()}
        )
        assert response.status_code == 200, response.text
        police_view = await eventually(
            "police see the enrollment", lambda: _json_where(http, f"{intake}/v1/referrals/{avery}", enrolled=True)
        )
        assert police_view["assessed_on_time"] is True and "needs" not in police_view

        # 5b. Carey's referral was an officer's error: withdrawn, the clock stops, no warrant ever.
        response = await http.post(f"{intake}/v1/referrals/{carey}/withdrawal", json={"reason": "officer error"})
        assert response.status_code == 200 and response.json()["status"] == "withdrawn"
        carey_result = await temporal.get_workflow_handle(f"referral-deadline-{carey}").result()
        assert carey_result["outcome"] == "withdrawn"

        # 6. Blake's window lapses: exactly one warrant request, recorded by intake too.
        await eventually(
            "Blake lapsed", lambda: _status_is(http, f"{intake}/v1/referrals/{blake}", "lapsed"), within=90
        )
        blake_result = await temporal.get_workflow_handle(f"referral-deadline-{blake}").result()
        assert blake_result["outcome"] == "lapsed"
        listed = (await http.get(f"{warrants}/v1/warrant-requests", params={"referral_id": blake})).json()["items"]
        assert len(listed) == 1 and listed[0]["warrant_request_id"] == blake_result["warrant_request_id"]
        assert listed[0]["kind"] == "warrant_request"
        # The prosecutor's notice carries the police's own facts (from referral.accepted), never who it is.
        police = ("rms_agency", "officer_id", "offense_category", "may_file")
        assert tuple(listed[0][name] for name in police) == ("DEMO-PD", "0001", "drug_possession", True)
        assert listed[0]["rms_case_number"].startswith("D-") and listed[0]["policy_version"]
        assert "Blake" not in json.dumps(listed[0]) and "1990-01-01" not in json.dumps(listed[0])
        await eventually(
            "warrant.requested", _async(lambda: topics.of("divert.warrants", blake, "org.divert.warrant.requested.v1"))
        )
        await eventually(
            "lapse published",
            _async(lambda: topics.of("divert.referrals", blake, "org.divert.referral.assessment_deadline_lapsed.v1")),
        )
        for spared in (avery, carey):
            assert (await http.get(f"{warrants}/v1/warrant-requests", params={"referral_id": spared})).json()[
                "items"
            ] == []
            assert topics.of("divert.warrants", spared) == []
        police_view = await eventually(
            "police see the warrant request",
            lambda: _json_where(http, f"{intake}/v1/referrals/{blake}", warrant_requested=True),
        )
        assert set(police_view) == {
            "referral_id",
            "status",
            "pathway",
            "jurisdiction",
            "assessment_due_by",
            "assessed_on_time",
            "enrolled",
            "warrant_requested",
            "case_closed",
            "approval_due_by",  # null: only a referral waiting at an approval gate has one
        }

        # 6b. Blake's referral turns out to have been an officer's error: withdrawn after the lapse,
        #     the warrant request is rescinded and police no longer see one standing.
        response = await http.post(f"{intake}/v1/referrals/{blake}/withdrawal", json={"reason": "wrong person"})
        assert response.status_code == 200 and response.json()["status"] == "withdrawn"
        rescinded = await eventually(
            "warrant rescinded",
            lambda: _json_where(
                http, f"{warrants}/v1/warrant-requests/{listed[0]['warrant_request_id']}", status="rescinded"
            ),
        )
        assert rescinded["rescission_reason"] == "referral_withdrawn"
        await eventually(
            "police flag cleared", lambda: _json_where(http, f"{intake}/v1/referrals/{blake}", warrant_requested=False)
        )

        # 7. The request's trace continued through the outbox and Kafka into another service's consumer.
        accepted = topics.of("divert.referrals", avery, "org.divert.referral.accepted.v1")[0]
        trace_id = dict(accepted.headers)["traceparent"].decode().split("-")[1]
        await eventually(
            "consumer span in the request's trace",
            _async(lambda: _trace_has_consumer_span(stack.data_dir, trace_id)),
            within=30,
        )


async def test_screening_facts_are_used_then_discarded_everywhere(stack: Stack, topics: TopicReader) -> None:
    marker = f"ZZSCREENING{uuid4().hex}"
    referral = demo_referral("Dana")
    referral["screening"]["disqualifying_convictions"] = [marker]
    async with httpx.AsyncClient(timeout=10, auth=_tokens(stack)) as http:
        response = await http.post(f"{stack.url('intake')}/v1/referrals", json=referral)
    assert response.status_code == 201 and response.json()["status"] == "declined"
    declined_id = response.json()["referral_id"]
    # The officer is told which screening answer excluded the person, once; nothing keeps it.
    [told] = response.json()["decision"]["reasons"]
    assert told["code"] == "disqualifying_conviction"
    await eventually(
        "referral.declined published",
        _async(lambda: topics.of("divert.referrals", declined_id, "org.divert.referral.declined.v1")),
    )
    [declined] = topics.of("divert.referrals", declined_id, "org.divert.referral.declined.v1")
    assert [reason["code"] for reason in json.loads(declined.value)["reasons"]] == ["screening"]
    await asyncio.sleep(6)  # let batch span exporters flush what this request produced
    for secret in (marker, told["code"], told["message"]):
        assert not [r for r in topics.records if secret.encode() in (r.value or b"")], secret
        found = [p for p in stack.data_dir.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]
        assert found == [], f"{secret!r} stored in {found}"


async def test_bad_input_gets_problem_details(stack: Stack) -> None:
    async with httpx.AsyncClient(timeout=10, auth=_tokens(stack)) as http:
        response = await http.post(f"{stack.url('intake')}/v1/referrals", json={"pathway": "arrest_diversion"})
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        assert "body.jurisdiction" in [e["field"] for e in response.json()["errors"]]
        for service, path in (
            ("intake", "/v1/referrals"),
            ("assessment", "/v1/cases"),
            ("warrants", "/v1/warrant-requests"),
        ):
            missing = await http.get(f"{stack.url(service)}{path}/{uuid4()}")
            assert missing.status_code == 404, (service, missing.text)
        root = await http.get(f"{stack.url('directory')}/")
        assert root.status_code == 200 and root.json()["version"].startswith("3.0")


def _tokens(stack: Stack) -> RoleTokens:
    return RoleTokens(intake=stack.url("intake"), assessment=stack.url("assessment"), warrants=stack.url("warrants"))


def _async(probe):
    async def wrapped():
        return probe()

    return wrapped


async def _json(http: httpx.AsyncClient, url: str):
    response = await http.get(url)
    return response.json() if response.status_code == 200 else None


async def _json_where(http: httpx.AsyncClient, url: str, **expected):
    body = await _json(http, url)
    return body if body and all(body.get(k) == v for k, v in expected.items()) else None


async def _status_is(http: httpx.AsyncClient, url: str, status: str) -> bool:
    body = await _json(http, url)
    return bool(body) and body["status"] == status


async def _exists(handle) -> bool:
    try:
        await handle.describe()
        return True
    except Exception:
        return False


def _trace_has_consumer_span(data_dir: Path, trace_id: str) -> bool:
    """True when the assessment consumer exported a `process` span in this trace (whichever
    process ran it: `assessment` in `make run`'s layout, `assessment-consumer` in the split one)."""
    return any(
        span.trace_id == f"0x{trace_id}"
        and span.service == "divert-assessment/consumer"
        and span.name.startswith("process ")
        for span in load_spans(data_dir / "traces")
    )
