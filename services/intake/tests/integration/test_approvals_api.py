"""Approval gates through intake's REST API over real SQLite and PostgreSQL databases: a
jurisdiction whose policy makes every referral wait for its prosecutor (the demo policy with an
`[approval]` rule), the queue the prosecutor reads, and the decisions that accept or decline.
Fixtures `intake`, `token` and `database_url` come from conftest.py."""

import dataclasses
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select

from divert_intake.adapters.tables import held_contacts, referral_status
from divert_intake.bootstrap import Intake
from divert_intake.domain.policy import ApprovalRule, PolicyBook, load_policy_book
from divert_intake.entrypoints.api import build_api
from divert_platform.callbacks import registry
from divert_platform.callbacks.schema import callback_messages
from divert_platform.clock import utcnow
from divert_platform.schema import events, outbox

Headers = dict[str, str]
Token = Callable[..., Headers]

GATED = "demo-gated"
"""The demo policy (a 20-second assessment window), with every referral waiting an hour for its prosecutor."""
GATED_SOONER = "demo-gated-sooner"
"""The same, waiting half an hour."""
WAIT = timedelta(hours=1)

# The person's details, distinctive enough that finding them in a JSON text means they leaked.
GIVEN_NAME, FAMILY_NAME, PHONE, DATE_OF_BIRTH = "Quillonetta", "Marchbankside", "+12065550199", "1979-03-17"


def gated_book() -> PolicyBook:
    """The shipped policies, and two copies of the demo's gated by its prosecutor (one and half an hour)."""
    shipped = load_policy_book()
    demo = shipped.latest("demo")
    assert demo is not None
    gated = [
        demo.model_copy(
            update={
                "id": jurisdiction,
                "name": "Demo LEAD, with approval",
                "approval": ApprovalRule(by="prosecutor", within=within, on_timeout="accept"),
            }
        )
        for jurisdiction, within in ((GATED, WAIT), (GATED_SOONER, WAIT / 2))
    ]
    return PolicyBook([*(p for j in shipped.ids() for p in shipped.versions(j)), *gated])


@pytest.fixture
def gated_intake(intake: Intake) -> Intake:
    """Intake over the migrated database, with the gated policies."""
    return dataclasses.replace(intake, policies=gated_book())


@pytest_asyncio.fixture
async def api(gated_intake: Intake) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking in-process to the API over the gated policies; it sends no token."""
    transport = httpx.ASGITransport(app=build_api(gated_intake))
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as http:
        yield http


@pytest.fixture
def officer(token: Token) -> Headers:
    """A PD officer referring into the gated jurisdiction."""
    return token("officer", subject="officer-1", agency="PD", jurisdiction=GATED)


@pytest.fixture
def prosecutor(token: Token) -> Headers:
    """The gated jurisdiction's prosecutor, its approver."""
    return token("prosecutor", subject="da-gated", jurisdiction=GATED)


@pytest.fixture
def manager(token: Token) -> Headers:
    """The gated jurisdiction's program manager (not its approver)."""
    return token("program_manager", subject="pm-gated", jurisdiction=GATED)


def referral(case_number: str = "2026-0001", jurisdiction: str = GATED, **screening: bool) -> dict[str, Any]:
    """A demo arrest diversion the rules accept (unless `screening` answers say otherwise), referred a minute ago."""
    return {
        "jurisdiction": jurisdiction,
        "pathway": "arrest_diversion",
        "referred_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
        "rms": {"agency": "PD", "case_number": case_number, "officer_id": "1"},
        "subject": {
            "given_name": GIVEN_NAME,
            "family_name": FAMILY_NAME,
            "date_of_birth": DATE_OF_BIRTH,
            "rms_person_id": "P-4242",
            "phone": PHONE,
        },
        "location": {"precinct": "North", "neighborhood": "Uptown"},
        "offense": {"category": "drug_possession", "drug_quantity_grams": 0.5, "drug_type": "opioid"},
        "screening": {
            "amenable": True,
            "dealing_for_profit": False,
            "exploits_minors": False,
            "promotes_prostitution": False,
            "disqualifying_convictions": [],
            "on_state_probation": False,
            "in_treatment_court": False,
            "no_contact_order_with_participant": False,
            **screening,
        },
        "contact_drivers": ["drug_use"],
    }


