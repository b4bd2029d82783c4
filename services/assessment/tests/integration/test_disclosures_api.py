"""`POST /v1/cases/{referral_id}/disclosures`: the consent gate over REST."""

from datetime import timedelta
from uuid import uuid4

import pytest

from divert_assessment.adapters.tables import consents
from divert_assessment.domain.consent_gate import REDISCLOSURE_NOTICE
from divert_platform.audit import audit_log
from divert_platform.clock import utcnow

PROBLEM = "application/problem+json"


async def disclose(client, referral_id, party: str, scope: str):
    return await client.post(f"/v1/cases/{referral_id}/disclosures", json={"party": party, "scope": scope})


async def consent(client, referral_id, **fields) -> str:
    body = {"parties": ["demo-housing"], "purpose": "housing_application", "scope": "assessment_needs", "part2": False}
    body |= {"expires_at": (utcnow() + timedelta(days=30)).isoformat()} | fields
    response = await client.post(f"/v1/cases/{referral_id}/consents", json=body)
    assert response.status_code == 201, response.text
    return response.json()["consent_id"]


async def test_the_full_case_under_a_part2_consent_carries_the_notice(client, caseload) -> None:
    response = await disclose(client, caseload.ids["k1"], "demo-health-clinic", "full_case")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["contact_details"] == {"given_name": "K1", "family_name": "Doe", "phone": "555-0101"}
    assert body["program_status"] == {"status": "enrolled", "engagement": "inactive", "enrolled": True}
    assert body["needs"] == [
        {"domain": "substance_use_treatment", "priority": 1, "part2": True},
        {"domain": "housing", "priority": 2, "part2": False},
    ]
    assert body["redisclosure_notice"] == REDISCLOSURE_NOTICE
    assert (
        body["consent_id"] == (await client.get(f"/v1/cases/{caseload.ids['k1']}")).json()["consents"][0]["consent_id"]
    )


async def test_a_narrower_request_gets_only_its_own_section(client, caseload) -> None:
    body = (await disclose(client, caseload.ids["k1"], "demo-health-clinic", "program_status")).json()

    assert body["program_status"]["status"] == "enrolled"
    assert (body["contact_details"], body["needs"], body["redisclosure_notice"]) == (None, None, None)


async def test_without_part2_consent_part2_needs_are_left_out_without_a_trace(client, caseload) -> None:
    await consent(client, caseload.ids["k1"])

    body = (await disclose(client, caseload.ids["k1"], "demo-housing", "assessment_needs")).json()

    assert body["needs"] == [{"domain": "housing", "priority": 2, "part2": False}]
    assert body["redisclosure_notice"] is None and body["contact_details"] is None


async def test_a_party_no_consent_names_gets_403_saying_what_is_missing(client, caseload) -> None:
    response = await disclose(client, caseload.ids["k1"], "demo-food-bank", "program_status")

    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["reason"] == "no_consent_for_party"
    assert problem["missing"] == {"party": "demo-food-bank", "scope": "program_status"}
    assert "'demo-food-bank'" in problem["detail"] and "K1" not in response.text


async def test_a_scope_wider_than_consented_is_403(client, caseload) -> None:
    await consent(client, caseload.ids["s1"], scope="contact_details")

    response = await disclose(client, caseload.ids["s1"], "demo-housing", "assessment_needs")

    assert response.status_code == 403 and response.json()["reason"] == "scope_too_narrow"


async def test_after_revocation_nothing_goes(client, caseload) -> None:
    referral_id = caseload.ids["s1"]
    consent_id = await consent(client, referral_id, scope="full_case")
    assert (await disclose(client, referral_id, "demo-housing", "contact_details")).status_code == 200

    await client.post(f"/v1/cases/{referral_id}/consents/{consent_id}/revocation", json={})

    response = await disclose(client, referral_id, "demo-housing", "contact_details")
    assert response.status_code == 403 and response.json()["reason"] == "consent_revoked"


async def test_an_unknown_case_is_404_and_a_bad_body_422(client) -> None:
    assert (await disclose(client, uuid4(), "demo-case-agency", "full_case")).status_code == 404
    for body in (
        {"party": "demo-case-agency", "scope": "everything"},
        {"party": "a note about them", "scope": "full_case"},
    ):
        assert (await client.post(f"/v1/cases/{uuid4()}/disclosures", json=body)).status_code == 422


GOLDEN_RULE_NAMES = ["seattle-police", "kcpao", "superior-court", "king-county-prosecuting-attorney"]
"""Police, prosecution and a court, as case managers might name them: registered so as to be refused."""
UNREGISTERED = ["org-unknown", "SPD", "seattle-police-east", "court:municipal", "police"]
"""Ids nobody registered: a typo, another spelling, a unit of an agency, a generic word."""


