"""Program reports through intake's REST API over real SQLite and PostgreSQL databases, with real
tokens: the referral funnel and the assessments due soon, checked against referrals the test makes
(through the API, and other services' news applied as the consumer applies it). Another
jurisdiction's referrals are never counted; bad input is a 422 naming the field. Which roles may
call the routes at all is the access matrix's (tests/e2e/test_access_matrix.py).

The jurisdiction `metro` has two versions of King County's policy: the first decides at once; the
second, in force from three days ago, makes every referral wait for the program manager (one
hour, declined when nobody decides), so one window holds every kind of decline."""

import copy
import dataclasses
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import inspect, select

from divert_contracts.base import IntegrationEvent
from divert_contracts.milestones import (
    CaseAssessedMilestone,
    CaseClosedMilestone,
    CaseEnrolledMilestone,
    CaseOpenedMilestone,
)
from divert_contracts.warrants import WarrantRequested, WarrantRequestRescinded
from divert_intake.adapters.tables import referral_status
from divert_intake.bootstrap import MIGRATIONS, Intake
from divert_intake.domain.commands import ApplyApprovalTimeout, RecordLapse
from divert_intake.domain.policy import ApprovalRule, PolicyBook, load_policy_book
from divert_intake.entrypoints.api import build_api
from divert_intake.entrypoints.consumer import consumer_handlers
from divert_intake.service_layer import handlers
from divert_platform.cause import Cause, caused_by_event
from divert_platform.testing import migrate_to

Headers = dict[str, str]
Token = Callable[..., Headers]

METRO = "metro"
FIRST, GATED = "2026-01-01", "2026-gated"
ZONE = ZoneInfo("America/Los_Angeles")
NOW = datetime.now(UTC)
REPORT_COLUMNS = [
    referral_status.c[name]
    for name in (
        "precinct",
        "policy_version",
        "decline_kind",
        "accepted_at",
        "lapsed_at",
        "case_opened_at",
        "warrant_requested_at",
        "warrant_rescinded_at",
    )
]


def metro_book() -> PolicyBook:
    """The shipped policies, and `metro`: King County's first version, then the same gated."""
    shipped = load_policy_book()
    king = shipped.version("king-county", "2026-01-01")
    assert king is not None
    first = king.model_copy(update={"id": METRO, "name": "Metro LEAD", "version": FIRST})
    gated = first.model_copy(
        update={
            "version": GATED,
            "effective_date": (NOW - timedelta(days=3)).astimezone(ZONE).date(),
            "approval": ApprovalRule(by="program_manager", within=timedelta(hours=1), on_timeout="decline"),
        }
    )
    return PolicyBook([*(p for j in shipped.ids() for p in shipped.versions(j)), first, gated])


@pytest_asyncio.fixture
async def api(intake: Intake) -> AsyncIterator[tuple[httpx.AsyncClient, Intake]]:
    """The API over `metro_book`, and its parts."""
    parts = dataclasses.replace(intake, policies=metro_book())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=build_api(parts)), base_url="http://i") as http:
        yield http, parts


@pytest.fixture
def metro_officer(token: Token) -> Headers:
    return token("officer", subject="officer-m", agency="MPD", jurisdiction=METRO)


@pytest.fixture
def metro_manager(token: Token) -> Headers:
    return token("program_manager", subject="pm-metro", jurisdiction=METRO)


def referral(
    base: dict[str, Any], days_ago: float, precinct: str | None, *, pathway: str = "arrest_diversion", grams: float = 1
) -> dict[str, Any]:
    body = copy.deepcopy(base)
    body.update(jurisdiction=METRO, pathway=pathway, referred_at=(NOW - timedelta(days=days_ago)).isoformat())
    body["rms"] = {"agency": "MPD", "case_number": uuid4().hex[:12], "officer_id": "1"}
    body["location"] = {"precinct": precinct} if precinct else {}
    if pathway == "arrest_diversion":
        body["offense"]["drug_quantity_grams"] = grams
    else:  # a social contact rests on documented involvement, not on an offense
        body.pop("offense")
        body["screening"]["prior_involvement_documented_on"] = (NOW - timedelta(days=days_ago + 30)).date().isoformat()
    return body


