"""The read models: rebuilt from the event store through `project`, and migrated from 0001."""

import asyncio
from datetime import datetime, timedelta
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import JSON, DateTime, column, delete, insert, select, table
from sqlalchemy.ext.asyncio import create_async_engine

from divert_assessment.adapters.projections import project
from divert_assessment.adapters.tables import cases, consents, person_cases
from divert_assessment.bootstrap import MIGRATIONS
from divert_assessment.domain.events import EVENT_TYPES
from divert_platform.clock import as_utc, utcnow
from divert_platform.schema import events
from divert_platform.testing import migrate

READ_MODELS = (cases, consents, person_cases)
# `cases` as revision 0001 left it, with the types its values need
CASES_AT_0001 = table(
    "cases",
    *(column(name) for name in ("referral_id", "status", "jurisdiction", "pathway", "rms_agency", "given_name")),
    *(column(name) for name in ("family_name", "rms_person_id", "case_manager_id", "on_time")),
    *(column(name, DateTime(timezone=True)) for name in ("referred_at", "opened_at", "completed_at", "updated_at")),
    column("needs", JSON),
)


async def snapshot(assessment) -> dict[str, list[dict[str, Any]]]:  # type: ignore[no-untyped-def]
    """Every read-model row by table, times in UTC, in referral order."""
    tables: dict[str, list[dict[str, Any]]] = {}
    async with assessment.unit_of_work() as uow:
        for table in READ_MODELS:
            rows = [dict(row._mapping) for row in await uow.session.execute(select(table))]
            in_utc = [{k: as_utc(v) if isinstance(v, datetime) else v for k, v in row.items()} for row in rows]
            tables[table.name] = sorted(in_utc, key=lambda row: str(row["referral_id"]))
    return tables


async def test_replaying_every_event_through_project_rebuilds_the_read_models(client, open_case, assessment) -> None:  # type: ignore[no-untyped-def]
    accepted = await open_case()
    url = f"/v1/cases/{accepted.referral_id}"
    now = utcnow()
    await client.post(
        f"{url}/assessment", json={"completed_at": now.isoformat(), "case_manager_id": "cm-7", "needs": []}
    )
    await client.post(f"{url}/contacts", json={"at": now.isoformat(), "method": "phone", "outcome": "made"})
    body = {"parties": ["org-a"], "purpose": "care_coordination", "scope": "program_status", "part2": False}
    await client.post(f"{url}/consents", json=body | {"expires_at": (now + timedelta(days=1)).isoformat()})
    await client.post(f"{url}/closure", json={"reason": "transferred", "closed_at": utcnow().isoformat()})
    await open_case(subject=accepted.subject, rms=accepted.rms)  # a re-referral
    before = await snapshot(assessment)

    async with assessment.unit_of_work() as uow:
        for table in READ_MODELS:
            await uow.session.execute(delete(table))
        for stored in await uow.session.execute(select(events).order_by(events.c.position)):
            event = EVENT_TYPES[stored.event_type].model_validate(stored.data)
            await project(uow, event, recorded_at=stored.recorded_at)
        await uow.commit()

    after = await snapshot(assessment)
    assert [len(rows) for rows in after.values()] == [2, 1, 2]
    for table in ("consents", "person_cases"):
        assert after[table] == before[table]
    ignore_updated = [{k: v for k, v in row.items() if k != "updated_at"} for row in before["cases"]]
    assert [{k: v for k, v in row.items() if k != "updated_at"} for row in after["cases"]] == ignore_updated


async def test_an_assessed_case_from_0001_keeps_its_assessment_after_0002(database_url) -> None:  # type: ignore[no-untyped-def]
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