def consent_body(parties: list[str]) -> dict:
    body = {"parties": parties, "purpose": "care_coordination", "scope": "program_status", "part2": False}
    return body | {"expires_at": (utcnow() + timedelta(days=30)).isoformat()}


async def consents_of(rows, referral_id) -> list[dict]:
    return await rows(consents, consents.c.referral_id == str(referral_id))


@pytest.mark.parametrize("party", GOLDEN_RULE_NAMES)
async def test_enforcement_agencies_get_nothing_saying_why(client, caseload, party) -> None:
    # a consent naming one cannot be recorded, so whatever a case holds, a disclosure to police,
    # prosecution or a court is refused before consents are read
    response = await disclose(client, caseload.ids["k1"], party, "contact_details")

    assert response.status_code == 403 and response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert (problem["reason"], problem["party"], problem["field"]) == ("party_is_enforcement", party, "body.party")
    assert problem["party_type"] in ("police", "prosecution", "court")
    assert "golden rule" in problem["detail"] and f"'{party}'" in problem["detail"]
    assert "K1" not in response.text and "555" not in response.text


@pytest.mark.parametrize("party", UNREGISTERED)
async def test_a_party_nobody_registered_gets_nothing_and_a_422_naming_the_field(client, caseload, party) -> None:
    response = await disclose(client, caseload.ids["k1"], party, "contact_details")

    assert response.status_code == 422 and response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["reason"] == "party_not_registered"
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [("body.party", "unregistered_party")]
    assert f"'{party}' is not a registered organisation" in problem["detail"]
    assert "K1" not in response.text and "555" not in response.text


@pytest.mark.parametrize("party", GOLDEN_RULE_NAMES)
async def test_a_consent_naming_an_enforcement_agency_is_422_naming_its_place(client, caseload, rows, party) -> None:
    response = await client.post(
        f"/v1/cases/{caseload.ids['k3']}/consents", json=consent_body(["demo-health-clinic", party])
    )

    assert response.status_code == 422 and response.headers["content-type"] == PROBLEM
    [error] = response.json()["errors"]
    assert (error["field"], error["code"]) == ("body.parties.1", "enforcement_party")
    assert "golden rule" in error["message"] and f"'{party}'" in error["message"]
    assert len(await consents_of(rows, caseload.ids["k3"])) == 1  # the earlier one only


@pytest.mark.parametrize("party", UNREGISTERED)
async def test_a_consent_naming_a_party_nobody_registered_is_422_naming_its_place(
    client, caseload, rows, party
) -> None:
    response = await client.post(
        f"/v1/cases/{caseload.ids['k3']}/consents", json=consent_body(["demo-health-clinic", "demo-housing", party])
    )

    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["field"], error["code"]) == ("body.parties.2", "unregistered_party")
    assert f"'{party}' is not a registered organisation" in error["message"]
    assert len(await consents_of(rows, caseload.ids["k3"])) == 1


async def test_every_party_at_fault_is_named(client, caseload) -> None:
    response = await client.post(
        f"/v1/cases/{caseload.ids['k3']}/consents", json=consent_body(["kcpao", "demo-housing", "org-unknown"])
    )

    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("body.parties.0", "enforcement_party"),
        ("body.parties.2", "unregistered_party"),
    ]


@pytest.mark.parametrize(
    ("party", "kind"),
    [
        ("demo-case-agency", "case_agency"),
        ("demo-health-clinic", "health_care"),
        ("b286f4ac-7b59-5921-8770-6e11eb04eb8b", "health_care"),  # a directory provider, by its HSDS id
    ],
)
async def test_a_registered_case_agency_or_health_care_organisation_may_be_named_and_receive(
    client, caseload, party, kind
) -> None:
    listed = (await client.get("/v1/organisations", params={"type": kind})).json()["items"]
    assert party in [organisation["id"] for organisation in listed]
    referral_id = caseload.ids["s1"]
    await consent(client, referral_id, parties=[party], scope="program_status")

    response = await disclose(client, referral_id, party, "program_status")

    assert response.status_code == 200, response.text
    assert response.json()["party"] == party and response.json()["program_status"]["enrolled"] is True


async def test_another_agencys_case_is_404_and_nothing_is_recorded(client, caseload, bearer, rows) -> None:
    elsewhere = bearer(agency="albany-lead", subject="cm-albany")

    response = await client.post(
        f"/v1/cases/{caseload.ids['k1']}/disclosures",
        json={"party": "demo-health-clinic", "scope": "full_case"},
        headers=elsewhere,
    )

    assert response.status_code == 404 and "K1" not in response.text
    assert await rows(audit_log, audit_log.c.actor == "cm-albany") == []