async def submit(http: httpx.AsyncClient, officer: Headers, body: dict[str, Any]) -> dict[str, Any]:
    response = await http.post("/v1/referrals", json=body, headers=officer)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def deliver(intake: Intake, event: IntegrationEvent) -> None:
    """Apply another service's event as the consumer does: in its unit of work, caused by the event."""
    uow = intake.unit_of_work()
    uow.cause = caused_by_event("/divert/other", str(uuid4()), datetime.now(UTC))
    async with uow:
        await consumer_handlers(clock=_NoClock())[type(event)](event, uow)
        await uow.commit()


class _NoClock:
    """No deadline workflow runs here: the handlers tell it nothing that matters to a report."""

    async def record_assessment(self, *_: object) -> None: ...
    async def withdraw(self, *_: object) -> None: ...
    async def extend(self, *_: object) -> None: ...
    async def start(self, *_: object) -> None: ...


async def as_worker(intake: Intake, run: Callable[[Any], Any]) -> None:
    uow = intake.unit_of_work()
    uow.cause = Cause(actor="divert-intake-deadline-worker", role="deadline_worker")
    async with uow:
        await run(uow)
        await uow.commit()


@dataclasses.dataclass
class Cohort:
    """The referrals the test made in `metro`, by letter (see `cohort`)."""

    ids: dict[str, str]
    referred_at: dict[str, datetime]


@pytest_asyncio.fixture
async def cohort(
    api: tuple[httpx.AsyncClient, Intake],
    metro_officer: Headers,
    metro_manager: Headers,
    officer: Headers,
    referral_body: dict[str, Any],
) -> Cohort:
    """Twelve `metro` referrals, and one King County one that no `metro` report may count:

    A West, assessed on time, enrolled, closed; B West, lapsed, warrant requested then rescinded;
    C East, ineligible (5 g); D no precinct, social contact, withdrawn; E East, assessed late (all
    40 days ago, first version); F West due in about 5 days, its case opened; G West due in about
    10; H North,
    overdue without a recorded lapse (first version); I West waiting; J West denied; K West
    timed out; L South approved (an hour ago, gated version)."""
    http, intake = api
    made: dict[str, dict[str, Any]] = {}
    plan: dict[str, tuple[float, str | None, dict[str, Any]]] = {
        "A": (40, "West", {}),
        "B": (40, "West", {}),
        "C": (40, "East", {"grams": 5}),
        "D": (40, None, {"pathway": "social_contact"}),
        "E": (40, "East", {}),
        "F": (25, "West", {}),
        "G": (20, "West", {}),
        "H": (35, "North", {}),
        "I": (1 / 24, "West", {}),
        "J": (1 / 24, "West", {}),
        "K": (1 / 24, "West", {}),
        "L": (1 / 24, "South", {}),
    }
    for letter, (days_ago, precinct, options) in plan.items():
        made[letter] = await submit(http, metro_officer, referral(referral_body, days_ago, precinct, **options))
    await submit(http, officer, {**referral_body, "referred_at": (NOW - timedelta(days=25)).isoformat()})
    ids = {letter: created["referral_id"] for letter, created in made.items()}
    due = {
        letter: datetime.fromisoformat(c["assessment_due_by"]) for letter, c in made.items() if c["assessment_due_by"]
    }
    assert [made[x]["status"] for x in "ACIJKL"] == ["accepted", "declined", *["pending_approval"] * 4]

    a, b, e = UUID(ids["A"]), UUID(ids["B"]), UUID(ids["E"])
    opened = NOW - timedelta(days=39)
    await deliver(intake, CaseOpenedMilestone(referral_id=a, jurisdiction=METRO, opened_at=opened))
    await deliver(intake, CaseAssessedMilestone(referral_id=a, jurisdiction=METRO, completed_at=opened, on_time=True))
    await deliver(intake, CaseEnrolledMilestone(referral_id=a, jurisdiction=METRO, enrolled_at=opened))
    await deliver(intake, CaseClosedMilestone(referral_id=a, jurisdiction=METRO, closed_at=NOW))
    f_opened = CaseOpenedMilestone(referral_id=UUID(ids["F"]), jurisdiction=METRO, opened_at=NOW)
    await deliver(intake, f_opened)
    late = due["E"] + timedelta(days=1)
    await deliver(intake, CaseAssessedMilestone(referral_id=e, jurisdiction=METRO, completed_at=late, on_time=False))

    lapse = RecordLapse(b, due["B"], due["B"], at=datetime.now(UTC))
    await as_worker(intake, lambda uow: handlers.record_lapse(lapse, uow))
    request_id = uuid4()
    requested = WarrantRequested(
        warrant_request_id=request_id,
        referral_id=b,
        jurisdiction=METRO,
        kind="warrant_request",
        assessment_due_by=due["B"],
        lapsed_at=due["B"],
        requested_at=due["B"],
    )
    await deliver(intake, requested)
    rescinded = WarrantRequestRescinded(
        warrant_request_id=request_id,
        referral_id=b,
        jurisdiction=METRO,
        reason="assessed_before_deadline",
        rescinded_at=NOW,
    )
    await deliver(intake, rescinded)

    withdrawal = await http.post(
        f"/v1/referrals/{ids['D']}/withdrawal", json={"reason": "entered in error"}, headers=metro_manager
    )
    assert withdrawal.status_code == 200, withdrawal.text
    for letter, decision, code in (("J", "deny", "not_program_appropriate"), ("L", "approve", "meets_criteria")):
        decided = await http.post(
            f"/v1/referrals/{ids[letter]}/approval",
            json={"decision": decision, "reason_code": code},
            headers=metro_manager,
        )
        assert decided.status_code == 200, decided.text
    timeout = ApplyApprovalTimeout(UUID(ids["K"]), at=datetime.now(UTC) + timedelta(hours=2))
    await as_worker(intake, lambda uow: handlers.apply_approval_timeout(timeout, uow))
    referred_at = {letter: NOW - timedelta(days=plan[letter][0]) for letter in plan}
    return Cohort(ids, referred_at)


