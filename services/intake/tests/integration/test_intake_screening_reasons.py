"""Reasons resting on screening facts reach the officer once, in the response to the submission,
and nothing else: not the event store, the outbox, the status view, the stored idempotency
responses, the audit trail, the logs, the spans or the topic. Real SQLite and PostgreSQL, the real
relay and broker, the process's real tracer provider with an in-memory exporter added."""

import asyncio
import copy
import json
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer
from alembic import command
from alembic.config import Config
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import inspect, select

from divert_contracts.topics import REFERRALS
from divert_intake.adapters import referrals as referral_projection
from divert_intake.adapters.referrals import SqlReferrals
from divert_intake.adapters.tables import referral_status
from divert_intake.bootstrap import MIGRATIONS, Intake, bootstrap
from divert_intake.config import IntakeSettings
from divert_intake.domain.eligibility import Decision
from divert_intake.domain.policy import load_policy_book
from divert_intake.entrypoints.api import build_api
from divert_platform.audit import audit_log
from divert_platform.auth import mint_token
from divert_platform.kafka import create_producer, ensure_topics
from divert_platform.relay import OutboxRelay
from divert_platform.schema import events, idempotency_keys, outbox
from divert_platform.telemetry import configure_telemetry
from divert_platform.testing import records_keyed

Headers = dict[str, str]
BOOK = load_policy_book()
KEPT = {"code": "screening", "message": "The referral did not pass the jurisdiction's screening."}
CONVICTION_FACT = "ZZ-ROBBERY-2019-MARKER"
# Prior convictions as facts with dates (the King County version of 2026-12-01 computes them): the
# category and the dates are what must be kept nowhere.
PRIOR_CONVICTIONS = [
    {"category": "assault_with_weapon", "convicted_on": "1987-03-19"},
    {"category": "domestic_violence", "convicted_on": "2015-02-11", "released_on": "2018-06-27"},
]
PRIOR_CONVICTION_FACTS = ["assault_with_weapon", "domestic_violence", "1987-03-19", "2015-02-11", "2018-06-27"]
COMPUTED_MESSAGE = (
    "The person has a disqualifying conviction: one that disqualifies at any time, "
    "or a related offense within 10 years."
)


def santa_fe_on_probation(referral: dict[str, Any]) -> dict[str, Any]:
    referral.update(jurisdiction="santa-fe", referred_at="2026-11-02T14:05:00-07:00")
    referral["rms"]["agency"] = "SFPD"
    referral["location"] = {"precinct": "Southside"}
    referral["screening"]["on_state_probation"] = True
    return referral


def king_county_with_a_conviction(referral: dict[str, Any]) -> dict[str, Any]:
    referral["screening"]["disqualifying_convictions"] = [CONVICTION_FACT]
    # An offense reason too: it is kept and published as given, beside the one screening reason.
    referral["offense"]["drug_quantity_grams"] = 3.5
    return referral


def king_county_with_prior_convictions(referral: dict[str, Any]) -> dict[str, Any]:
    referral["referred_at"] = "2026-12-02T10:00:00-08:00"  # decided by the version of 2026-12-01
    referral["screening"]["prior_convictions"] = PRIOR_CONVICTIONS
    referral["offense"]["drug_quantity_grams"] = 3.5
    return referral


CASES = [
    pytest.param(santa_fe_on_probation, ["on_state_probation"], [], id="santa-fe-state-probation"),
    pytest.param(
        king_county_with_a_conviction,
        ["disqualifying_conviction"],
        ["drug_quantity_over_limit"],
        id="king-county-conviction",
    ),
    pytest.param(
        king_county_with_prior_convictions,
        ["disqualifying_conviction"],
        ["drug_quantity_over_limit"],
        id="king-county-computed-convictions",
    ),
]


@pytest.fixture(scope="module")
def span_exporter(tmp_path_factory: pytest.TempPathFactory) -> InMemorySpanExporter:
    """Every span this process finishes from now on (the API's, the SQL statements', the relay's)."""
    provider = configure_telemetry(
        "intake-test", "test", otlp_endpoint=None, data_dir=tmp_path_factory.mktemp("traces")
    )
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


@pytest.fixture
def spans(span_exporter: InMemorySpanExporter) -> Iterator[InMemorySpanExporter]:
    span_exporter.clear()
    yield span_exporter
    span_exporter.clear()


@pytest_asyncio.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    await ensure_topics(kafka_bootstrap, [REFERRALS])
    client = create_producer(kafka_bootstrap, "intake-test")
    await client.start()
    yield client
    await client.stop()


async def stored_rows(intake: Intake) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table a referral's decision could reach."""
    tables = {"events": events, "outbox": outbox, "referral_status": referral_status}
    tables |= {"idempotency_keys": idempotency_keys, "audit_log": audit_log}
    rows: dict[str, list[dict[str, Any]]] = {}
    async with intake.sessions() as session:
        connection = await session.connection()
        for name, table in tables.items():
            # Only the columns the database has: an older revision lacks some (`closed` before 0007).
            present = await connection.run_sync(
                lambda sync, t=table: {c["name"] for c in inspect(sync).get_columns(t.name)}
            )
            query = select(*(column for column in table.c if column.name in present))
            rows[name] = [dict(row._mapping) for row in await session.execute(query)]
    return rows


