"""The program funnel report, over the mixed caseload (see `caseload` in conftest)."""

from datetime import timedelta, timezone

import pytest

from divert_platform.clock import utcnow

REASONS = ("moved_away", "deceased", "transferred", "declined", "long_term_no_contact", "program_decision")
NO_CLOSURES = dict.fromkeys(REASONS, 0)
PACIFIC = timezone(timedelta(hours=-8))


def window(caseload, **params: str) -> dict[str, str]:
    return {"from": caseload.referred_from.isoformat(), "to": caseload.referred_to.isoformat()} | params


async def test_a_program_manager_gets_the_funnel_of_their_jurisdiction(client, caseload, program_manager) -> None:
    report = (await client.get("/v1/reports/funnel", params=window(caseload), headers=program_manager)).json()

    assert report["jurisdiction"] == "king-county"
    assert (report["referred"], report["contacted"], report["assessed"], report["declined"]) == (3, 2, 2, 1)
    assert report["median_hours_to_first_contact"] == 6.0  # of 2 and 10 hours
    assert report["assessed_on_time"] == {"count": 1, "percent": 50.0}  # k2 was late
    assert report["enrolled"] == {"count": 1, "percent": 50.0}
    assert report["closed_by_reason"] == NO_CLOSURES | {"declined": 1}


async def test_another_jurisdictions_program_manager_gets_theirs(client, caseload, bearer) -> None:
    headers = bearer("program_manager", jurisdiction="snohomish")
    report = (await client.get("/v1/reports/funnel", params=window(caseload), headers=headers)).json()

    assert report["jurisdiction"] == "snohomish"
    assert (report["referred"], report["contacted"], report["assessed"], report["declined"]) == (4, 1, 2, 0)
    assert report["median_hours_to_first_contact"] == 30.0
    assert report["assessed_on_time"] == {"count": 2, "percent": 100.0}  # s1 has no due time
    assert report["enrolled"] == {"count": 2, "percent": 100.0}  # s2 closed since, still counted
    # s1 was reopened, so it is not closed any more
    assert report["closed_by_reason"] == NO_CLOSURES | {"transferred": 1, "long_term_no_contact": 1}


async def test_naming_their_own_jurisdiction_is_the_same_report(client, caseload, program_manager) -> None:
    own = await client.get("/v1/reports/funnel", params=window(caseload), headers=program_manager)
    named = await client.get(
        "/v1/reports/funnel", params=window(caseload, jurisdiction="king-county"), headers=program_manager
    )

    assert named.status_code == 200 and named.json() == own.json()


async def test_another_jurisdiction_or_none_in_the_token_is_403(client, caseload, program_manager, bearer) -> None:
    other = await client.get(
        "/v1/reports/funnel", params=window(caseload, jurisdiction="snohomish"), headers=program_manager
    )
    unscoped = await client.get(
        "/v1/reports/funnel", params=window(caseload), headers=bearer("program_manager", jurisdiction=None)
    )

    for response in (other, unscoped):
        assert response.status_code == 403
        assert response.headers["content-type"] == "application/problem+json"
        assert "referred" not in response.json()


async def test_an_empty_window_reports_zeros_and_no_rates(client, caseload, program_manager) -> None:
    later = utcnow() + timedelta(days=1)
    params = {"from": later.isoformat(), "to": (later + timedelta(days=1)).isoformat()}
    report = (await client.get("/v1/reports/funnel", params=params, headers=program_manager)).json()

    assert report["referred"] == 0 and report["median_hours_to_first_contact"] is None
    assert report["assessed_on_time"] == {"count": 0, "percent": None}


async def test_the_window_is_read_with_its_offset(client, caseload, program_manager) -> None:
    params = {
        "from": caseload.referred_from.astimezone(PACIFIC).isoformat(),
        "to": caseload.referred_to.isoformat().replace("+00:00", "Z"),
    }
    assert (await client.get("/v1/reports/funnel", params=params, headers=program_manager)).json()["referred"] == 3


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"to": "2026-01-01T00:00:00+00:00"}, "query.from"),
        ({"from": "2026-01-01T00:00:00", "to": "2026-02-01T00:00:00+00:00"}, "query.from"),
        ({"from": "2026-02-01T00:00:00+00:00", "to": "2026-01-01T00:00:00+00:00"}, "query.to"),
        ({"from": "2026-01-01T00:00:00+00:00", "to": "2026-01-01T00:00:00+00:00"}, "query.to"),
        ({"from": "yesterday", "to": "2026-01-01T00:00:00+00:00"}, "query.from"),
    ],
)
async def test_bad_parameters_are_422_naming_them(client, program_manager, params, field) -> None:
    response = await client.get("/v1/reports/funnel", params=params, headers=program_manager)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [error["field"] for error in response.json()["errors"]]


async def test_the_report_is_documented_under_reports(client) -> None:
    operation = (await client.get("/openapi.json")).json()["paths"]["/v1/reports/funnel"]["get"]
    assert operation["tags"] == ["reports"] and {"401", "403", "422"} <= operation["responses"].keys()