def rate(count: int, denominator: int) -> dict[str, Any]:
    return {"count": count, "denominator": denominator, "percent": round(100 * count / denominator, 1)}


async def report(http: httpx.AsyncClient, headers: Headers, **params: Any) -> httpx.Response:
    params = {"from": "2026-01-01T00:00:00Z", "to": (NOW + timedelta(days=1)).isoformat(), **params}
    return await http.get("/v1/reports/referrals", params=params, headers=headers)


def fields_at_fault(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    return [error["field"] for error in response.json()["errors"]]


async def test_the_funnel_counts_every_stage_and_rate_of_the_jurisdictions_referrals(
    api: tuple[httpx.AsyncClient, Intake], cohort: Cohort, metro_manager: Headers
) -> None:
    http, _ = api
    response = await report(http, metro_manager, by="pathway")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["jurisdiction"], body["by"], body["time_zone"]) == (METRO, "pathway", "America/Los_Angeles")
    assert body["total"]["key"] is None
    assert body["total"]["counts"] == {
        "referred": 12,
        "pending_approval": 1,
        "accepted": 8,
        "declined": {"ineligible": 1, "approval_denied": 1, "approval_timed_out": 1},
        "withdrawn": 1,
        "arrest_diversions": 7,
        "case_opened": 3,  # A's and F's openings, and E's implied by its assessment
        "assessed_on_time": 1,
        "assessed_late": 1,
        "enrolled": 1,
        "closed": 1,
        "lapsed": 1,
        "warrant_requested": 1,
        "warrant_rescinded": 1,
    }
    assert body["total"]["rates"] == {
        "enrolled_of_accepted": rate(1, 8),
        "assessed_on_time_of_arrest_diversions": rate(1, 7),
        "lapsed_of_arrest_diversions": rate(1, 7),
        "warrant_requested_of_arrest_diversions": rate(1, 7),
        "warrant_rescinded_of_warrant_requested": rate(1, 1),
    }
    [arrests, social] = body["groups"]
    assert (arrests["key"], arrests["counts"]["referred"], arrests["counts"]["accepted"]) == ("arrest_diversion", 11, 7)
    assert (social["key"], social["counts"]["referred"], social["counts"]["withdrawn"]) == ("social_contact", 1, 1)
    assert social["rates"]["lapsed_of_arrest_diversions"] == {"count": 0, "denominator": 0, "percent": None}


