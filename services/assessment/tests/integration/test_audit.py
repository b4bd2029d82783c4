"""The audit trail: every read of a case by a person (with the purpose given), every disclosure
decision, and `GET /v1/audit` showing reads and writes to program managers of the jurisdiction."""

import asyncio
from datetime import datetime, timedelta

from alembic import command
from alembic.config import Config
from sqlalchemy import column, insert, inspect, select, table
from sqlalchemy.ext.asyncio import create_async_engine

from divert_assessment.adapters.tables import cases
from divert_assessment.bootstrap import MIGRATIONS
from divert_platform.audit import audit_log
from divert_platform.clock import utcnow
from divert_platform.testing import migrate

PURPOSE = {"X-Divert-Purpose": "weekly case review"}


async def reads(rows, referral_id) -> list[dict]:
    return await rows(audit_log, audit_log.c.referral_id == str(referral_id))


async def test_reading_a_case_records_who_read_it_and_why(client, open_case, rows) -> None:
    accepted = await open_case()

    assert (await client.get(f"/v1/cases/{accepted.referral_id}", headers=PURPOSE)).status_code == 200

    [read] = await reads(rows, accepted.referral_id)
    assert (read["actor"], read["role"], read["agency"]) == ("cm-7", "case_manager", "reach-king-county")
    assert (read["action"], read["resource"], read["purpose"]) == ("read", "case", "weekly case review")
    assert utcnow() - timedelta(minutes=1) < read["at"] <= utcnow()


async def test_the_list_records_one_read_per_case_listed(client, open_case, rows) -> None:
    first, second = await open_case(), await open_case()
    await open_case(jurisdiction="albany", policy="albany")  # another agency's: not listed, not recorded

    listed = (await client.get("/v1/cases", headers=PURPOSE)).json()["items"]

    recorded = await rows(audit_log, audit_log.c.resource == "case list")
    assert len(listed) == 2
    assert sorted(r["referral_id"] for r in recorded) == sorted([str(first.referral_id), str(second.referral_id)])
    assert {(r["actor"], r["purpose"]) for r in recorded} == {("cm-7", "weekly case review")}


async def test_a_case_not_found_records_nothing(client, open_case, rows) -> None:
    theirs = await open_case(jurisdiction="albany", policy="albany")

    assert (await client.get(f"/v1/cases/{theirs.referral_id}")).status_code == 404

    assert await reads(rows, theirs.referral_id) == []


async def test_disclosures_granted_and_refused_are_recorded(client, caseload, rows) -> None:
    referral_id = caseload.ids["k1"]
    url = f"/v1/cases/{referral_id}/disclosures"
    granted = await client.post(url, json={"party": "demo-health-clinic", "scope": "full_case"}, headers=PURPOSE)
    refused = await client.post(url, json={"party": "demo-food-bank", "scope": "contact_details"})
    unknown = await client.post(url, json={"party": "org-unknown", "scope": "contact_details"})
    enforcement = await client.post(url, json={"party": "seattle-police", "scope": "program_status"})

    assert [r.status_code for r in (granted, refused, unknown, enforcement)] == [200, 403, 422, 403]
    recorded = [r for r in await reads(rows, referral_id) if r["resource"].startswith("disclosure")]
    assert [(r["resource"], r["purpose"]) for r in recorded] == [
        (
            f"disclosure of full_case to demo-health-clinic under consent {granted.json()['consent_id']}",
            "weekly case review",
        ),
        ("disclosure of contact_details to demo-food-bank refused: no_consent_for_party", None),
        ("disclosure of contact_details to org-unknown refused: party_not_registered", None),
        ("disclosure of program_status to seattle-police refused: party_is_enforcement", None),
    ]
    assert {(r["actor"], r["role"], r["agency"]) for r in recorded} == {("cm-7", "case_manager", "reach-king-county")}


async def test_program_managers_see_reads_and_writes_of_their_jurisdiction(client, open_case, program_manager) -> None:
    accepted = await open_case()
    contact = {"at": (utcnow() - timedelta(minutes=5)).isoformat(), "method": "phone", "outcome": "made"}
    assert (await client.post(f"/v1/cases/{accepted.referral_id}/contacts", json=contact)).status_code == 201
    assert (await client.get(f"/v1/cases/{accepted.referral_id}", headers=PURPOSE)).status_code == 200

    response = await client.get("/v1/audit", params={"referral_id": str(accepted.referral_id)}, headers=program_manager)

    assert response.status_code == 200, response.text
    page = response.json()
    assert page["referral_id"] == str(accepted.referral_id)
    assert [(e["action"], e["what"], e["actor"], e["role"], e["agency"], e["purpose"]) for e in page["entries"]] == [
        ("write", "CaseOpened", "/divert/intake", "service", None, None),
        ("write", "ContactRecorded", "cm-7", "case_manager", "reach-king-county", None),
        ("read", "case", "cm-7", "case_manager", "reach-king-county", "weekly case review"),
    ]
    times = [datetime.fromisoformat(e["at"]) for e in page["entries"]]
    assert times == sorted(times)
    assert "Ana" not in response.text and "555-0100" not in response.text


async def test_the_audit_is_only_for_program_managers_of_the_cases_jurisdiction(client, open_case, bearer) -> None:
    accepted = await open_case()
    params = {"referral_id": str(accepted.referral_id)}

    other = await client.get("/v1/audit", params=params, headers=bearer("program_manager", jurisdiction="albany"))
    unscoped = await client.get("/v1/audit", params=params, headers=bearer("program_manager", jurisdiction=None))
    case_manager = await client.get("/v1/audit", params=params)
    unknown = await client.get("/v1/audit", params={"referral_id": "nope"}, headers=bearer("program_manager"))

    # another jurisdiction's referral does not exist for this manager; no jurisdiction claim is refused
    assert [r.status_code for r in (other, unscoped, case_manager, unknown)] == [404, 403, 403, 404]


async def test_0003_gives_existing_cases_their_jurisdictions_agency_and_adds_the_audit_log(
    database_url, monkeypatch
) -> None:
    monkeypatch.setenv("DIVERT_CASE_AGENCIES", '{"king-county": "reach", "albany": "albany-lead"}')
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    await asyncio.to_thread(command.upgrade, config, "0002")
    at_0002 = table(
        "cases",
        *(column(name) for name in ("referral_id", "status", "jurisdiction", "pathway", "rms_agency")),
        *(column(name) for name in ("given_name", "family_name", "contacts_attempted")),
        *(column(name) for name in ("referred_at", "opened_at", "updated_at")),
    )
    now = utcnow()
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            for n, jurisdiction in enumerate(("king-county", "albany", "nowhere"), start=1):
                row = {
                    "referral_id": f"00000000-0000-0000-0000-00000000000{n}",
                    "status": "pending_assessment",
                    "jurisdiction": jurisdiction,
                    "pathway": "social_contact",
                    "rms_agency": "SPD",
                    "given_name": "Ana",
                    "family_name": "Diaz",
                    "contacts_attempted": 0,
                    "referred_at": now,
                    "opened_at": now,
                    "updated_at": now,
                }
                await connection.execute(insert(at_0002).values(row))

        await migrate(database_url, MIGRATIONS)

        async with engine.connect() as connection:
            migrated = (await connection.execute(select(cases.c.jurisdiction, cases.c.agency))).all()
            tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    finally:
        await engine.dispose()
    assert sorted(migrated) == [("albany", "albany-lead"), ("king-county", "reach"), ("nowhere", None)]
    assert "audit_log" in tables
