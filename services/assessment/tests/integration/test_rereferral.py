"""Re-referral through the consumer's handler: a new case for a person whose earlier case is closed
links to it, by the RMS agency's person id only."""

from datetime import date
from uuid import uuid4

from divert_assessment.adapters.case_queries import find_case
from divert_contracts.cases import CaseOpened
from divert_contracts.referrals import RmsReference, Subject
from divert_platform.clock import utcnow
from divert_platform.schema import outbox


def subject(person_id: str | None, given_name: str = "Ana") -> Subject:
    return Subject(given_name=given_name, family_name="Diaz", date_of_birth=date(1990, 1, 2), rms_person_id=person_id)


def rms(agency: str) -> RmsReference:
    return RmsReference(agency=agency, case_number=f"24-{uuid4().hex[:6]}", officer_id="o-1")


async def close(client, referral_id) -> None:
    body = {"reason": "long_term_no_contact", "closed_at": utcnow().isoformat()}
    response = await client.post(f"/v1/cases/{referral_id}/closure", json=body)
    assert response.status_code == 200, response.text


async def test_a_closed_persons_new_referral_is_linked_to_their_latest_case(client, open_case, rows) -> None:
    first = await open_case(subject=subject("P-9"), rms=rms("SPD"))
    await close(client, first.referral_id)
    second = await open_case(subject=subject("P-9"), rms=rms("SPD"))
    await close(client, second.referral_id)

    third = await open_case(subject=subject("P-9", given_name="Anna"), rms=rms("SPD"))

    view = (await client.get(f"/v1/cases/{third.referral_id}")).json()
    assert view["previous_referral_id"] == str(second.referral_id)
    [opened] = await rows(
        outbox, outbox.c.event_type == CaseOpened.event_type, outbox.c.message_key == str(third.referral_id)
    )
    assert opened["data"]["previous_referral_id"] == str(second.referral_id)
    assert opened["data"]["referred_at"] is not None


async def test_a_person_whose_case_is_still_open_is_not_linked(client, open_case) -> None:
    await open_case(subject=subject("P-9"), rms=rms("SPD"))

    again = await open_case(subject=subject("P-9"), rms=rms("SPD"))

    assert (await client.get(f"/v1/cases/{again.referral_id}")).json()["previous_referral_id"] is None


async def test_a_reopened_case_is_no_longer_a_previous_case(client, open_case) -> None:
    first = await open_case(subject=subject("P-9"), rms=rms("SPD"))
    await close(client, first.referral_id)
    assert (await client.post(f"/v1/cases/{first.referral_id}/reopening", json={})).status_code == 200

    again = await open_case(subject=subject("P-9"), rms=rms("SPD"))

    assert (await client.get(f"/v1/cases/{again.referral_id}")).json()["previous_referral_id"] is None


async def test_the_same_person_id_at_another_agency_is_not_linked(client, open_case) -> None:
    first = await open_case(subject=subject("P-9"), rms=rms("SPD"))
    await close(client, first.referral_id)

    elsewhere = await open_case(subject=subject("P-9"), rms=rms("KCSO"))

    assert (await client.get(f"/v1/cases/{elsewhere.referral_id}")).json()["previous_referral_id"] is None


async def test_the_same_name_without_a_person_id_is_never_linked(client, open_case, assessment) -> None:
    first = await open_case(subject=subject(None), rms=rms("SPD"))
    await close(client, first.referral_id)

    namesake = await open_case(subject=subject(None), rms=rms("SPD"))

    async with assessment.sessions() as session:
        row = await find_case(session, namesake.referral_id, agency="reach-king-county")
    assert row is not None and row["previous_referral_id"] is None


async def test_a_redelivered_acceptance_does_not_relink_or_reopen(client, open_case, deliver) -> None:
    first = await open_case(subject=subject("P-9"), rms=rms("SPD"))
    await close(client, first.referral_id)

    await deliver(first)

    view = (await client.get(f"/v1/cases/{first.referral_id}")).json()
    assert view["status"] == "closed" and view["previous_referral_id"] is None