async def test_groups_by_precinct_policy_version_and_local_month_sorted_with_unknown_last(
    api: tuple[httpx.AsyncClient, Intake], cohort: Cohort, metro_manager: Headers
) -> None:
    http, _ = api

    async def groups(by: str) -> dict[str | None, int]:
        response = await report(http, metro_manager, by=by)
        assert response.status_code == 200, response.text
        return {row["key"]: row["counts"]["referred"] for row in response.json()["groups"]}

    by_precinct = await groups("precinct")
    assert list(by_precinct.items()) == [("East", 2), ("North", 1), ("South", 1), ("West", 7), (None, 1)]
    assert list((await groups("policy_version")).items()) == [(FIRST, 8), (GATED, 4)]
    months: dict[str | None, int] = {}
    for moment in sorted(cohort.referred_at.values()):
        month = moment.astimezone(ZONE).strftime("%Y-%m")
        months[month] = months.get(month, 0) + 1
    assert await groups("month") == months
    gated = (await report(http, metro_manager, by="policy_version")).json()["groups"][1]
    assert gated["counts"]["declined"] == {"ineligible": 0, "approval_denied": 1, "approval_timed_out": 1}


async def test_the_window_is_from_inclusive_to_exclusive_on_the_referral_time(
    api: tuple[httpx.AsyncClient, Intake], cohort: Cohort, metro_manager: Headers
) -> None:
    http, _ = api
    f, g = cohort.referred_at["F"], cohort.referred_at["G"]
    response = await report(http, metro_manager, **{"from": f.isoformat(), "to": g.isoformat()})
    assert response.status_code == 200, response.text
    assert response.json()["total"]["counts"]["referred"] == 1  # F, not G
    assert datetime.fromisoformat(response.json()["referred_from"]) == f


async def test_another_jurisdictions_referrals_are_never_counted(
    api: tuple[httpx.AsyncClient, Intake], cohort: Cohort, manager: Headers, metro_manager: Headers
) -> None:
    http, _ = api
    king = await report(http, manager)
    assert king.status_code == 200, king.text
    assert (king.json()["jurisdiction"], king.json()["total"]["counts"]["referred"]) == ("king-county", 1)
    for path in ("/v1/reports/referrals", "/v1/reports/deadlines"):
        params = {"from": "2026-01-01T00:00:00Z", "to": NOW.isoformat(), "jurisdiction": "king-county"}
        other = await http.get(path, params=params, headers=metro_manager)
        assert other.status_code == 403, other.text
        assert other.json()["field"] == "jurisdiction"


