"""The case lifecycle over REST, on real migrated databases (SQLite, and PostgreSQL when configured)."""

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest

from divert_assessment.domain.case import Case
from divert_contracts import cases as contract
from divert_contracts.milestones import (
    CaseAssessedMilestone,
    CaseClosedMilestone,
    CaseEnrolledMilestone,
    CaseOpenedMilestone,
)
from divert_contracts.topics import CASE_MILESTONES, CASES
from divert_platform.clock import utcnow
from divert_platform.schema import events, outbox

PROBLEM = "application/problem+json"


def iso(moment: datetime) -> str:
    return moment.isoformat()


def consent_body(**overrides: Any) -> dict[str, Any]:
    return {
        "parties": ["demo-housing", "demo-health-clinic"],
        "purpose": "care_coordination",
        "scope": "assessment_needs",
        "part2": True,
        "expires_at": iso(utcnow() + timedelta(days=90)),
    } | overrides


class Cases:
    """The API, spoken in the case's terms."""

    def __init__(self, client: httpx.AsyncClient, referral_id: UUID) -> None:
        self.client, self.url = client, f"/v1/cases/{referral_id}"

    async def post(self, path: str, body: dict[str, Any] | None = None, **kwargs: Any) -> httpx.Response:
        return await self.client.post(f"{self.url}/{path}", json=body if body is not None else {}, **kwargs)

    async def view(self) -> dict[str, Any]:
        return (await self.client.get(self.url)).json()

    async def assess(self) -> None:
        body = {"completed_at": iso(utcnow() - timedelta(minutes=30)), "case_manager_id": "cm-7", "needs": []}
        assert (await self.post("assessment", body)).status_code == 201

    async def enroll(self) -> None:
        await self.assess()
        assert (
            await self.post("enrollment", {"enrolled_at": iso(utcnow() - timedelta(minutes=10))})
        ).status_code == 200

    async def close(self, reason: str = "moved_away") -> httpx.Response:
        return await self.post("closure", {"reason": reason, "closed_at": iso(utcnow())})


@pytest.fixture
async def case(client, open_case) -> Cases:
    accepted = await open_case()
    return Cases(client, accepted.referral_id)


def field_names(response: httpx.Response) -> list[str]:
    return [error["field"] for error in response.json()["errors"]]


def conflict_state(response: httpx.Response) -> str:
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == PROBLEM
    return response.json()["current_state"]


async def published(rows, event_type: str, referral_id: str) -> list[dict[str, Any]]:
    return [
        row["data"]
        for row in await rows(outbox, outbox.c.event_type == event_type, outbox.c.message_key == referral_id)
    ]


async def test_assigning_a_manager_shows_them_and_records_who_did_it(case, rows) -> None:
    response = await case.post("manager", {"case_manager_id": "cm-9", "agency": "dcs"})

    assert response.status_code == 200, response.text
    assert response.json()["case_manager_id"] == "cm-9"
    referral_id = response.json()["referral_id"]
    [assigned] = await published(rows, contract.CaseManagerAssigned.event_type, referral_id)
    assert (assigned["case_manager_id"], assigned["agency"]) == ("cm-9", "dcs")
    recorded = await rows(events, events.c.stream_id == Case.stream_id(UUID(referral_id)))
    # who did it is the caller's token, not the manager named in the body
    assert recorded[-1]["metadata"] == {"actor": "cm-7", "role": "case_manager", "agency": "reach-king-county"}
    assert conflict_state(await case.post("manager", {"case_manager_id": "cm-9"})) == "pending_assessment"


async def test_a_manager_is_of_the_callers_agency_unless_the_body_names_one(case, rows) -> None:
    response = await case.post("manager", {"case_manager_id": "cm-3"})

    [assigned] = await published(rows, contract.CaseManagerAssigned.event_type, response.json()["referral_id"])
    assert assigned["agency"] == "reach-king-county"