def span_text(exporter: InMemorySpanExporter) -> str:
    return "\n".join(span.to_json() for span in exporter.get_finished_spans())


def log_text(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)


@pytest.mark.parametrize(("declined_as", "screening_codes", "offense_codes"), CASES)
async def test_screening_reasons_are_told_once_and_kept_nowhere(
    spans: InMemorySpanExporter,
    caplog: pytest.LogCaptureFixture,
    client: httpx.AsyncClient,
    intake: Intake,
    token: Any,
    referral_body: dict[str, Any],
    producer: AIOKafkaProducer,
    kafka_bootstrap: str,
    declined_as: Any,
    screening_codes: list[str],
    offense_codes: list[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    referral = declined_as(copy.deepcopy(referral_body))
    rms_agency, jurisdiction = referral["rms"]["agency"], referral["jurisdiction"]
    officer = {
        **token("officer", subject="officer-1", agency=rms_agency, jurisdiction=jurisdiction),
        "Idempotency-Key": "rms-1",
    }
    policy = BOOK.effective_at(referral["jurisdiction"], datetime.fromisoformat(referral["referred_at"]))
    assert policy is not None
    exclusions = {rule.code: rule.message for rule in policy.exclusions}
    if policy.convictions is not None:  # the built-in rule's sentence
        exclusions["disqualifying_conviction"] = COMPUTED_MESSAGE

    # The officer is told every reason, screening ones included, once.
    first = await client.post("/v1/referrals", json=referral, headers=officer)
    assert first.status_code == 201, first.text
    told = first.json()
    assert told["status"] == "declined"
    assert [r["code"] for r in told["decision"]["reasons"]] == offense_codes + screening_codes
    screening = [r for r in told["decision"]["reasons"] if r["code"] in screening_codes]
    assert screening == [{"code": code, "message": exclusions[code]} for code in screening_codes]
    referral_id = told["referral_id"]

    # A retry with the same key gets the answer as kept: same referral, the neutral reason.
    again = await client.post("/v1/referrals", json=referral, headers=officer)
    assert again.status_code == 201
    kept_reasons = [r for r in told["decision"]["reasons"] if r["code"] in offense_codes] + [KEPT]
    assert again.json() == {**told, "decision": {**told["decision"], "reasons": kept_reasons}}
    view = await client.get(f"/v1/referrals/{referral_id}", headers=officer)
    assert view.status_code == 200 and view.json()["status"] == "declined"

    # What the relay puts on the topic is what intake kept.
    assert await OutboxRelay(intake.sessions, producer).publish_pending() == 1
    [record] = await records_keyed(kafka_bootstrap, REFERRALS.name, referral_id, 1)
    published = json.loads(record.value)
    assert published["reasons"] == kept_reasons
    assert (published["policy"], published["policy_version"]) == (policy.id, policy.version)

    rows = await stored_rows(intake)
    [status] = rows["referral_status"]
    assert status["decision"] == {
        "eligible": False,
        "policy": policy.id,
        "policy_version": policy.version,
        "reasons": kept_reasons,
    }
    [declined] = [row for row in rows["events"] if row["event_type"] == "ReferralDeclined"]
    assert declined["data"]["reasons"] == kept_reasons
    [stored_answer] = rows["idempotency_keys"]
    assert json.loads(stored_answer["response"]) == {"referral_id": referral_id}  # ids only, never a decision
    assert rows["audit_log"], "the status read was audited (and the audit rows are searched below)"

    everywhere = {
        "stores": json.dumps(rows, default=str),
        "topic": record.value.decode(),
        "spans": span_text(spans),
        "logs": log_text(caplog),
    }
    assert everywhere["spans"], "the request's spans were exported"
    facts = [CONVICTION_FACT, *PRIOR_CONVICTION_FACTS]
    secrets = [*facts, *(text for reason in screening for text in (reason["code"], reason["message"]))]
    found = [(secret, where) for secret in secrets for where, text in everywhere.items() if secret in text]
    assert found == []


async def migrate_to(database_url: str, revision: str) -> None:
    """Apply intake's migrations up to `revision` (Alembic runs its own loop, so in a thread)."""

    def upgrade() -> None:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
        command.upgrade(config, revision)

    await asyncio.to_thread(upgrade)


async def test_screening_reasons_stored_before_0005_are_kept_as_one_by_it(
    database_url: str, referral_body: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    await migrate_to(database_url, "0004")
    parts = bootstrap(IntakeSettings(database_url=database_url, kafka_bootstrap="127.0.0.1:1"))
    minted = mint_token(parts.settings, role="officer", subject="o-1", agency="SFPD", jurisdiction="santa-fe")
    officer = {"Authorization": f"Bearer {minted}"}
    referral = santa_fe_on_probation(copy.deepcopy(referral_body))
    referral["offense"]["drug_quantity_grams"] = 7  # over Santa Fe's 6 g: an offense reason to keep
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=build_api(parts)), base_url="http://i") as http:
            with monkeypatch.context() as before_0005:  # the code before 0005 kept every reason as told
                before_0005.setattr(Decision, "kept", property(lambda decision: decision))
                before_0005.setattr(SqlReferrals, "_call_back", _no_callbacks_before_0007)
                before_0005.setattr(referral_projection, "_report_columns", _no_report_columns_before_0009)
                told = await http.post("/v1/referrals", json=referral, headers={**officer, "Idempotency-Key": "k"})
            assert told.status_code == 201, told.text
            probation = {"code": "on_state_probation", "message": exclusions_of("santa-fe")["on_state_probation"]}
            over_limit = {"code": "drug_quantity_over_limit", "message": "More than 6 g of drugs."}
            assert told.json()["decision"]["reasons"] == [over_limit, probation]
            assert probation["message"] in json.dumps(await stored_rows(parts), default=str)

            await migrate_to(database_url, "head")

            rows = await stored_rows(parts)
            assert [row["data"]["reasons"] for row in rows["events"]] == [[over_limit, KEPT]]
            assert [row["data"]["reasons"] for row in rows["outbox"]] == [[over_limit, KEPT]]
            assert [row["decision"]["reasons"] for row in rows["referral_status"]] == [[over_limit, KEPT]]
            # 0009 fills what reports read from the decision and the stored decline.
            [status] = rows["referral_status"]
            assert (status["policy_version"], status["decline_kind"], status["precinct"]) == (
                told.json()["decision"]["policy_version"],
                "ineligible",
                referral["location"]["precinct"],
            )
            # Since 0006 the key keeps the referral's id alone (test_intake_idempotency.py).
            kept_ids = [{"referral_id": told.json()["referral_id"]}]
            assert [json.loads(row["response"]) for row in rows["idempotency_keys"]] == kept_ids
            dump = json.dumps(rows, default=str)
            assert probation["code"] not in dump and probation["message"] not in dump
            again = await http.post("/v1/referrals", json=referral, headers={**officer, "Idempotency-Key": "k"})
            assert again.json()["decision"]["reasons"] == [over_limit, KEPT]
    finally:
        await parts.engine.dispose()


async def _no_callbacks_before_0007(*_: object) -> None:
    """The code before 0007 queued no status callbacks (it had no tables for them)."""


def _no_report_columns_before_0009(*_: object) -> dict[str, Any]:
    """The code before 0009 wrote no report columns (the table had none)."""
    return {}


def exclusions_of(jurisdiction: str) -> dict[str, str]:
    policy = BOOK.latest(jurisdiction)
    assert policy is not None
    return {rule.code: rule.message for rule in policy.exclusions}


@pytest.mark.parametrize(
    ("referred_at", "screening", "field"),
    [
        ("2026-12-02T10:00:00-08:00", {"prior_convictions": [{"category": "ZZ-JAYWALK", "convicted_on": "2001-01-01"}]},
         "body.screening.prior_convictions.0.category"),
        ("2026-12-02T10:00:00-08:00", {"prior_convictions": [{"category": "theft", "convicted_on": "2026-12-03"}]},
         "body.screening.prior_convictions.0.convicted_on"),
        ("2026-12-02T10:00:00-08:00", {"disqualifying_convictions": ["robbery"]},
         "body.screening.disqualifying_convictions"),
        ("2026-11-02T10:00:00-08:00", {"prior_convictions": [{"category": "robbery", "convicted_on": "2001-01-01"}]},
         "body.screening.prior_convictions"),
    ],
)  # fmt: skip
async def test_convictions_a_version_cannot_judge_are_a_422_naming_the_field(
    client: httpx.AsyncClient,
    intake: Intake,
    officer: Headers,
    referral_body: dict[str, Any],
    referred_at: str,
    screening: dict[str, Any],
    field: str,
) -> None:
    referral = {**referral_body, "referred_at": referred_at}
    referral["screening"] = {**referral["screening"], **screening}
    response = await client.post("/v1/referrals", json=referral, headers=officer)
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["field"] == field
    if field.endswith(".category"):  # the accepted categories are listed; the one given is not echoed
        computed = BOOK.version("king-county", "2026-12-01")
        assert computed is not None and computed.convictions is not None
        assert all(category in error["message"] for category in computed.convictions.categories)
        assert "ZZ-JAYWALK" not in response.text
    assert (await stored_rows(intake))["events"] == []


async def test_a_back_dated_referral_keeps_the_legacy_list_of_its_version(
    client: httpx.AsyncClient, officer: Headers, referral_body: dict[str, Any]
) -> None:
    referral = {**referral_body, "referred_at": "2026-06-01T10:00:00-07:00"}
    referral["screening"] = {**referral["screening"], "disqualifying_convictions": ["robbery"]}
    response = await client.post("/v1/referrals", json=referral, headers=officer)
    assert response.status_code == 201, response.text
    decision = response.json()["decision"]
    assert (decision["policy_version"], [r["code"] for r in decision["reasons"]]) == (
        "2026-01-01",
        ["disqualifying_conviction"],
    )
