"""The case detail's `timeline`: the case's history, rendered from its event stream."""

import json
from datetime import datetime


async def timeline_of(client, referral_id) -> list[dict]:
    response = await client.get(f"/v1/cases/{referral_id}")
    assert response.status_code == 200, response.text
    return response.json()["timeline"]


async def test_every_change_in_the_order_it_was_recorded(client, caseload) -> None:
    timeline = await timeline_of(client, caseload.ids["k1"])

    assert [entry["event"] for entry in timeline] == [
        "case_opened",
        "contact_recorded",
        "contact_recorded",
        "consent_recorded",
        "assessment_completed",
        "manager_assigned",
        "participant_enrolled",
        "engagement_changed",
    ]
    recorded = [datetime.fromisoformat(entry["recorded_at"]) for entry in timeline]
    assert recorded == sorted(recorded)


async def test_entries_say_when_it_happened_and_who_recorded_it(client, caseload) -> None:
    opened, attempted, made, consent, assessed, manager, enrolled, inactive = await timeline_of(
        client, caseload.ids["k1"]
    )
    case = (await client.get(f"/v1/cases/{caseload.ids['k1']}")).json()

    assert (opened["actor"], opened["role"]) == ("/divert/intake", "service")
    assert opened["at"] == case["opened_at"] and opened["pathway"] == "arrest_diversion"
    # a contact's `at` is when it happened, hours before it was recorded
    assert datetime.fromisoformat(made["at"]) < datetime.fromisoformat(made["recorded_at"])
    assert (made["method"], made["outcome"], made["first_made"]) == ("in_person", "made", True)
    assert (attempted["outcome"], attempted["first_made"]) == ("attempted", False)
    assert consent["parties"] == ["demo-health-clinic"] and (consent["scope"], consent["part2"]) == ("full_case", True)
    assert consent["purpose"] == "care_coordination"
    assert assessed["at"] == case["assessment"]["completed_at"] and assessed["on_time"] is True
    assert [(n["domain"], n["priority"], n["part2"]) for n in assessed["needs"]] == [
        ("substance_use_treatment", 1, True),
        ("housing", 2, False),
    ]
    assert (assessed["actor"], assessed["role"]) == ("cm-7", "case_manager")
    # recorded by the caller (cm-7, per its token) for the manager it assigned
    assert (manager["case_manager_id"], manager["actor"], manager["agency"]) == ("cm-9", "cm-7", "reach-king-county")
    assert enrolled["at"] == case["enrolled_at"] and inactive["engagement"] == "inactive"


async def test_closures_reopenings_declines_and_revocations_carry_their_codes(client, caseload) -> None:
    *_, closed, reopened = await timeline_of(client, caseload.ids["s1"])
    assert closed["reason"] == "moved_away" and (reopened["status"], reopened["engagement"]) == ("enrolled", "active")
    *_, declined, closed = await timeline_of(client, caseload.ids["k2"])
    assert declined["reason"] == "not_interested" and closed["reason"] == "declined"
    *_, recorded, revoked = await timeline_of(client, caseload.ids["k3"])
    assert revoked["event"] == "consent_revoked" and revoked["consent_id"] == recorded["consent_id"]
    opened, *_ = await timeline_of(client, caseload.ids["r1"])
    assert opened["previous_referral_id"] == str(caseload.ids["s3"])


async def test_the_timeline_holds_nothing_of_the_persons_identity(client, caseload) -> None:
    text = json.dumps(await timeline_of(client, caseload.ids["k1"]))

    for identity in ("K1", "Doe", "555-0101", "P-k1", "SPD", "subject", "rms"):
        assert identity not in text