async def test_contacts_count_and_the_first_made_is_the_warm_hand_off(case, rows) -> None:
    tried, reached = utcnow() - timedelta(minutes=40), utcnow() - timedelta(minutes=20)

    first = await case.post("contacts", {"at": iso(tried), "method": "phone", "outcome": "attempted"})
    second = await case.post("contacts", {"at": iso(reached), "method": "in_person", "outcome": "made"})
    third = await case.post("contacts", {"at": iso(utcnow()), "method": "text", "outcome": "made"})

    assert [r.status_code for r in (first, second, third)] == [201, 201, 201]
    view = third.json()
    assert view["contacts_attempted"] == 3
    assert datetime.fromisoformat(view["first_contact_at"]) == reached
    contacts = await published(rows, contract.CaseContactRecorded.event_type, view["referral_id"])
    assert [(c["outcome"], c["first_made"]) for c in contacts] == [
        ("attempted", False),
        ("made", True),
        ("made", False),
    ]
    recorded = await rows(events, events.c.stream_id == Case.stream_id(UUID(view["referral_id"])))
    assert recorded[-1]["metadata"] == {"actor": "cm-7", "role": "case_manager", "agency": "reach-king-county"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"at": iso(utcnow() + timedelta(hours=1)), "method": "phone", "outcome": "made"}, "body.at"),
        ({"at": "2000-01-01T00:00:00+00:00", "method": "phone", "outcome": "made"}, "body.at"),
        ({"at": "2025-03-04T10:00:00", "method": "phone", "outcome": "made"}, "body.at"),
        ({"at": 1741082400, "method": "phone", "outcome": "made"}, "body.at"),
        ({"at": iso(utcnow()), "method": "carrier_pigeon", "outcome": "made"}, "body.method"),
        ({"at": iso(utcnow()), "method": "phone", "outcome": "made", "notes": "x"}, "body.notes"),
    ],
)
async def test_an_invalid_contact_is_422_naming_the_field(case, rows, body, field) -> None:
    response = await case.post("contacts", body)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert field_names(response) == [field]
    assert await rows(outbox, outbox.c.event_type == contract.CaseContactRecorded.event_type) == []


async def test_a_consent_is_created_shown_and_revoked_once(case, rows) -> None:
    created = await case.post("consents", consent_body())

    assert created.status_code == 201, created.text
    consent = created.json()
    assert consent["parties"] == ["demo-housing", "demo-health-clinic"] and consent["part2"] is True
    assert consent["active"] is True and consent["revoked_at"] is None
    [shown] = (await case.view())["consents"]
    assert shown == consent

    revoked = await case.post(f"consents/{consent['consent_id']}/revocation")
    again = await case.post(f"consents/{consent['consent_id']}/revocation")

    assert revoked.status_code == 200, revoked.text
    [past] = revoked.json()["consents"]
    assert past["active"] is False and past["revoked_at"] is not None
    assert again.status_code == 409 and again.headers["content-type"] == PROBLEM
    assert again.json()["consent_id"] == consent["consent_id"]
    referral_id = revoked.json()["referral_id"]
    [recorded] = await published(rows, contract.CaseConsentRecorded.event_type, referral_id)
    assert recorded["consent_id"] == consent["consent_id"] and recorded["scope"] == "assessment_needs"
    assert len(await published(rows, contract.CaseConsentRevoked.event_type, referral_id)) == 1


async def test_revoking_an_unknown_consent_is_404(case) -> None:
    response = await case.post(f"consents/{uuid4()}/revocation")

    assert response.status_code == 404 and response.headers["content-type"] == PROBLEM


async def test_a_consent_can_be_revoked_after_the_case_closed(case) -> None:
    consent = (await case.post("consents", consent_body())).json()
    assert (await case.close()).status_code == 200

    response = await case.post(f"consents/{consent['consent_id']}/revocation")

    assert response.status_code == 200 and response.json()["consents"][0]["active"] is False


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"expires_at": iso(utcnow() - timedelta(seconds=1))}, "body.expires_at"),
        ({"parties": []}, "body.parties"),
        ({"parties": ["demo-case-agency", "demo-case-agency"]}, "body.parties"),
        ({"parties": ["shared his diagnosis with mum"]}, "body.parties.0"),
        ({"purpose": "prosecution"}, "body.purpose"),
        ({"scope": "everything"}, "body.scope"),
    ],
)
async def test_an_invalid_consent_is_422_naming_the_field(case, overrides, field) -> None:
    response = await case.post("consents", consent_body(**overrides))

    assert response.status_code == 422, response.text
    assert field_names(response) == [field]
    assert (await case.view())["consents"] == []


