"""Suggestions over REST, on the real catalogue: the ranking, its reasons, scope and audit."""

from typing import Any

from divert_platform.audit import audit_log


async def test_services_are_ranked_for_the_cases_needs_with_reasons(client, catalogue, cases) -> None:
    local = await catalogue.add("Local shelter", "housing", postal_codes=("98101",))
    wide = await catalogue.add("County shelter", "housing")
    await catalogue.add("Far shelter", "housing", postal_codes=("98199",))
    pantry = await catalogue.add("Pantry", "food")
    await catalogue.add("Legal aid", "legal")
    await catalogue.add("Closed shelter", "housing", status="inactive")
    await catalogue.add("Albany shelter", "housing", jurisdictions=("albany",))
    referral_id = await cases.open("king-county", ("food", 2), ("housing", 1))

    response = await client.get(f"/v1/cases/{referral_id}/suggestions", params={"postcode": "98101"})

    assert response.status_code == 200, response.text
    body = response.json()
    assert [(s["rank"], s["name"], s["area"]) for s in body["suggestions"]] == [
        (1, "Local shelter", "postal_code"),
        (2, "County shelter", "jurisdiction"),
        (3, "Pantry", "jurisdiction"),
    ]
    assert [s["service_id"] for s in body["suggestions"]] == [str(local), str(wide), str(pantry)]
    assert body["suggestions"][0]["reasons"] == [
        {"code": "meets_need", "detail": "meets the housing need (priority 1)"},
        {"code": "serves_postal_code", "detail": "serves postal code 98101"},
        {"code": "has_capacity", "detail": "not marked at capacity"},
    ]
    assert body["suggestions"][0]["needs_met"] == [{"domain": "housing", "priority": 1, "part2": False}]
    assert [n["domain"] for n in body["needs"]] == ["housing", "food"]
    assert body["jurisdiction"] == "king-county" and body["case_closed"] is False


async def test_services_marked_at_capacity_drop_below_and_are_flagged(client, catalogue, cases, bearer) -> None:
    local = await catalogue.add("Local shelter", "housing", postal_codes=("98101",))
    await catalogue.add("Pantry", "food")
    referral_id = await cases.open("king-county", ("housing", 1), ("food", 2))
    marked = await client.put(f"/v1/services/{local}/capacity", json={"at_capacity": True})
    assert marked.status_code == 200, marked.text

    body = (await client.get(f"/v1/cases/{referral_id}/suggestions", params={"postcode": "98101"})).json()

    assert [(s["name"], s["at_capacity"]) for s in body["suggestions"]] == [("Pantry", False), ("Local shelter", True)]
    assert body["suggestions"][1]["reasons"][-1]["code"] == "at_capacity"


async def test_part2_needs_are_matched_for_the_case_manager(client, catalogue, cases) -> None:
    await catalogue.add("Clinic", "substance_use_treatment")
    referral_id = await cases.open("king-county", ("substance_use_treatment", 1))

    body = (await client.get(f"/v1/cases/{referral_id}/suggestions")).json()

    assert [(s["name"], s["needs_met"][0]["part2"]) for s in body["suggestions"]] == [("Clinic", True)]


async def test_before_the_assessment_there_is_nothing_to_suggest(client, catalogue, cases) -> None:
    await catalogue.add("Shelter", "housing")
    referral_id = await cases.open("king-county")

    body = (await client.get(f"/v1/cases/{referral_id}/suggestions")).json()

    assert body["suggestions"] == [] and body["needs"] == [] and body["assessed_at"] is None


async def test_a_case_of_another_agency_or_unknown_is_not_found(client, cases, bearer) -> None:
    albany = await cases.open("albany", ("housing", 1))
    ours = await cases.open("king-county", ("housing", 1))

    assert (await client.get(f"/v1/cases/{albany}/suggestions")).status_code == 404
    other_agency = bearer(agency="albany-lead")
    assert (await client.get(f"/v1/cases/{ours}/suggestions", headers=other_agency)).status_code == 404
    assert (await client.get(f"/v1/cases/{albany}/suggestions", headers=other_agency)).status_code == 200


async def test_only_case_managers_of_an_agency_get_suggestions(client, cases, bearer) -> None:
    referral_id = await cases.open("king-county", ("housing", 1))
    url = f"/v1/cases/{referral_id}/suggestions"

    assert (await client.get(url, headers={"Authorization": ""})).status_code == 401
    for role in ("officer", "prosecutor", "court", "program_manager", "service", "ops"):
        assert (await client.get(url, headers=bearer(role))).status_code == 403, role
    assert (await client.get(url, headers=bearer(agency=None))).status_code == 403


async def test_a_bad_postcode_is_422(client, cases) -> None:
    referral_id = await cases.open("king-county", ("housing", 1))

    response = await client.get(f"/v1/cases/{referral_id}/suggestions", params={"postcode": "<script>"})

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_each_read_is_audited_with_its_purpose(client, cases, rows) -> None:
    referral_id = await cases.open("king-county", ("housing", 1))

    await client.get(f"/v1/cases/{referral_id}/suggestions", headers={"X-Divert-Purpose": "linkage"})

    entries: list[dict[str, Any]] = await rows(audit_log, audit_log.c.referral_id == str(referral_id))
    assert [(e["actor"], e["resource"], e["purpose"]) for e in entries] == [("cm-7", "service suggestions", "linkage")]