async def test_the_deadlines_due_within_days_soonest_first_awaited_ones_only(
    api: tuple[httpx.AsyncClient, Intake], cohort: Cohort, metro_manager: Headers
) -> None:
    http, _ = api
    week = await http.get("/v1/reports/deadlines", headers=metro_manager)
    assert week.status_code == 200, week.text
    body = week.json()
    assert (body["jurisdiction"], body["within_days"], body["next_cursor"]) == (METRO, 7, None)
    assert [item["referral_id"] for item in body["items"]] == [cohort.ids["H"], cohort.ids["F"]]
    overdue, soon = body["items"]
    assert (overdue["precinct"], overdue["agency"], overdue["status"], overdue["pathway"]) == (
        "North",
        "MPD",
        "accepted",
        "arrest_diversion",
    )
    assert overdue["days_left"] < 0 <= soon["days_left"] < 7
    assert set(soon) == {"referral_id", "pathway", "precinct", "agency", "due_by", "days_left", "status"}
    assert datetime.fromisoformat(soon["due_by"]).utcoffset() == datetime.now(ZONE).utcoffset()

    fortnight = await http.get("/v1/reports/deadlines", params={"within_days": 14, "limit": 2}, headers=metro_manager)
    first = fortnight.json()
    assert [item["referral_id"] for item in first["items"]] == [cohort.ids["H"], cohort.ids["F"]]
    rest = await http.get(
        "/v1/reports/deadlines",
        params={"within_days": 14, "limit": 2, "cursor": first["next_cursor"]},
        headers=metro_manager,
    )
    assert [item["referral_id"] for item in rest.json()["items"]] == [cohort.ids["G"]]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-02-01T00:00:00Z", "to": "2026-02-01T00:00:00Z"}, "query.to"),
        ({"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "query.to"),
        ({"to": "2026-01-01T00:00:00Z"}, "query.from"),
        ({"from": "2026-01-01T00:00:00", "to": "2026-02-01T00:00:00Z"}, "query.from"),
        ({"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z", "by": "agency"}, "query.by"),
    ],
)
async def test_a_bad_report_query_is_a_422_naming_the_field(
    client: httpx.AsyncClient, manager: Headers, params: dict[str, str], field: str
) -> None:
    response = await client.get("/v1/reports/referrals", params=params, headers=manager)
    assert fields_at_fault(response) == [field]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"within_days": 0}, "query.within_days"),
        ({"within_days": 91}, "query.within_days"),
        ({"within_days": "week"}, "query.within_days"),
        ({"cursor": "bm90LW91cnM"}, "query.cursor"),
    ],
)
async def test_a_bad_deadlines_query_is_a_422_naming_the_field(
    client: httpx.AsyncClient, manager: Headers, params: dict[str, Any], field: str
) -> None:
    response = await client.get("/v1/reports/deadlines", params=params, headers=manager)
    assert fields_at_fault(response) == [field]


async def test_only_program_managers_read_reports(client: httpx.AsyncClient, officer: Headers, token: Token) -> None:
    prosecutor = token("prosecutor", jurisdiction="king-county")
    for headers in (officer, prosecutor):
        for path in (
            "/v1/reports/referrals?from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z",
            "/v1/reports/deadlines",
        ):
            assert (await client.get(path, headers=headers)).status_code == 403


async def report_columns(intake: Intake) -> dict[str, dict[str, Any]]:
    async with intake.sessions() as session:
        rows = await session.execute(select(referral_status.c.referral_id, *REPORT_COLUMNS))
        return {row.referral_id: dict(row._mapping) for row in rows}


async def test_0009_fills_the_report_columns_of_existing_referrals_from_what_intake_kept_and_downgrades(
    api: tuple[httpx.AsyncClient, Intake], cohort: Cohort, database_url: str
) -> None:
    _, intake = api
    projected = await report_columns(intake)
    assert projected[cohort.ids["I"]]["precinct"] == "West"  # waiting at the gate: from its request
    assert projected[cohort.ids["A"]]["case_opened_at"] is not None

    await migrate_to(database_url, MIGRATIONS, "downgrade", "0008")
    async with intake.engine.connect() as connection:
        kept = await connection.run_sync(lambda sync: {c["name"] for c in inspect(sync).get_columns("referral_status")})
    assert kept.isdisjoint(column.name for column in REPORT_COLUMNS)
    await migrate_to(database_url, MIGRATIONS, "upgrade", "head")

    # Everything but the case opening (intake kept none before 0009) comes back as projected.
    expected = copy.deepcopy(projected)
    for opened in "AF":
        expected[cohort.ids[opened]]["case_opened_at"] = None
    assert await report_columns(intake) == expected