async def test_an_expired_consent_is_shown_as_past(case, assessment) -> None:
    from sqlalchemy import update

    from divert_assessment.adapters.tables import consents

    consent = (await case.post("consents", consent_body())).json()
    async with assessment.unit_of_work() as uow:  # time passes
        await uow.session.execute(update(consents).values(expires_at=utcnow() - timedelta(days=1)))
        await uow.commit()

    [shown] = (await case.view())["consents"]

    assert shown["consent_id"] == consent["consent_id"] and shown["active"] is False


async def test_an_assessed_person_enrolls_active_and_goes_inactive_and_back(case, rows) -> None:
    await case.assess()
    enrolled_at = utcnow() - timedelta(minutes=5)

    enrolled = await case.post("enrollment", {"enrolled_at": iso(enrolled_at)})
    inactive = await case.post("engagement", {"status": "inactive"})
    repeated = await case.post("engagement", {"status": "inactive"})
    active = await case.post("engagement", {"status": "active"})

    assert enrolled.status_code == 200, enrolled.text
    assert enrolled.json()["status"] == "enrolled" and enrolled.json()["engagement"] == "active"
    assert datetime.fromisoformat(enrolled.json()["enrolled_at"]) == enrolled_at
    assert inactive.status_code == 200 and inactive.json()["engagement"] == "inactive"
    assert conflict_state(repeated) == "enrolled" and repeated.json()["engagement"] == "inactive"
    assert active.json()["engagement"] == "active"
    referral_id = active.json()["referral_id"]
    assert len(await published(rows, contract.CaseParticipantEnrolled.event_type, referral_id)) == 1
    changes = await published(rows, contract.CaseEngagementChanged.event_type, referral_id)
    assert [c["engagement"] for c in changes] == ["inactive", "active"]


async def test_enrolling_before_the_assessment_is_409_with_the_current_state(case) -> None:
    response = await case.post("enrollment", {"enrolled_at": iso(utcnow())})

    assert conflict_state(response) == "pending_assessment"


async def test_enrolled_at_in_the_future_is_422(case) -> None:
    await case.assess()

    response = await case.post("enrollment", {"enrolled_at": iso(utcnow() + timedelta(hours=1))})

    assert response.status_code == 422 and field_names(response) == ["body.enrolled_at"]


async def test_a_declined_person_cannot_then_enroll_or_change_engagement(case, rows) -> None:
    await case.assess()

    declined = await case.post("decline", {"reason": "not_interested"})

    assert declined.status_code == 200, declined.text
    assert declined.json()["status"] == "declined" and declined.json()["declined_reason"] == "not_interested"
    assert conflict_state(await case.post("enrollment", {"enrolled_at": iso(utcnow())})) == "declined"
    assert conflict_state(await case.post("engagement", {"status": "inactive"})) == "declined"
    assert conflict_state(await case.post("decline", {"reason": "other"})) == "declined"
    [published_decline] = await published(
        rows, contract.CaseParticipantDeclined.event_type, declined.json()["referral_id"]
    )
    assert published_decline["reason"] == "not_interested"
    assert (await case.post("decline", {"reason": "he said no, again"})).status_code == 422


async def test_closing_and_reopening_returns_the_case_to_where_it_stood(case, rows) -> None:
    await case.enroll()
    assert (await case.post("engagement", {"status": "inactive"})).status_code == 200

    closed = await case.close("long_term_no_contact")
    closed_twice = await case.close()
    contact_while_closed = await case.post("contacts", {"at": iso(utcnow()), "method": "phone", "outcome": "made"})
    reopened = await case.post("reopening")

    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed" and closed.json()["close_reason"] == "long_term_no_contact"
    assert closed.json()["closed_at"] is not None
    assert conflict_state(closed_twice) == "closed"
    assert conflict_state(contact_while_closed) == "closed"
    assert reopened.status_code == 200, reopened.text
    view = reopened.json()
    assert (view["status"], view["engagement"], view["closed_at"], view["close_reason"]) == (
        "enrolled",
        "inactive",
        None,
        None,
    )
    assert conflict_state(await case.post("reopening")) == "enrolled"
    referral_id = view["referral_id"]
    [closure] = await published(rows, contract.CaseClosed.event_type, referral_id)
    assert closure["reason"] == "long_term_no_contact"
    assert len(await published(rows, contract.CaseReopened.event_type, referral_id)) == 1


