"""`GET /v1/organisations`: the registry case managers pick consent parties from."""

from divert_assessment.domain.organisations import load_organisations


async def test_case_managers_see_every_registered_organisation_with_whether_it_may_receive(client) -> None:
    response = await client.get("/v1/organisations")

    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [item["id"] for item in items] == [org.id for org in load_organisations().all()]
    by_id = {item["id"]: item for item in items}
    assert by_id["demo-health-clinic"] == {
        "id": "demo-health-clinic",
        "name": "Demo Health Clinic (fictional)",
        "type": "health_care",
        "may_receive": True,
    }
    for party in ("seattle-police", "kcpao", "superior-court", "king-county-prosecuting-attorney"):
        assert by_id[party]["may_receive"] is False, party


async def test_the_list_can_be_narrowed_to_one_type(client) -> None:
    courts = (await client.get("/v1/organisations", params={"type": "court"})).json()["items"]
    agencies = (await client.get("/v1/organisations", params={"type": "case_agency"})).json()["items"]

    assert courts and {item["type"] for item in courts} == {"court"}
    assert "superior-court" in [item["id"] for item in courts]
    assert {item["id"] for item in agencies} >= {"demo-case-agency", "reach-king-county"}
    assert all(item["may_receive"] for item in agencies)


async def test_an_unknown_type_is_422_naming_the_query_field(client) -> None:
    response = await client.get("/v1/organisations", params={"type": "sheriff"})

    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["query.type"]


async def test_only_case_managers_may_list(anonymous, bearer) -> None:
    assert (await anonymous.get("/v1/organisations")).status_code == 401
    for role in ("program_manager", "officer", "prosecutor", "court", "service"):
        assert (await anonymous.get("/v1/organisations", headers=bearer(role))).status_code == 403, role
