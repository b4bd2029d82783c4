"""The read models: rebuilt from the event store through `project`, and migrated from 0001."""

import asyncio
from datetime import timedelta
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import JSON, DateTime, column, delete, insert, select, table
from sqlalchemy.ext.asyncio import create_async_engine

from divert_assessment.adapters.projections import project
from divert_assessment.adapters.tables import cases, consents, person_cases
from divert_assessment.bootstrap import MIGRATIONS
from divert_assessment.domain.case import Case
from divert_platform.clock import utcnow
from divert_platform.schema import events
from divert_platform.settings import DEFAULT_CASE_AGENCIES
from divert_platform.testing import migrate

CASE_AGENCY = DEFAULT_CASE_AGENCIES["king-county"]

READ_MODELS = (cases, consents, person_cases)
# the repository projects just after appending, so `updated_at` trails the event's `recorded_at`
UPDATED_AT_SLACK = timedelta(seconds=1)
# `cases` as revision 0001 left it, with the types its values need
CASES_AT_0001 = table(
    "cases",
    *(column(name) for name in ("referral_id", "status", "jurisdiction", "pathway", "rms_agency", "given_name")),
    *(column(name) for name in ("family_name", "rms_person_id", "case_manager_id", "on_time")),
    *(column(name, DateTime(timezone=True)) for name in ("referred_at", "opened_at", "completed_at", "updated_at")),
    column("needs", JSON),
)


async def snapshot(assessment) -> dict[str, list[dict[str, Any]]]:
    """Every read-model row by table, times in UTC, in referral order."""
    tables: dict[str, list[dict[str, Any]]] = {}
    async with assessment.unit_of_work() as uow:
        for table in READ_MODELS:
            rows = [dict(row._mapping) for row in await uow.session.execute(select(table))]
            tables[table.name] = sorted(rows, key=lambda row: str(row["referral_id"]))
    return tables


async def rebuild(assessment) -> None:
    """Empty the read models and replay every stored event through `project`, oldest first."""
    async with assessment.unit_of_work() as uow:
        for table in READ_MODELS:
            await uow.session.execute(delete(table))
        for stored in await uow.session.execute(select(events).order_by(events.c.position)):
            event = Case.event_types()[stored.event_type].model_validate(stored.data)
            await project(uow.session, event, recorded_at=stored.recorded_at)
        await uow.commit()


def same_rows(after: dict[str, list[dict[str, Any]]], before: dict[str, list[dict[str, Any]]]) -> None:
    """Every row and column equal; `updated_at` within the moment between appending and projecting."""
    assert after.keys() == before.keys()
    for name in before:
        assert len(after[name]) == len(before[name]), name
        for rebuilt, original in zip(after[name], before[name], strict=True):
            assert rebuilt.keys() == original.keys()
            if "updated_at" in original:
                assert abs(rebuilt.pop("updated_at") - original["updated_at"]) < UPDATED_AT_SLACK
                original = {k: v for k, v in original.items() if k != "updated_at"}
            assert rebuilt == original, name


async def funnel_reports(client, caseload, bearer) -> list[dict[str, Any]]:
    """The funnel over the caseload's window and over all time, for each jurisdiction's program manager."""
    window = {"from": caseload.referred_from.isoformat(), "to": caseload.referred_to.isoformat()}
    all_time = {"from": "2000-01-01T00:00:00+00:00", "to": caseload.referred_to.isoformat()}
    reports = []
    for params in (window, all_time):
        for jurisdiction in ("king-county", "snohomish"):
            headers = bearer("program_manager", jurisdiction=jurisdiction)
            response = await client.get("/v1/reports/funnel", params=params, headers=headers)
            assert response.status_code == 200, response.text
            reports.append(response.json())
    return reports


async def test_replaying_every_event_through_project_rebuilds_the_read_models(
    client, caseload, assessment, bearer
) -> None:
    before, reports_before = await snapshot(assessment), await funnel_reports(client, caseload, bearer)

    await rebuild(assessment)

    after = await snapshot(assessment)
    assert [len(rows) for rows in after.values()] == [8, 2, 8]
    assert {row["status"] for row in after["cases"]} == {"pending_assessment", "enrolled", "closed"}
    assert any(row["previous_referral_id"] for row in after["cases"])  # the re-referral's link
    assert {row["agency"] for row in after["cases"]} == {CASE_AGENCY}  # the owning agency is in CaseOpened
    same_rows(after, before)
    assert await funnel_reports(client, caseload, bearer) == reports_before
    assert [report["referred"] for report in reports_before] == [3, 4, 4, 4]  # `old` is outside the window


async def test_an_assessed_case_from_0001_keeps_its_assessment_after_0002(database_url) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    await asyncio.to_thread(command.upgrade, config, "0001")
    engine = create_async_engine(database_url)
    now = utcnow()
    row = {
        "referral_id": "00000000-0000-0000-0000-000000000001",
        "status": "assessed",
        "jurisdiction": "king-county",
        "pathway": "arrest_diversion",
        "rms_agency": "SPD",
        "referred_at": now,
        "opened_at": now,
        "given_name": "Ana",
        "family_name": "Diaz",
        "rms_person_id": "P-9",
        "completed_at": now,
        "case_manager_id": "cm-7",
        "on_time": True,
        "needs": [],
        "updated_at": now,
    }
    try:
        async with engine.begin() as connection:
            await connection.execute(insert(CASES_AT_0001).values(row))

        await migrate(database_url, MIGRATIONS)

        async with engine.connect() as connection:
            migrated = (await connection.execute(select(cases))).one()._mapping
            [person] = (await connection.execute(select(person_cases))).all()
    finally:
        await engine.dispose()
    assert (migrated["assessed_by"], migrated["case_manager_id"], migrated["assessed_on_time"]) == (
        "cm-7",
        "cm-7",
        True,
    )
    assert migrated["contacts_attempted"] == 0 and migrated["closed_at"] is None
    assert (person.rms_person_id, person.closed) == ("P-9", False)
