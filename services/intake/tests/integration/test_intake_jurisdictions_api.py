"""The jurisdictions API publishes each jurisdiction's rules and their versions, to anyone: they
are public rules, so these tests call intake's real app without a token."""

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest_asyncio

from divert_intake.bootstrap import bootstrap
from divert_intake.config import IntakeSettings
from divert_intake.domain.policy import PolicyBook, load_policy_book
from divert_intake.entrypoints.api import build_api
from divert_platform.clock import utcnow
from divert_platform.problems import PROBLEM_JSON


@pytest_asyncio.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The whole intake API, anonymous (policies come from files: the database is never touched)."""
    intake = bootstrap(IntakeSettings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'intake.db'}"))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=build_api(intake)), base_url="http://intake"
    ) as http:
        yield http
    await intake.engine.dispose()


async def test_the_list_holds_the_current_version_of_every_jurisdiction(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/jurisdictions")
    assert response.status_code == 200
    listed = {item["id"]: item for item in response.json()}
    assert sorted(listed) == ["albany", "demo", "king-county", "santa-fe"]
    king = listed["king-county"]
    # Albany's version of 2026-12-01, King County's and Santa Fe's of 2026-12-06 (with their approval
    # gates) are in force; demo has one version only.
    assert {item["id"]: item["version"] for item in listed.values()} == {
        "albany": "2026-12-01",
        "demo": "2026-01-01",
        "king-county": "2026-12-06",
        "santa-fe": "2026-12-06",
    }
    assert {item["id"]: (item["approval"] or {}).get("by") for item in listed.values()} == {
        "albany": None,
        "demo": None,
        "king-county": "program_manager",
        "santa-fe": "prosecutor",
    }
    gate = king["approval"]
    assert (gate["within"], gate["on_timeout"], gate["source"]["assumption"]) == ("P2D", "accept", True)
    assert gate["source"]["url"].startswith("https://") and gate["source"]["note"]
    assert king["time_zone"] == "America/Los_Angeles"
    assert (king["assessment_window"], king["due_at_end_of_local_day"]) == ("P30D", True)
    assert king["social_contact"]["prior_involvement_within_months"] == 24
    possession = next(o for o in king["offenses"] if o["category"] == "drug_possession")
    assert (possession["max_drug_grams"], possession["drug_types"], possession["drug_types_without_limit"]) == (
        3.0,
        [],
        [],
    )
    scoped = next(e for e in king["exclusions"] if e["code"] == "in_treatment_court")
    assert scoped["pathways"] == ["social_contact"] and scoped["message"]
    assert listed["santa-fe"]["minimum_age"] == 18 and listed["santa-fe"]["lapse_action"] == "return_for_charging"
    assert listed["albany"]["requires_contact_driver"] is True
    assert listed["demo"]["assessment_window"] == "PT20S"
    assert king["assessment_reminders"] == ["P7D", "P2D", "P1D"]
    assert listed["santa-fe"]["assessment_reminders"] == ["P2D", "P1D"]
    assert listed["demo"]["assessment_reminders"] == ["PT10S"]


async def test_the_detail_lists_versions_and_fetches_an_older_one(client: httpx.AsyncClient) -> None:
    latest = (await client.get("/v1/jurisdictions/king-county")).json()
    assert latest["version"] == "2026-12-06"
    assert latest["versions"] == [
        {"version": "2025-01-01", "effective_date": "2025-01-01", "standing": "past"},
        {"version": "2026-01-01", "effective_date": "2026-01-01", "standing": "past"},
        {"version": "2026-12-01", "effective_date": "2026-12-01", "standing": "past"},
        {"version": "2026-12-06", "effective_date": "2026-12-06", "standing": "current"},
    ]
    older = (await client.get("/v1/jurisdictions/king-county", params={"version": "2025-01-01"})).json()
    assert older["version"] == "2025-01-01" and older["versions"] == latest["versions"]
    assert older["effective_date"] == "2025-01-01"
    assert older["assessment_reminders"] == [] and latest["assessment_reminders"] == ["P7D", "P2D", "P1D"]


async def test_a_version_dated_in_the_future_is_listed_as_upcoming_not_as_current(tmp_path: Path) -> None:
    shipped = load_policy_book()
    current = shipped.latest("king-county")
    assert current is not None
    next_year = (utcnow() + timedelta(days=400)).date()
    upcoming = current.model_copy(update={"version": "next", "effective_date": next_year})
    book = PolicyBook([*(p for j in shipped.ids() for p in shipped.versions(j)), upcoming])
    intake = bootstrap(IntakeSettings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'intake.db'}"))
    intake.policies = book
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=build_api(intake)), base_url="http://i") as http:
            listed = {item["id"]: item for item in (await http.get("/v1/jurisdictions")).json()}
            detail = (await http.get("/v1/jurisdictions/king-county")).json()
            future = (await http.get("/v1/jurisdictions/king-county", params={"version": "next"})).json()
    finally:
        await intake.engine.dispose()

    assert listed["king-county"]["version"] == "2026-12-06"
    assert detail["version"] == "2026-12-06"
    assert [(v["version"], v["standing"]) for v in detail["versions"]] == [
        ("2025-01-01", "past"),
        ("2026-01-01", "past"),
        ("2026-12-01", "past"),
        ("2026-12-06", "current"),
        ("next", "upcoming"),
    ]
    assert future["version"] == "next" and future["effective_date"] == next_year.isoformat()


async def test_the_detail_shows_sources_drug_types_drivers_and_convictions(client: httpx.AsyncClient) -> None:
    king = (await client.get("/v1/jurisdictions/king-county")).json()
    assert king["convictions"]["within_years"] == 10
    assert king["convictions"]["any_time"] == ["murder", "arson", "robbery", "rape", "assault_with_weapon"]
    assert king["convictions"]["within"] == ["burglary", "domestic_violence", "assault"]
    assert "dui" in king["convictions"]["other"]
    assert king["convictions"]["source"]["url"].startswith("https://")
    assert "disqualifying_conviction" not in [e["code"] for e in king["exclusions"]]
    assert all(rule["source"] for rule in king["offenses"] + king["exclusions"])
    assumed = next(o for o in king["offenses"] if o["category"] == "trespass")["source"]
    assert assumed["assumption"] is True and assumed["note"]

    santa_fe = (await client.get("/v1/jurisdictions/santa-fe")).json()
    possession = next(o for o in santa_fe["offenses"] if o["category"] == "drug_possession")
    assert possession["drug_types"] == ["heroin", "fentanyl", "opioid", "prescription_opioid_pills"]
    assert possession["drug_types_without_limit"] == ["prescription_opioid_pills"]
    assert santa_fe["pathways"] == ["arrest_diversion", "social_contact"]
    assert santa_fe["social_contact"]["source"]["assumption"] is True
    assert santa_fe["sources"]["minimum_age"]["url"] == "https://www.lead-santafe.org/about/referral-process"

    albany = (await client.get("/v1/jurisdictions/albany")).json()
    assert albany["offenses"] == [] and albany["eligible_by_contact_drivers"] == [
        "drug_use",
        "mental_illness",
        "poverty",
    ]
    excluded = {e["category"]: e["source"] for e in albany["excluded_offense_categories"]}
    assert sorted(excluded) == ["exploitation_of_minors", "sex_offense", "violent_felony"]
    assert excluded["violent_felony"]["assumption"] is True
    assert albany["sources"]["contact_drivers"]["url"].startswith("https://albanyny.gov/")

    # An older version shows what it had: no sources, no computed convictions.
    older = (await client.get("/v1/jurisdictions/king-county", params={"version": "2026-01-01"})).json()
    assert older["convictions"] is None and older["sources"] == {
        "pathways": None,
        "assessment": None,
        "minimum_age": None,
        "contact_drivers": None,
    }
    assert "disqualifying_conviction" in [e["code"] for e in older["exclusions"]]


async def test_unknown_jurisdictions_and_versions_are_problem_404s(client: httpx.AsyncClient) -> None:
    for path, params in [("/v1/jurisdictions/atlantis", {}), ("/v1/jurisdictions/king-county", {"version": "1999"})]:
        response = await client.get(path, params=params)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith(PROBLEM_JSON)
        assert response.json()["status"] == 404


async def test_the_routes_are_documented_under_their_tag(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    route = schema["paths"]["/v1/jurisdictions/{jurisdiction}"]["get"]
    assert route["tags"] == ["jurisdictions"] and route["description"]
    assert PROBLEM_JSON in route["responses"]["404"]["content"]
    assert route["security"] == [] and "401" not in route["responses"]  # public: no token asked for
    assert schema["components"]["schemas"]["JurisdictionView"]["description"]