@pytest.mark.parametrize(
    ("closed_at", "code"),
    [
        (lambda opened: opened - timedelta(seconds=1), "before_opening"),
        (lambda _: utcnow() + timedelta(hours=1), "in_future"),
    ],
)
async def test_closed_at_outside_the_case_is_422_naming_it(case, closed_at, code) -> None:
    opened_at = datetime.fromisoformat((await case.view())["opened_at"])

    response = await case.post("closure", {"reason": "deceased", "closed_at": iso(closed_at(opened_at))})

    assert response.status_code == 422
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [("body.closed_at", code)]
    assert (await case.view())["status"] == "pending_assessment"


LIFECYCLE_POSTS = [
    ("manager", {"case_manager_id": "cm-9"}),
    ("contacts", {"at": "2025-03-04T10:00:00+00:00", "method": "phone", "outcome": "made"}),
    ("consents", consent_body()),
    ("enrollment", {"enrolled_at": "2025-03-04T10:00:00+00:00"}),
    ("decline", {"reason": "other"}),
    ("engagement", {"status": "active"}),
    ("closure", {"reason": "transferred", "closed_at": "2025-03-04T10:00:00+00:00"}),
    ("reopening", {}),
]


@pytest.mark.parametrize(("path", "body"), LIFECYCLE_POSTS, ids=[path for path, _ in LIFECYCLE_POSTS])
async def test_every_command_on_an_unknown_case_is_404(client, path, body) -> None:
    response = await client.post(f"/v1/cases/{uuid4()}/{path}", json=body)

    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == PROBLEM


async def test_a_retried_contact_with_its_idempotency_key_is_recorded_once(case, rows) -> None:
    body, headers = {"at": iso(utcnow()), "method": "outreach", "outcome": "made"}, {"Idempotency-Key": "contact-1"}

    first = await case.post("contacts", body, headers=headers)
    retry = await case.post("contacts", body, headers=headers)

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json() and first.json()["contacts_attempted"] == 1
    assert len(await published(rows, contract.CaseContactRecorded.event_type, first.json()["referral_id"])) == 1


async def test_a_whole_lifecycle_publishes_every_case_event_in_order(case, rows) -> None:
    assert (await case.post("manager", {"case_manager_id": "cm-9"})).status_code == 200
    assert (await case.post("contacts", {"at": iso(utcnow()), "method": "phone", "outcome": "made"})).status_code == 201
    consent_id = (await case.post("consents", consent_body())).json()["consent_id"]
    await case.enroll()
    assert (await case.post("engagement", {"status": "inactive"})).status_code == 200
    assert (await case.post(f"consents/{consent_id}/revocation")).status_code == 200
    assert (await case.close()).status_code == 200
    view = (await case.post("reopening")).json()

    referral_id = view["referral_id"]
    published = await rows(outbox, outbox.c.message_key == referral_id)
    in_outbox = [row["event_type"] for row in published if row["topic"] == CASES.name]
    milestones = [row["event_type"] for row in published if row["topic"] == CASE_MILESTONES.name]
    assert milestones == [  # the status-only twins, for the enforcement side
        CaseOpenedMilestone.event_type,
        CaseAssessedMilestone.event_type,
        CaseEnrolledMilestone.event_type,
        CaseClosedMilestone.event_type,
    ]
    assert in_outbox == [
        contract.CaseOpened.event_type,
        contract.CaseManagerAssigned.event_type,
        contract.CaseContactRecorded.event_type,
        contract.CaseConsentRecorded.event_type,
        contract.CaseAssessmentCompleted.event_type,
        contract.CaseParticipantEnrolled.event_type,
        contract.CaseEngagementChanged.event_type,
        contract.CaseConsentRevoked.event_type,
        contract.CaseClosed.event_type,
        contract.CaseReopened.event_type,
    ]
    stored = await rows(events, events.c.stream_id == Case.stream_id(UUID(referral_id)))
    assert len(stored) == len(in_outbox)
    assert all(set(e["metadata"]) >= {"actor", "role"} for e in stored)
    assert view["case_manager_id"] == "cm-9" and view["assessment"]["case_manager_id"] == "cm-7"


async def test_the_openapi_document_lists_each_commands_problem_responses(client) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]

    for path, _ in LIFECYCLE_POSTS:
        responses = paths[f"/v1/cases/{{referral_id}}/{path}"]["post"]["responses"]
        assert {"400", "404", "409", "413", "422", "500"} <= set(responses), path
        assert PROBLEM in responses["409"]["content"]
    assert {"201", "409"} <= set(paths["/v1/cases/{referral_id}/consents"]["post"]["responses"])
