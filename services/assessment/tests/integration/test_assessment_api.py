"""The assessment REST API over real, migrated databases (SQLite, and PostgreSQL when configured)."""

from datetime import datetime, timedelta
from uuid import uuid4

import httpx

from divert_assessment.bootstrap import MIGRATIONS, bootstrap
from divert_assessment.config import AssessmentSettings
from divert_assessment.domain.case import Case
from divert_assessment.entrypoints.api import build_api
from divert_contracts.cases import CaseAssessmentCompleted
from divert_platform.clock import utcnow
from divert_platform.schema import events, outbox
from divert_platform.testing import migrate

PROBLEM = "application/problem+json"


def assessment_body(completed_at: datetime, *needs: tuple[str, int], case_manager_id: str = "cm-7") -> dict:
    return {
        "completed_at": completed_at.isoformat(),
        "case_manager_id": case_manager_id,
        "needs": [{"domain": domain, "priority": priority} for domain, priority in needs],
    }


def field_names(response: httpx.Response) -> list[str]:
    return [error["field"] for error in response.json()["errors"]]


async def test_an_opened_case_shows_its_subject_and_due_time(client, open_case) -> None:
    accepted = await open_case()

    response = await client.get(f"/v1/cases/{accepted.referral_id}")

    assert response.status_code == 200
    case = response.json()
    assert case["referral_id"] == str(accepted.referral_id)
    assert case["status"] == "pending_assessment"
    assert case["jurisdiction"] == "king-county" and case["pathway"] == "arrest_diversion"
    assert datetime.fromisoformat(case["referred_at"]) == accepted.referred_at
    assert datetime.fromisoformat(case["assessment_due_by"]) == accepted.assessment_due_by
    assert datetime.fromisoformat(case["opened_at"]) >= accepted.referred_at
    assert case["subject"] == {
        "given_name": "Ana",
        "family_name": "Diaz",
        "date_of_birth": "1990-01-02",
        "phone": "555-0100",
        "rms_person_id": "P-9",
    }
    assert case["assessment"] is None


async def test_an_unknown_case_is_404_problem(client) -> None:
    response = await client.get(f"/v1/cases/{uuid4()}")

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["status"] == 404


async def test_recording_an_assessment_publishes_it_in_the_same_transaction(client, open_case, rows) -> None:
    accepted = await open_case()
    completed_at = utcnow() - timedelta(minutes=5)

    response = await client.post(
        f"/v1/cases/{accepted.referral_id}/assessment",
        json=assessment_body(completed_at, ("substance_use_treatment", 1), ("housing", 2)),
    )

    assert response.status_code == 201, response.text
    case = response.json()
    assert case["status"] == "assessed"
    assert datetime.fromisoformat(case["assessment"]["completed_at"]) == completed_at
    assert case["assessment"]["case_manager_id"] == "cm-7"
    assert case["assessment"]["on_time"] is True
    assert case["assessment"]["needs"] == [
        {"domain": "substance_use_treatment", "priority": 1, "part2": True},
        {"domain": "housing", "priority": 2, "part2": False},
    ]
    detail = (await client.get(f"/v1/cases/{accepted.referral_id}")).json()
    assert [entry["event"] for entry in detail.pop("timeline")] == ["case_opened", "assessment_completed"]
    assert detail == case  # the detail is the command's answer plus the case's timeline

    [published] = await rows(outbox, outbox.c.event_type == CaseAssessmentCompleted.event_type)
    assert published["message_key"] == str(accepted.referral_id)
    assert published["data"]["on_time"] is True
    assert [need["part2"] for need in published["data"]["needs"]] == [True, False]

    recorded = await rows(events, events.c.stream_id == Case.stream_id(accepted.referral_id))
    assert [e["event_type"] for e in recorded] == ["CaseOpened", "AssessmentCompleted"]
    # attributed to the caller's token (subject cm-7 of the king-county case agency)
    assert recorded[1]["metadata"] == {"actor": "cm-7", "role": "case_manager", "agency": "reach-king-county"}


async def test_an_assessment_after_the_due_time_is_late(client, open_case, rows) -> None:
    referred_at = utcnow() - timedelta(days=5)
    accepted = await open_case(referred_at=referred_at, assessment_due_by=referred_at + timedelta(days=3))

    response = await client.post(
        f"/v1/cases/{accepted.referral_id}/assessment", json=assessment_body(utcnow() - timedelta(hours=1))
    )

    assert response.status_code == 201, response.text
    assert response.json()["assessment"]["on_time"] is False
    [published] = await rows(outbox, outbox.c.event_type == CaseAssessmentCompleted.event_type)
    assert published["data"]["on_time"] is False


async def test_a_case_without_a_due_time_is_always_assessed_on_time(client, open_case) -> None:
    accepted = await open_case(pathway="social_contact", assessment_due_by=None, lapse_action=None)

    response = await client.post(f"/v1/cases/{accepted.referral_id}/assessment", json=assessment_body(utcnow()))

    assert response.status_code == 201, response.text
    assert response.json()["assessment_due_by"] is None
    assert response.json()["assessment"]["on_time"] is True