async def submit(api: httpx.AsyncClient, officer: Headers, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.post("/v1/referrals", json=body, headers=officer)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def decide(
    api: httpx.AsyncClient, referral_id: str, headers: Headers, decision: str, reason_code: str, key: str | None = None
) -> httpx.Response:
    extra = {"Idempotency-Key": key} if key else {}
    return await api.post(
        f"/v1/referrals/{referral_id}/approval",
        json={"decision": decision, "reason_code": reason_code},
        headers={**headers, **extra},
    )


async def queue(api: httpx.AsyncClient, headers: Headers, **params: Any) -> httpx.Response:
    return await api.get("/v1/approvals", params=params, headers={**headers, "X-Divert-Purpose": "approval review"})


async def queued_ids(api: httpx.AsyncClient, headers: Headers) -> list[str]:
    response = await queue(api, headers)
    assert response.status_code == 200, response.text
    return [item["referral_id"] for item in response.json()["items"]]


async def stream_events(intake: Intake, referral_id: str) -> list[dict[str, Any]]:
    async with intake.sessions() as session:
        rows = await session.execute(
            select(events).where(events.c.stream_id.contains(referral_id)).order_by(events.c.position)
        )
        return [dict(row._mapping) for row in rows]


def reason_codes(decision: dict[str, Any]) -> list[str]:
    return [reason["code"] for reason in decision["reasons"]]


# --- waiting --------------------------------------------------------------------------------------


async def test_a_gated_submission_waits_for_approval_and_keeps_the_rms_case_claimed(
    api: httpx.AsyncClient, officer: Headers
) -> None:
    before = datetime.now(UTC)
    created = await submit(api, officer, referral())
    after = datetime.now(UTC)

    assert created["status"] == "pending_approval"
    assert created["decision"] == {"eligible": True, "policy": GATED, "policy_version": "2026-01-01", "reasons": []}
    assert created["assessment_due_by"] is None
    due = datetime.fromisoformat(created["approval_due_by"])
    assert before + WAIT <= due <= after + WAIT

    view = await api.get(f"/v1/referrals/{created['referral_id']}", headers=officer)
    assert view.status_code == 200, view.text
    shown = view.json()
    assert datetime.fromisoformat(shown.pop("approval_due_by")) == due
    assert shown == {
        "referral_id": created["referral_id"],
        "status": "pending_approval",
        "pathway": "arrest_diversion",
        "jurisdiction": GATED,
        "assessment_due_by": None,
        "assessed_on_time": None,
        "enrolled": False,
        "warrant_requested": False,
        "case_closed": False,
    }

    again = await api.post("/v1/referrals", json=referral(), headers=officer)
    assert again.status_code == 409, again.text


# --- the queue ------------------------------------------------------------------------------------


async def test_the_prosecutor_sees_the_jurisdictions_waiting_referrals_soonest_due_first_without_the_person(
    api: httpx.AsyncClient, officer: Headers, prosecutor: Headers
) -> None:
    first = await submit(api, officer, referral("2026-0001"))
    second = await submit(api, officer, referral("2026-0002"))

    response = await queue(api, prosecutor)

    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [item["referral_id"] for item in items] == [first["referral_id"], second["referral_id"]]
    assert items[0]["approval_due_by"] <= items[1]["approval_due_by"]
    assert items[0]["jurisdiction"] == GATED and items[0]["approver"] == "prosecutor"
    assert (items[0]["agency"], items[0]["case_number"]) == ("PD", "2026-0001")
    assert items[0]["recommendation"]["eligible"] is True
    assert "subject" not in items[0]
    text = response.text
    for detail in (GIVEN_NAME, FAMILY_NAME, PHONE, DATE_OF_BIRTH, "date_of_birth", "phone", "given_name"):
        assert detail not in text


async def test_the_queue_is_the_approvers_own_jurisdictions_only(
    api: httpx.AsyncClient, token: Token, officer: Headers, manager: Headers
) -> None:
    created = await submit(api, officer, referral())
    elsewhere = token("prosecutor", subject="da-king", jurisdiction="king-county")
    statewide = token("prosecutor", subject="da-state", jurisdiction="*")

    assert await queued_ids(api, elsewhere) == []
    assert (await queue(api, elsewhere, jurisdiction=GATED)).status_code == 403
    own = token("prosecutor", subject="da-gated", jurisdiction=GATED)
    assert (await queue(api, own, jurisdiction="king-county")).status_code == 403
    named = await queue(api, own, jurisdiction=GATED)
    assert [item["referral_id"] for item in named.json()["items"]] == [created["referral_id"]]
    assert await queued_ids(api, manager) == []  # the program manager is not this policy's approver
    assert (await queue(api, officer)).status_code == 403
    assert await queued_ids(api, statewide) == [created["referral_id"]]


async def test_a_statewide_prosecutor_sees_every_jurisdictions_queue_soonest_due_first(
    api: httpx.AsyncClient, token: Token, officer: Headers
) -> None:
    waits_an_hour = await submit(api, officer, referral("2026-0001"))
    sooner_officer = token("officer", subject="officer-2", agency="PD", jurisdiction=GATED_SOONER)
    waits_half_an_hour = await submit(api, sooner_officer, referral("2026-0002", jurisdiction=GATED_SOONER))

    statewide = token("prosecutor", subject="da-state", jurisdiction="*")

    assert await queued_ids(api, statewide) == [waits_half_an_hour["referral_id"], waits_an_hour["referral_id"]]


async def test_the_queue_pages_with_a_cursor(api: httpx.AsyncClient, officer: Headers, prosecutor: Headers) -> None:
    first = await submit(api, officer, referral("2026-0001"))
    second = await submit(api, officer, referral("2026-0002"))

    page = await queue(api, prosecutor, limit=1)
    assert page.status_code == 200, page.text
    assert [item["referral_id"] for item in page.json()["items"]] == [first["referral_id"]]
    cursor = page.json()["next_cursor"]
    assert cursor

    following = await queue(api, prosecutor, limit=1, cursor=cursor)
    assert following.status_code == 200, following.text
    assert [item["referral_id"] for item in following.json()["items"]] == [second["referral_id"]]
    assert following.json()["next_cursor"] is None


# --- approving ------------------------------------------------------------------------------------


async def test_an_approval_accepts_the_referral_and_starts_its_assessment_window_then(
    api: httpx.AsyncClient, gated_intake: Intake, officer: Headers, prosecutor: Headers
) -> None:
    created = await submit(api, officer, referral())
    referral_id = created["referral_id"]
    policy = gated_intake.policies.latest(GATED)
    assert policy is not None and not policy.due_at_end_of_local_day
    window = policy.assessment_window

    before = datetime.now(UTC)
    approved = await decide(api, referral_id, prosecutor, "approve", "meets_criteria", key="approve-1")
    after = datetime.now(UTC)

    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "accepted"
    # The demo's window has no end-of-local-day rule: it ends its length after the approval,
    # not after the referral (made a minute before).
    due = datetime.fromisoformat(approved.json()["assessment_due_by"])
    assert before + window <= due <= after + window
    assert approved.json()["approval_due_by"] is None
    view = (await api.get(f"/v1/referrals/{referral_id}", headers=officer)).json()
    assert view["status"] == "accepted" and datetime.fromisoformat(view["assessment_due_by"]) == due

    assert await queued_ids(api, prosecutor) == []

    async with gated_intake.sessions() as session:
        rows = (await session.execute(select(outbox).where(outbox.c.message_key == referral_id))).all()
    assert [row.event_type for row in rows] == [
        "org.divert.referral.approval_requested.v1",
        "org.divert.referral.accepted.v1",
    ]
    assert rows[0].data["approver"] == "prosecutor" and "subject" not in rows[0].data

    repeat = await decide(api, referral_id, prosecutor, "approve", "meets_criteria", key="approve-1")
    assert repeat.status_code == 200, repeat.text
    assert repeat.json() == approved.json()
    decided = [e for e in await stream_events(gated_intake, referral_id) if e["event_type"] == "ApprovalDecided"]
    assert len(decided) == 1

    second = await decide(api, referral_id, prosecutor, "deny", "public_safety", key="deny-1")
    assert second.status_code == 409, second.text
    assert second.json()["current_state"] == "accepted"


# --- denying --------------------------------------------------------------------------------------


async def test_a_denial_declines_without_telling_police_why_and_releases_the_rms_case(
    api: httpx.AsyncClient, gated_intake: Intake, officer: Headers, prosecutor: Headers
) -> None:
    created = await submit(api, officer, referral())
    referral_id = created["referral_id"]

    denied = await decide(api, referral_id, prosecutor, "deny", "criminal_history")

    assert denied.status_code == 200, denied.text
    assert denied.json()["status"] == "declined"
    assert "criminal_history" not in denied.text
    view = await api.get(f"/v1/referrals/{referral_id}", headers=officer)
    assert view.json()["status"] == "declined" and "criminal_history" not in view.text
    listed = await api.get("/v1/referrals", params={"status": "declined"}, headers=officer)
    assert [item["referral_id"] for item in listed.json()["items"]] == [referral_id]
    assert "criminal_history" not in listed.text

    # The decline's reasons as published (police read them there): denied, never why.
    async with gated_intake.sessions() as session:
        [declined] = (
            await session.execute(
                select(outbox).where(
                    outbox.c.message_key == referral_id, outbox.c.event_type == "org.divert.referral.declined.v1"
                )
            )
        ).all()
    assert reason_codes(declined.data) == ["approval_denied"]  # the rules recommended it: no reason of theirs
    assert "criminal_history" not in json.dumps(declined.data)

    resubmitted = await api.post("/v1/referrals", json=referral(), headers=officer)
    assert resubmitted.status_code == 201, resubmitted.text
    assert resubmitted.json()["status"] == "pending_approval"


async def test_a_referral_denied_at_its_gate_leaves_no_personal_details_in_intakes_database(
    api: httpx.AsyncClient, gated_intake: Intake, officer: Headers, prosecutor: Headers
) -> None:
    created = await submit(api, officer, referral(case_number="2026-0077"))
    referral_id = created["referral_id"]
    assert FAMILY_NAME in await _everything_stored(gated_intake)  # held while it waits

    assert (await decide(api, referral_id, prosecutor, "deny", "public_safety")).status_code == 200

    stored = await _everything_stored(gated_intake)
    for detail in (GIVEN_NAME, FAMILY_NAME, PHONE, DATE_OF_BIRTH, "P-4242", "Uptown"):
        assert detail not in stored, detail


async def _everything_stored(intake: Intake) -> str:
    """Every row of intake's event store, outbox, status view and held details, as text."""
    async with intake.sessions() as session:
        rows = [
            dict(row._mapping)
            for table in (events, outbox, referral_status, held_contacts)
            for row in await session.execute(select(table))
        ]
    return json.dumps(rows, default=str)


async def test_a_denial_of_a_referral_the_rules_declined_keeps_their_reasons_beside_the_denial(
    api: httpx.AsyncClient, gated_intake: Intake, officer: Headers, prosecutor: Headers
) -> None:
    created = await submit(api, officer, referral(amenable=False))
    referral_id = created["referral_id"]

    denied = await decide(api, referral_id, prosecutor, "deny", "public_safety")

    assert denied.status_code == 200, denied.text
    assert denied.json()["status"] == "declined" and denied.json()["assessment_due_by"] is None
    async with gated_intake.sessions() as session:
        [declined] = (
            await session.execute(
                select(outbox).where(
                    outbox.c.message_key == referral_id, outbox.c.event_type == "org.divert.referral.declined.v1"
                )
            )
        ).all()
    # not_amenable is a screening answer, published only as `screening`.
    assert reason_codes(declined.data) == ["screening", "approval_denied"]
    assert "public_safety" not in json.dumps(declined.data)


# --- overriding the rules -------------------------------------------------------------------------


async def test_a_referral_the_rules_decline_waits_and_only_a_discretionary_approval_overrides_them(
    api: httpx.AsyncClient, gated_intake: Intake, officer: Headers, prosecutor: Headers, manager: Headers
) -> None:
    created = await submit(api, officer, referral(amenable=False))
    referral_id = created["referral_id"]
    assert created["status"] == "pending_approval"
    assert created["decision"]["eligible"] is False
    assert reason_codes(created["decision"]) == ["not_amenable"]
    [item] = (await queue(api, prosecutor)).json()["items"]
    assert item["recommendation"]["eligible"] is False

    plain = await decide(api, referral_id, prosecutor, "approve", "meets_criteria")
    assert plain.status_code == 422, plain.text
    assert "body.reason_code" in [error["field"] for error in plain.json()["errors"]]

    overridden = await decide(api, referral_id, prosecutor, "approve", "prosecutorial_discretion")
    assert overridden.status_code == 200, overridden.text
    assert overridden.json()["status"] == "accepted"
    assert overridden.json()["assessment_due_by"] is not None

    trail = await api.get(
        "/v1/audit", params={"referral_id": referral_id}, headers={**manager, "X-Divert-Purpose": "override review"}
    )
    assert trail.status_code == 200, trail.text
    entries = [(e["action"], e["what"], e["actor"], e["role"], e["purpose"]) for e in trail.json()["entries"]]
    # Who decided and why: the write carries the reason code.
    assert ("write", "ApprovalDecided", "da-gated", "prosecutor", "prosecutorial_discretion") in entries
    # The queue is an audited read, recorded with the purpose the prosecutor gave.
    assert ("read", "approval queue", "da-gated", "prosecutor", "approval review") in entries
    # The override itself is marked in the decision recorded in intake's event store.
    [recorded] = [e for e in await stream_events(gated_intake, referral_id) if e["event_type"] == "ApprovalDecided"]
    assert recorded["data"]["reason_code"] == "prosecutorial_discretion"
    assert recorded["data"]["overrides_decline"] is True
    assert recorded["data"]["decided_by"] == "da-gated"


# --- who may decide -------------------------------------------------------------------------------


async def test_only_the_policys_approver_of_the_jurisdiction_may_decide_with_a_listed_reason(
    api: httpx.AsyncClient, token: Token, officer: Headers, prosecutor: Headers, manager: Headers
) -> None:
    created = await submit(api, officer, referral())
    referral_id = created["referral_id"]
    elsewhere = token("prosecutor", subject="da-king", jurisdiction="king-county")

    assert (await decide(api, referral_id, manager, "approve", "meets_criteria")).status_code == 403
    assert (await decide(api, referral_id, elsewhere, "approve", "meets_criteria")).status_code == 404
    assert (await decide(api, referral_id, officer, "approve", "meets_criteria")).status_code == 403

    unknown = await decide(api, referral_id, prosecutor, "deny", "bad_vibes")
    assert unknown.status_code == 422, unknown.text
    assert "body.reason_code" in [error["field"] for error in unknown.json()["errors"]]
    approving_reason = await decide(api, referral_id, prosecutor, "deny", "meets_criteria")
    assert approving_reason.status_code == 422, approving_reason.text
    assert "body.reason_code" in [error["field"] for error in approving_reason.json()["errors"]]

    malformed = await decide(api, referral_id, prosecutor, "maybe", "meets_criteria")
    assert malformed.status_code == 422, malformed.text
    assert "body.decision" in [error["field"] for error in malformed.json()["errors"]]

    still = await api.get(f"/v1/referrals/{referral_id}", headers=officer)
    assert still.json()["status"] == "pending_approval"


# --- status callbacks -----------------------------------------------------------------------------


async def test_a_waiting_referral_is_announced_to_the_prosecutors_endpoint_without_the_person(
    api: httpx.AsyncClient, gated_intake: Intake, officer: Headers
) -> None:
    async with gated_intake.sessions() as session, session.begin():
        registered = await registry.register(
            session,
            gated_intake.settings.callback_box,
            audience="jurisdiction",
            agency=None,
            jurisdiction=GATED,
            url="https://da.example.org/divert",
            event_types=["referral.pending_approval"],
            description=None,
            actor="test",
            now=utcnow(),
        )
    endpoint_id = str(registered.endpoint["endpoint_id"])

    created = await submit(api, officer, referral())

    async with gated_intake.sessions() as session:
        rows = await session.execute(select(callback_messages).where(callback_messages.c.endpoint_id == endpoint_id))
        [message] = [dict(row._mapping) for row in rows]
    assert (message["event_type"], message["subject"]) == ("referral.pending_approval", created["referral_id"])
    payload = message["payload"]
    assert payload["type"] == "referral.pending_approval"
    assert payload["data"]["approver"] == "prosecutor"
    assert datetime.fromisoformat(payload["data"]["decide_by"]) == datetime.fromisoformat(created["approval_due_by"])
    assert "subject" not in payload["data"]
    text = json.dumps(payload)
    for detail in (GIVEN_NAME, FAMILY_NAME, PHONE, DATE_OF_BIRTH, "date_of_birth", "given_name"):
        assert detail not in text


# --- withdrawal -----------------------------------------------------------------------------------


async def test_a_withdrawn_referral_leaves_the_queue_and_can_no_longer_be_approved(
    api: httpx.AsyncClient, officer: Headers, prosecutor: Headers
) -> None:
    created = await submit(api, officer, referral())
    referral_id = created["referral_id"]

    withdrawn = await api.post(f"/v1/referrals/{referral_id}/withdrawal", json={"reason": "error"}, headers=officer)

    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "withdrawn"
    assert await queued_ids(api, prosecutor) == []
    late = await decide(api, referral_id, prosecutor, "approve", "meets_criteria")
    assert late.status_code == 409, late.text
    assert late.json()["current_state"] == "withdrawn"


async def test_deciding_a_referral_nobody_made_is_not_found(api: httpx.AsyncClient, prosecutor: Headers) -> None:
    assert (await decide(api, str(uuid4()), prosecutor, "approve", "meets_criteria")).status_code == 404
