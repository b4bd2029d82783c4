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
    body = {"parties": ["org-housing"], "purpose": "housing_application", "scope": "assessment_needs", "part2": False}
    body |= {"expires_at": (utcnow() + timedelta(days=30)).isoformat()} | fields
    response = await client.post(f"/v1/cases/{referral_id}/consents", json=body)
    assert response.status_code == 201, response.text
    return response.json()["consent_id"]


async def test_the_full_case_under_a_part2_consent_carries_the_notice(client, caseload) -> None:
    response = await disclose(client, caseload.ids["k1"], "org-clinic", "full_case")

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
    body = (await disclose(client, caseload.ids["k1"], "org-clinic", "program_status")).json()

    assert body["program_status"]["status"] == "enrolled"
    assert (body["contact_details"], body["needs"], body["redisclosure_notice"]) == (None, None, None)


async def test_without_part2_consent_part2_needs_are_left_out_without_a_trace(client, caseload) -> None:
    await consent(client, caseload.ids["k1"])

    body = (await disclose(client, caseload.ids["k1"], "org-housing", "assessment_needs")).json()

    assert body["needs"] == [{"domain": "housing", "priority": 2, "part2": False}]
    assert body["redisclosure_notice"] is None and body["contact_details"] is None


async def test_a_party_no_consent_names_gets_403_saying_what_is_missing(client, caseload) -> None:
    response = await disclose(client, caseload.ids["k1"], "org-food-bank", "program_status")

    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["reason"] == "no_consent_for_party"
    assert problem["missing"] == {"party": "org-food-bank", "scope": "program_status"}
    assert "'org-food-bank'" in problem["detail"] and "K1" not in response.text


async def test_a_scope_wider_than_consented_is_403(client, caseload) -> None:
    await consent(client, caseload.ids["s1"], scope="contact_details")

    response = await disclose(client, caseload.ids["s1"], "org-housing", "assessment_needs")

    assert response.status_code == 403 and response.json()["reason"] == "scope_too_narrow"


async def test_after_revocation_nothing_goes(client, caseload) -> None:
    referral_id = caseload.ids["s1"]
    consent_id = await consent(client, referral_id, scope="full_case")
    assert (await disclose(client, referral_id, "org-housing", "contact_details")).status_code == 200

    await client.post(f"/v1/cases/{referral_id}/consents/{consent_id}/revocation", json={})

    response = await disclose(client, referral_id, "org-housing", "contact_details")
    assert response.status_code == 403 and response.json()["reason"] == "consent_revoked"


async def test_an_unknown_case_is_404_and_a_bad_body_422(client) -> None:
    assert (await disclose(client, uuid4(), "org-a", "full_case")).status_code == 404
    for body in ({"party": "org-a", "scope": "everything"}, {"party": "a note about them", "scope": "full_case"}):
        assert (await client.post(f"/v1/cases/{uuid4()}/disclosures", json=body)).status_code == 422


@pytest.mark.parametrize("party", ["police", "SPD", "spd-east", "court:municipal", "king-county-prosecutor"])
async def test_enforcement_parties_get_nothing_even_under_a_consent_naming_them(client, caseload, party) -> None:
    # a consent naming an enforcement party cannot be recorded (422), so whatever consent a case
    # holds, a disclosure to police, prosecution or a court is refused before consents are read
    response = await disclose(client, caseload.ids["k1"], party, "contact_details")

    assert response.status_code == 403
    assert response.json()["reason"] == "party_is_enforcement"
    assert "K1" not in response.text and "555" not in response.text


@pytest.mark.parametrize("parties", [["spd"], ["org-clinic", "Police"], ["court-east"], ["prosecutor"]])
async def test_a_consent_naming_an_enforcement_party_is_422_naming_parties(client, caseload, rows, parties) -> None:
    body = {"parties": parties, "purpose": "care_coordination", "scope": "program_status", "part2": False}
    body |= {"expires_at": (utcnow() + timedelta(days=30)).isoformat()}

    response = await client.post(f"/v1/cases/{caseload.ids['k3']}/consents", json=body)

    assert response.status_code == 422
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [("body.parties", "enforcement_party")]
    assert len(await rows(consents, consents.c.referral_id == str(caseload.ids["k3"]))) == 1  # the earlier one


async def test_parties_that_merely_resemble_enforcement_are_not_refused(client, caseload) -> None:
    referral_id = caseload.ids["s1"]
    await consent(client, referral_id, parties=["courtyard-housing", "org-spdx"], scope="program_status")

    assert (await disclose(client, referral_id, "courtyard-housing", "program_status")).status_code == 200


async def test_another_agencys_case_is_404_and_nothing_is_recorded(client, caseload, bearer, rows) -> None:
    elsewhere = bearer(agency="albany-lead", subject="cm-albany")

    response = await client.post(
        f"/v1/cases/{caseload.ids['k1']}/disclosures",
        json={"party": "org-clinic", "scope": "full_case"},
        headers=elsewhere,
    )

    assert response.status_code == 404 and "K1" not in response.text
    assert await rows(audit_log, audit_log.c.actor == "cm-albany") == []
