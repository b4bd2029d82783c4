"""The funnel broken down by month, pathway, precinct and policy version (`by=`), over the mixed
caseload (see `caseload` in conftest), and the columns that make it possible (revision 0007)."""

from datetime import timedelta
from typing import Any
from uuid import uuid4

from sqlalchemy import column, insert, inspect, select, table
from sqlalchemy.ext.asyncio import create_async_engine

from divert_assessment.adapters.reports import months_of
from divert_assessment.adapters.tables import cases
from divert_assessment.bootstrap import MIGRATIONS
from divert_contracts.referrals import Location
from divert_platform.clock import utcnow
from divert_platform.testing import migrate, migrate_to

FUNNEL = "/v1/reports/funnel"
COUNTS = ("referred", "contacted", "assessed", "declined")


def window(caseload: Any, **params: str) -> dict[str, str]:
    return {"from": caseload.referred_from.isoformat(), "to": caseload.referred_to.isoformat()} | params


async def report(client, caseload, headers, **params: str) -> dict[str, Any]:
    response = await client.get(FUNNEL, params=window(caseload, **params), headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_without_by_the_totals_are_unchanged_and_no_groups_are_given(client, caseload, program_manager) -> None:
    plain = await report(client, caseload, program_manager)
    grouped = await report(client, caseload, program_manager, by="pathway")

    assert plain["by"] is None and plain["groups"] is None
    assert {k: v for k, v in grouped.items() if k not in ("by", "groups")} == {
        k: v for k, v in plain.items() if k not in ("by", "groups")
    }
    assert plain["assessed_late"] == {"count": 1, "percent": 50.0}  # k2
    assert plain["assessed_on_time"]["count"] + plain["assessed_late"]["count"] == plain["assessed"]


async def test_by_pathway_each_group_is_counted_like_the_totals(client, caseload, bearer) -> None:
    funnel = await report(client, caseload, bearer("program_manager", jurisdiction="snohomish"), by="pathway")

    groups = {group["key"]: group for group in funnel["groups"]}
    assert funnel["by"] == "pathway" and list(groups) == ["arrest_diversion", "social_contact"]
    social, arrests = groups["social_contact"], groups["arrest_diversion"]
    assert tuple(social[k] for k in COUNTS) == (1, 1, 1, 0)  # s1
    assert tuple(arrests[k] for k in COUNTS) == (3, 0, 1, 0)  # s2, s3, r1
    assert social["median_hours_to_first_contact"] == 30.0 and arrests["median_hours_to_first_contact"] is None
    assert arrests["enrolled"] == {"count": 1, "percent": 100.0}
    assert arrests["closed_by_reason"]["long_term_no_contact"] == 1 and arrests["closed_by_reason"]["transferred"] == 1
    for count in COUNTS:
        assert sum(group[count] for group in groups.values()) == funnel[count]


async def test_by_precinct_and_policy_version_from_the_referral_with_unknown_last(
    client, caseload, open_case, program_manager
) -> None:
    recent = utcnow() - timedelta(days=1)
    await open_case(referred_at=recent, location=Location(precinct="West"), policy_version="2026-02")
    await open_case(referred_at=recent, location=Location(), policy_version="2026-02")

    by_precinct = await report(client, caseload, program_manager, by="precinct")
    by_version = await report(client, caseload, program_manager, by="policy_version")

    assert [(g["key"], g["referred"]) for g in by_precinct["groups"]] == [("East", 3), ("West", 1), (None, 1)]
    assert [(g["key"], g["referred"]) for g in by_version["groups"]] == [("2025-01", 3), ("2026-02", 2)]
    east = by_precinct["groups"][0]
    assert east["assessed_on_time"] == {"count": 1, "percent": 50.0} and east["declined"] == 1


async def test_by_month_every_month_of_the_window_is_a_group_and_they_add_up(client, caseload, program_manager) -> None:
    funnel = await report(client, caseload, program_manager, by="month")

    expected = [key for key, _, _ in months_of(caseload.referred_from, caseload.referred_to)]
    assert [group["key"] for group in funnel["groups"]] == expected and len(expected) >= 2
    for count in COUNTS:
        assert sum(group[count] for group in funnel["groups"]) == funnel[count]


async def test_a_bad_by_or_too_many_months_is_422_naming_the_field(client, program_manager) -> None:
    bad = await client.get(
        FUNNEL,
        params={"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z", "by": "agency"},
        headers=program_manager,
    )
    long = await client.get(
        FUNNEL,
        params={"from": "2000-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z", "by": "month"},
        headers=program_manager,
    )

    for response in (bad, long):
        assert response.status_code == 422
        assert [error["field"] for error in response.json()["errors"]] == ["query.by"]


def test_months_of_a_window_cut_it_at_month_boundaries_in_utc() -> None:
    from datetime import UTC, datetime

    start, end = datetime(2025, 11, 20, tzinfo=UTC), datetime(2026, 1, 3, tzinfo=UTC)
    assert months_of(start, end) == [
        ("2025-11", start, datetime(2025, 12, 1, tzinfo=UTC)),
        ("2025-12", datetime(2025, 12, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)),
        ("2026-01", datetime(2026, 1, 1, tzinfo=UTC), end),
    ]


async def test_a_case_from_before_0007_has_no_precinct_or_version_and_0007_downgrades(database_url) -> None:
    await migrate_to(database_url, MIGRATIONS, "upgrade", "0006")
    engine = create_async_engine(database_url)
    now = utcnow()
    row = {"referral_id": str(uuid4()), "status": "pending_assessment", "jurisdiction": "king-county"}
    row |= {"pathway": "arrest_diversion", "rms_agency": "SPD", "given_name": "Ana", "family_name": "Diaz"}
    row |= {"referred_at": now, "opened_at": now, "updated_at": now}
    try:
        async with engine.begin() as connection:
            await connection.execute(insert(table("cases", *(column(name) for name in row))).values(row))
        await migrate(database_url, MIGRATIONS)
        async with engine.connect() as connection:
            migrated = (await connection.execute(select(cases))).one()._mapping
        await migrate_to(database_url, MIGRATIONS, "downgrade", "0006")
        async with engine.connect() as connection:
            columns = await connection.run_sync(lambda sync: {c["name"] for c in inspect(sync).get_columns("cases")})
    finally:
        await engine.dispose()
    assert (migrated["precinct"], migrated["policy_version"]) == (None, None)
    assert set(row) < columns and not {"precinct", "policy_version"} & columns
