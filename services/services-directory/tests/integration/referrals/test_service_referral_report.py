"""The service-referral report over REST: its rows, the caller's jurisdiction only, the window and
pages, Part 2 referrals withheld, the audit of every call, and 422s naming the field."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest

from divert_directory.entrypoints.reports_api import ServiceReferralRow
from divert_platform.audit import audit_log
from divert_platform.clock import utcnow
from divert_platform.settings import DEFAULT_CASE_AGENCIES

REPORT = "/v1/reports/service-referrals"
EVALUATION_TEAM = "demo-evaluation-team"
"""The evaluation organisation of assessment's sample registry: a consent naming it lets Part 2
needs into assessment's extract."""


@dataclass(frozen=True)
class Referred:
    """A king-county case referred for housing (then accepted and completed) and for treatment
    (Part 2), and an albany case referred for food."""

    referral_id: UUID
    housing: dict[str, Any]
    treatment: dict[str, Any]
    albany_referral_id: UUID
    food: dict[str, Any]


async def refer(client: httpx.AsyncClient, referral_id: UUID, service_id: UUID, need: str, **headers: str) -> Any:
    response = await client.post(
        "/v1/service-referrals",
        json={"referral_id": str(referral_id), "service_id": str(service_id), "need": need},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def move(client: httpx.AsyncClient, made: dict[str, Any], *statuses: str) -> dict[str, Any]:
    for status in statuses:
        response = await client.post(
            f"/v1/service-referrals/{made['service_referral_id']}/status", json={"status": status}
        )
        assert response.status_code == 200, response.text
        made = response.json()
    return made


def window(**overrides: str) -> dict[str, str]:
    now = utcnow()
    return {"from": (now - timedelta(hours=1)).isoformat(), "to": (now + timedelta(hours=1)).isoformat()} | overrides


@pytest.fixture
async def referred(client, catalogue, cases, bearer) -> Referred:
    shelter = await catalogue.add("Shelter", "housing")
    clinic = await catalogue.add("Clinic", "substance_use_treatment")
    pantry = await catalogue.add("Pantry", "food", jurisdictions=("albany",))
    referral_id = await cases.open("king-county", ("housing", 1), ("substance_use_treatment", 2))
    await cases.consent(referral_id, await catalogue.organization_of(shelter))
    await cases.consent(referral_id, await catalogue.organization_of(clinic), part2=True)
    housing = await move(client, await refer(client, referral_id, shelter, "housing"), "accepted", "completed")
    treatment = await refer(client, referral_id, clinic, "substance_use_treatment")
    assert treatment["part2"] is True
    albany = await cases.open("albany", ("food", 1))
    await cases.consent(albany, await catalogue.organization_of(pantry), jurisdiction="albany")
    albany_cm = bearer("case_manager", agency=DEFAULT_CASE_AGENCIES["albany"], subject="cm-9")
    food = await refer(client, albany, pantry, "food", **albany_cm)
    return Referred(referral_id, housing, treatment, albany, food)


@pytest.mark.parametrize("role", ["program_manager", "evaluator"])
async def test_rows_say_which_case_need_service_and_status_and_nothing_else(client, referred, bearer, role) -> None:
    response = await client.get(REPORT, params=window(), headers=bearer(role, subject="eval-1"))

    assert response.status_code == 200, response.text
    report = response.json()
    assert report["jurisdiction"] == "king-county" and report["next_cursor"] is None
    [row] = report["items"]  # the Part 2 referral is withheld, albany's is another jurisdiction's
    housing = referred.housing
    assert row == {
        "referral_id": str(referred.referral_id),
        "service_referral_id": housing["service_referral_id"],
        "need": "housing",
        "service_id": housing["service_id"],
        "organization_id": housing["organization_id"],
        "status": "completed",
        "made_at": housing["made_at"],
        "updated_at": housing["updated_at"],
        "history": [{"status": s["status"], "reason": s["reason"], "at": s["at"]} for s in housing["history"]],
    }
    assert [step["status"] for step in row["history"]] == ["sent", "accepted", "completed"]
    assert set(row) == set(ServiceReferralRow.model_fields)  # no consent, party, actor or agency


async def test_each_jurisdiction_sees_its_own_referrals_only(client, referred, bearer) -> None:
    albany = await client.get(REPORT, params=window(), headers=bearer("evaluator", jurisdiction="albany"))
    king = await client.get(REPORT, params=window(), headers=bearer("program_manager"))

    assert albany.status_code == 200, albany.text
    assert [row["service_referral_id"] for row in albany.json()["items"]] == [referred.food["service_referral_id"]]
    assert albany.json()["items"][0]["referral_id"] == str(referred.albany_referral_id)
    assert referred.food["service_referral_id"] not in {row["service_referral_id"] for row in king.json()["items"]}


async def test_a_part2_referral_is_withheld_even_under_a_consent_naming_the_evaluators(
    client, referred, cases, bearer
) -> None:
    # What lets the need into assessment's extract: in force, part2, assessment_needs or wider,
    # naming the program's evaluators. The directory cannot tell the party is one, so it withholds.
    await cases.consent(
        referred.referral_id, EVALUATION_TEAM, purpose="care_coordination", part2=True, scope="full_case"
    )

    for role in ("program_manager", "evaluator"):
        response = await client.get(REPORT, params=window(), headers=bearer(role))

        assert response.status_code == 200, response.text
        shown = [(row["service_referral_id"], row["need"]) for row in response.json()["items"]]
        assert shown == [(referred.housing["service_referral_id"], "housing")]


async def test_the_window_is_on_made_at_from_inclusive_to_exclusive_and_pages_follow(
    client, referred, catalogue, cases, bearer
) -> None:
    food = await catalogue.add("Kitchen", "food")
    later_case = await cases.open("king-county", ("food", 1))
    await cases.consent(later_case, await catalogue.organization_of(food))
    later = await refer(client, later_case, food, "food")
    evaluator = bearer("evaluator")

    only_first = await client.get(
        REPORT, params={"from": referred.housing["made_at"], "to": later["made_at"]}, headers=evaluator
    )
    first = await client.get(REPORT, params=window(limit="1"), headers=evaluator)
    second = await client.get(REPORT, params=window(limit="1", cursor=first.json()["next_cursor"]), headers=evaluator)

    assert [row["need"] for row in only_first.json()["items"]] == ["housing"]
    assert [row["need"] for row in first.json()["items"]] == ["housing"] and first.json()["next_cursor"]
    assert [row["need"] for row in second.json()["items"]] == ["food"] and second.json()["next_cursor"] is None
    assert second.json()["items"][0]["referral_id"] == str(later_case)


async def test_every_call_is_audited_with_its_window_and_count_and_each_case_read(
    client, referred, bearer, rows
) -> None:
    start, end = "2020-01-01T00:00:00+00:00", (utcnow() + timedelta(days=1)).isoformat()
    headers = bearer("evaluator", subject="eval-1") | {"X-Divert-Purpose": "quarterly evaluation"}
    empty = bearer("evaluator", subject="eval-1", jurisdiction="santa-fe")

    assert (await client.get(REPORT, params={"from": start, "to": end}, headers=headers)).status_code == 200
    assert (await client.get(REPORT, params={"from": start, "to": end}, headers=empty)).status_code == 200

    entries = await rows(audit_log, audit_log.c.actor == "eval-1")
    summaries = sorted(e["resource"] for e in entries if e["referral_id"] is None)
    stamp = f"2020-01-01T00:00:00Z/{end[:19]}Z"
    assert summaries == [
        f"service_referral_report king-county {stamp} rows=1",
        f"service_referral_report santa-fe {stamp} rows=0",
    ]
    per_case = [(e["referral_id"], e["resource"], e["role"], e["purpose"]) for e in entries if e["referral_id"]]
    assert per_case == [(str(referred.referral_id), "service_referral_report", "evaluator", "quarterly evaluation")]
    trail = await client.get(
        "/v1/audit", params={"referral_id": str(referred.referral_id)}, headers=bearer("program_manager")
    )
    assert ("eval-1", "service_referral_report") in {(e["actor"], e["what"]) for e in trail.json()["entries"]}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"to": "2026-01-01T00:00:00Z"}, "query.from"),
        ({"from": "2026-01-01T00:00:00", "to": "2026-02-01T00:00:00Z"}, "query.from"),
        ({"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "query.to"),
        ({"from": "0001-01-01T00:00:00+01:00", "to": "2026-01-01T00:00:00Z"}, "query.from"),
        ({"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z", "limit": 1001}, "query.limit"),
        ({"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z", "cursor": "bm90LWEtY3Vyc29y"}, "query.cursor"),
    ],
    ids=["no-from", "naive-from", "to-before-from", "from-out-of-range", "limit", "cursor"],
)
async def test_bad_queries_are_422_naming_the_field(client, bearer, params, field) -> None:
    response = await client.get(REPORT, params=params, headers=bearer("evaluator"))

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [error["field"] for error in response.json()["errors"]] == [field]


@pytest.mark.parametrize(
    ("role", "claims"),
    [("case_manager", {}), ("officer", {}), ("evaluator", {"jurisdiction": None})],
    ids=["case-manager", "officer", "evaluator-without-jurisdiction"],
)
async def test_only_program_managers_and_evaluators_naming_a_jurisdiction_may_read(
    client, bearer, role, claims
) -> None:
    response = await client.get(REPORT, params=window(), headers=bearer(role, **claims))

    assert response.status_code == 403, response.text