async def test_completed_at_in_the_future_is_422_naming_it(client, open_case, rows) -> None:
    accepted = await open_case()

    response = await client.post(
        f"/v1/cases/{accepted.referral_id}/assessment", json=assessment_body(utcnow() + timedelta(hours=1))
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert field_names(response) == ["body.completed_at"]
    assert await rows(outbox, outbox.c.event_type == CaseAssessmentCompleted.event_type) == []


async def test_completed_at_before_the_referral_is_422_naming_it(client, open_case) -> None:
    accepted = await open_case()

    response = await client.post(
        f"/v1/cases/{accepted.referral_id}/assessment",
        json=assessment_body(accepted.referred_at - timedelta(seconds=1)),
    )

    assert response.status_code == 422
    assert field_names(response) == ["body.completed_at"]


async def test_a_need_domain_listed_twice_is_422_naming_needs(client, open_case) -> None:
    accepted = await open_case()

    response = await client.post(
        f"/v1/cases/{accepted.referral_id}/assessment",
        json=assessment_body(utcnow(), ("housing", 1), ("housing", 4)),
    )

    assert response.status_code == 422
    assert field_names(response) == ["body.needs"]
    assert (await client.get(f"/v1/cases/{accepted.referral_id}")).json()["status"] == "pending_assessment"


async def test_malformed_assessments_are_422_with_field_paths(client, open_case) -> None:
    accepted = await open_case()
    url = f"/v1/cases/{accepted.referral_id}/assessment"
    good = assessment_body(utcnow(), ("housing", 1))

    naive = await client.post(url, json=good | {"completed_at": "2025-03-04T10:00:00"})
    unknown_domain = await client.post(url, json=good | {"needs": [{"domain": "astrology", "priority": 1}]})
    priority = await client.post(url, json=good | {"needs": [{"domain": "housing", "priority": 11}]})
    notes = await client.post(url, json=good | {"notes": "free text has no place here"})

    assert naive.status_code == 422 and field_names(naive) == ["body.completed_at"]
    assert unknown_domain.status_code == 422 and field_names(unknown_domain) == ["body.needs.0.domain"]
    assert priority.status_code == 422 and field_names(priority) == ["body.needs.0.priority"]
    assert notes.status_code == 422 and field_names(notes) == ["body.notes"]


async def test_a_second_assessment_is_409_with_the_current_state(client, open_case, rows) -> None:
    accepted = await open_case()
    url = f"/v1/cases/{accepted.referral_id}/assessment"
    assert (await client.post(url, json=assessment_body(utcnow(), ("food", 3)))).status_code == 201

    response = await client.post(url, json=assessment_body(utcnow(), ("phone", 5)))

    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["current_state"] == "assessed"
    assert len(await rows(outbox, outbox.c.event_type == CaseAssessmentCompleted.event_type)) == 1


async def test_assessing_an_unknown_case_is_404(client) -> None:
    response = await client.post(f"/v1/cases/{uuid4()}/assessment", json=assessment_body(utcnow()))

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM


async def test_a_retry_with_the_same_idempotency_key_returns_the_first_response(client, open_case, rows) -> None:
    accepted = await open_case()
    url = f"/v1/cases/{accepted.referral_id}/assessment"
    body = assessment_body(utcnow(), ("legal", 2))
    headers = {"Idempotency-Key": "assess-1"}

    first = await client.post(url, json=body, headers=headers)
    retry = await client.post(url, json=body, headers=headers)
    changed = await client.post(url, json=body | {"case_manager_id": "cm-8"}, headers=headers)

    assert first.status_code == 201 and retry.status_code == 201
    assert retry.json() == first.json()
    assert changed.status_code == 409
    assert len(await rows(outbox, outbox.c.event_type == CaseAssessmentCompleted.event_type)) == 1


async def test_an_idempotency_key_reused_for_another_case_is_409(client, open_case) -> None:
    first, second = await open_case(), await open_case()
    body, headers = assessment_body(utcnow()), {"Idempotency-Key": "assess-2"}

    first_response = await client.post(f"/v1/cases/{first.referral_id}/assessment", json=body, headers=headers)
    assert first_response.status_code == 201
    response = await client.post(f"/v1/cases/{second.referral_id}/assessment", json=body, headers=headers)

    assert response.status_code == 409
    assert (await client.get(f"/v1/cases/{second.referral_id}")).json()["status"] == "pending_assessment"


async def test_liveness_is_ok_and_readiness_reports_an_unreachable_broker(client) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}

    response = await client.get("/readyz")

    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"] == "ok"
    assert checks["broker"].startswith("unavailable")


async def test_readiness_is_ready_when_database_and_broker_answer(database_url, kafka_bootstrap) -> None:
    await migrate(database_url, MIGRATIONS)
    parts = bootstrap(AssessmentSettings(database_url=database_url, kafka_bootstrap=kafka_bootstrap))
    try:
        transport = httpx.ASGITransport(app=build_api(parts))
        async with httpx.AsyncClient(transport=transport, base_url="http://assessment") as http:
            response = await http.get("/readyz")
    finally:
        await parts.engine.dispose()

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "broker": "ok"}}
