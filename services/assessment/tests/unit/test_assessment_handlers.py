"""Every assessment handler on the fake unit of work: what it stores, what it publishes, what it
refuses and whom it attributes the change to. The same behaviour on SQLite and PostgreSQL, read
models included, is the integration tier's."""

import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from divert_assessment.domain import commands, events
from divert_assessment.domain.case import CaseStatus
from divert_assessment.domain.errors import ConsentAlreadyRevoked, ConsentNotFound, InvalidTransition, RulesBroken
from divert_assessment.service_layer import handlers
from divert_contracts import cases as contract
from divert_contracts.referrals import Location, ReferralAccepted, RmsReference, Subject
from divert_contracts.topics import CASES
from divert_platform.cause import Cause, caused_by_event
from divert_platform.clock import utcnow

CASE_AGENCIES = {"king-county": "reach-king-county"}
CASE_MANAGER = Cause(actor="cm-7", role="case_manager", agency="reach-king-county")


def accepted(**changes: Any) -> ReferralAccepted:
    """An arrest diversion referred an hour ago, due in three days, of a person SPD knows as P-9."""
    referred_at = utcnow() - timedelta(hours=1)
    fields: dict[str, Any] = {
        "referral_id": uuid4(),
        "jurisdiction": "king-county",
        "pathway": "arrest_diversion",
        "referred_at": referred_at,
        "policy": "king-county",
        "policy_version": "2025-01",
        "assessment_due_by": referred_at + timedelta(days=3),
        "lapse_action": "warrant_request",
        "rms": RmsReference(agency="SPD", case_number="24-000123", officer_id="o-1"),
        "subject": Subject(given_name="Ana", family_name="Diaz", date_of_birth=date(1990, 1, 2), rms_person_id="P-9"),
        "location": Location(precinct="East"),
        "offense_category": "drug_possession",
    }
    return ReferralAccepted(**(fields | changes))


async def deliver(uow, event: ReferralAccepted, event_id: str = "ce-1") -> None:
    """Apply `event` as the consumer runner does: caused by it, committed by the runner."""
    uow.cause = caused_by_event("/divert/intake", event_id, utcnow())
    async with uow:
        await handlers.when_referral_accepted_open_case(event, uow, case_agencies=CASE_AGENCIES)
        await uow.commit()


async def opened(uow, **changes: Any) -> UUID:
    """A case opened pending assessment; its referral id."""
    event = accepted(**changes)
    await deliver(uow, event)
    return event.referral_id


async def command(uow, handler, order: Any, cause: Cause = CASE_MANAGER) -> Any:
    """Run a command handler as the API does: the caller's cause, committed once it returns."""
    uow.cause = cause
    async with uow:
        result = await handler(order, uow)
        await uow.commit()
    return result


def assessment(referral_id: UUID, completed_at: datetime | None = None) -> commands.CompleteAssessment:
    needs = (commands.NeedFound("substance_use_treatment", 1), commands.NeedFound("housing", 2))
    return commands.CompleteAssessment(referral_id, completed_at or utcnow(), "cm-7", needs, utcnow())


def consent(referral_id: UUID, expires_at: datetime | None = None) -> commands.RecordConsent:
    expiry = expires_at or utcnow() + timedelta(days=30)
    return commands.RecordConsent(
        referral_id, uuid4(), ("org-clinic",), "care_coordination", "full_case", True, expiry, utcnow()
    )


async def assessed(uow) -> UUID:
    referral_id = await opened(uow)
    await command(uow, handlers.complete_assessment, assessment(referral_id))
    return referral_id


async def enrolled(uow) -> UUID:
    referral_id = await assessed(uow)
    await command(uow, handlers.enroll, commands.Enroll(referral_id, utcnow(), utcnow()))
    return referral_id


def on_cases(uow) -> list:
    """What the unit of work published on `divert.cases` (each milestone is checked on its own)."""
    return [event for event in uow.published if event.topic == CASES.name]


def published_types(uow) -> list[type]:
    return [type(event) for event in on_cases(uow)]


class TestWhenReferralAcceptedOpenCase:
    async def test_an_accepted_referral_opens_a_case_of_the_jurisdictions_agency(self, uow) -> None:
        referral_id = await opened(uow)

        case = await uow.cases.get(referral_id)
        assert case is not None and case.status is CaseStatus.PENDING_ASSESSMENT
        [stored] = uow.cases.streams[referral_id]
        assert isinstance(stored, events.CaseOpened) and stored.agency == "reach-king-county"
        assert published_types(uow) == [contract.CaseOpened]
        assert uow.metadata == [{"actor": "/divert/intake", "role": "service", "causation_id": "ce-1"}]

    async def test_a_redelivery_opens_nothing_more(self, uow) -> None:
        event = accepted()
        await deliver(uow, event)
        await deliver(uow, event, event_id="ce-2")  # the same acceptance under a new CloudEvents id

        assert len(uow.cases.streams[event.referral_id]) == 1
        assert published_types(uow) == [contract.CaseOpened]

    async def test_a_jurisdiction_without_an_agency_gets_a_case_of_no_agency_and_a_warning(self, uow, caplog) -> None:
        with caplog.at_level(logging.WARNING, logger=handlers.__name__):
            referral_id = await opened(uow, jurisdiction="nowhere", policy="nowhere")

        [stored] = uow.cases.streams[referral_id]
        assert isinstance(stored, events.CaseOpened) and stored.agency is None
        [warning] = caplog.records
        assert "'nowhere'" in warning.getMessage() and "Diaz" not in warning.getMessage()

    async def test_a_closed_persons_new_referral_links_to_their_latest_case(self, uow) -> None:
        first = await opened(uow)
        await command(uow, handlers.close, commands.Close(first, "moved_away", utcnow(), utcnow()))

        again = await opened(uow)

        [stored] = uow.cases.streams[again]
        assert isinstance(stored, events.CaseOpened) and stored.previous_referral_id == first
        assert on_cases(uow)[-1].previous_referral_id == first

    async def test_a_person_whose_case_is_open_is_not_linked(self, uow) -> None:
        await opened(uow)

        again = await opened(uow)

        assert uow.cases.streams[again][0].previous_referral_id is None

    async def test_naive_times_in_the_event_are_taken_as_utc(self, uow) -> None:
        naive = datetime(2025, 3, 3, 18, 0)

        referral_id = await opened(uow, referred_at=naive, assessment_due_by=naive + timedelta(days=3))

        case = await uow.cases.get(referral_id)
        assert case is not None and case.referred_at == naive.replace(tzinfo=UTC)
        assert case.assessment_due_by == datetime(2025, 3, 6, 18, 0, tzinfo=UTC)


COMMAND_HANDLERS = [
    (handlers.complete_assessment, assessment),
    (handlers.assign_manager, lambda rid: commands.AssignManager(rid, "cm-9", "dcs", utcnow())),
    (
        handlers.record_contact,
        lambda rid: commands.RecordContact(rid, uuid4(), utcnow(), "phone", "made", utcnow()),
    ),
    (handlers.record_consent, consent),
    (handlers.revoke_consent, lambda rid: commands.RevokeConsent(rid, uuid4(), utcnow())),
    (handlers.enroll, lambda rid: commands.Enroll(rid, utcnow(), utcnow())),
    (handlers.decline, lambda rid: commands.Decline(rid, "not_interested", utcnow())),
    (handlers.change_engagement, lambda rid: commands.ChangeEngagement(rid, "inactive", utcnow())),
    (handlers.close, lambda rid: commands.Close(rid, "moved_away", utcnow(), utcnow())),
    (handlers.reopen, lambda rid: commands.Reopen(rid, utcnow())),
]


@pytest.mark.parametrize(("handler", "make"), COMMAND_HANDLERS, ids=[h.__name__ for h, _ in COMMAND_HANDLERS])
async def test_every_command_on_an_unknown_case_is_case_not_found(uow, handler, make) -> None:
    with pytest.raises(handlers.CaseNotFound):
        await command(uow, handler, make(uuid4()))

    assert uow.published == [] and uow.cases.streams == {}


class TestCompleteAssessment:
    async def test_the_assessment_is_recorded_judged_and_published_attributed_to_the_caller(self, uow) -> None:
        referral_id = await opened(uow)

        case = await command(uow, handlers.complete_assessment, assessment(referral_id))

        assert case.status is CaseStatus.ASSESSED and case.case_manager_id == "cm-7"
        published = on_cases(uow)[-1]
        assert isinstance(published, contract.CaseAssessmentCompleted) and published.on_time is True
        assert [(need.domain, need.part2) for need in published.needs] == [
            ("substance_use_treatment", True),
            ("housing", False),
        ]
        assert uow.metadata[-1] == {"actor": "cm-7", "role": "case_manager", "agency": "reach-king-county"}

    async def test_a_second_assessment_is_refused_with_the_current_state(self, uow) -> None:
        referral_id = await assessed(uow)

        with pytest.raises(InvalidTransition) as refused:
            await command(uow, handlers.complete_assessment, assessment(referral_id))

        assert refused.value.current_state is CaseStatus.ASSESSED
        assert published_types(uow).count(contract.CaseAssessmentCompleted) == 1

    async def test_an_assessment_in_the_future_is_refused_naming_the_field(self, uow) -> None:
        referral_id = await opened(uow)

        with pytest.raises(RulesBroken) as refused:
            await command(uow, handlers.complete_assessment, assessment(referral_id, utcnow() + timedelta(hours=1)))

        assert [violation.field for violation in refused.value.violations] == ["completed_at"]
        assert len(uow.cases.streams[referral_id]) == 1


class TestAssignManager:
    async def test_the_manager_is_assigned_and_published_with_their_agency(self, uow) -> None:
        referral_id = await opened(uow)

        case = await command(uow, handlers.assign_manager, commands.AssignManager(referral_id, "cm-9", "dcs", utcnow()))

        assert case.case_manager_id == "cm-9"
        published = on_cases(uow)[-1]
        assert isinstance(published, contract.CaseManagerAssigned)
        assert (published.case_manager_id, published.agency) == ("cm-9", "dcs")
        assert uow.metadata[-1]["actor"] == "cm-7"  # who did it, not whom it names

    async def test_the_manager_the_case_already_has_is_refused(self, uow) -> None:
        referral_id = await opened(uow)
        await command(uow, handlers.assign_manager, commands.AssignManager(referral_id, "cm-9", None, utcnow()))

        with pytest.raises(InvalidTransition):
            await command(uow, handlers.assign_manager, commands.AssignManager(referral_id, "cm-9", None, utcnow()))


class TestRecordContact:
    async def test_only_the_first_contact_made_is_first_made(self, uow) -> None:
        referral_id = await opened(uow)
        for outcome in ("attempted", "made", "made"):
            contact = commands.RecordContact(referral_id, uuid4(), utcnow(), "phone", outcome, utcnow())
            await command(uow, handlers.record_contact, contact)

        contacts = [event for event in on_cases(uow) if isinstance(event, contract.CaseContactRecorded)]
        assert [(event.outcome, event.first_made) for event in contacts] == [
            ("attempted", False),
            ("made", True),
            ("made", False),
        ]

    async def test_a_contact_before_the_referral_is_refused_as_at(self, uow) -> None:
        referral_id = await opened(uow)
        long_ago = utcnow() - timedelta(days=30)

        with pytest.raises(RulesBroken) as refused:
            contact = commands.RecordContact(referral_id, uuid4(), long_ago, "phone", "made", utcnow())
            await command(uow, handlers.record_contact, contact)

        assert [(v.field, v.code) for v in refused.value.violations] == [("at", "before_referral")]


class TestRecordConsent:
    async def test_the_consent_is_recorded_at_the_commands_time_and_published(self, uow) -> None:
        referral_id = await opened(uow)
        given = consent(referral_id)

        case = await command(uow, handlers.record_consent, given)

        assert case.consents == {given.consent_id: None}
        published = on_cases(uow)[-1]
        assert isinstance(published, contract.CaseConsentRecorded)
        assert (published.consent_id, published.parties, published.recorded_at) == (
            given.consent_id,
            ("org-clinic",),
            given.at,
        )

    async def test_a_consent_already_expired_is_refused(self, uow) -> None:
        referral_id = await opened(uow)

        with pytest.raises(RulesBroken):
            await command(uow, handlers.record_consent, consent(referral_id, utcnow() - timedelta(seconds=1)))


class TestRevokeConsent:
    async def test_a_consent_is_revoked_once_even_after_the_case_closed(self, uow) -> None:
        referral_id = await opened(uow)
        given = consent(referral_id)
        await command(uow, handlers.record_consent, given)
        await command(uow, handlers.close, commands.Close(referral_id, "moved_away", utcnow(), utcnow()))
        revocation = commands.RevokeConsent(referral_id, given.consent_id, utcnow())

        await command(uow, handlers.revoke_consent, revocation)
        with pytest.raises(ConsentAlreadyRevoked):
            await command(uow, handlers.revoke_consent, revocation)

        assert published_types(uow).count(contract.CaseConsentRevoked) == 1

    async def test_an_unknown_consent_is_not_found(self, uow) -> None:
        referral_id = await opened(uow)

        with pytest.raises(ConsentNotFound):
            await command(uow, handlers.revoke_consent, commands.RevokeConsent(referral_id, uuid4(), utcnow()))


class TestEnroll:
    async def test_an_assessed_person_enrolls_active(self, uow) -> None:
        referral_id = await enrolled(uow)

        case = await uow.cases.get(referral_id)
        assert case is not None and (case.status, case.engagement) == (CaseStatus.ENROLLED, "active")
        assert published_types(uow)[-1] is contract.CaseParticipantEnrolled

    async def test_a_case_pending_assessment_cannot_enroll(self, uow) -> None:
        referral_id = await opened(uow)

        with pytest.raises(InvalidTransition) as refused:
            await command(uow, handlers.enroll, commands.Enroll(referral_id, utcnow(), utcnow()))

        assert refused.value.current_state is CaseStatus.PENDING_ASSESSMENT


class TestDecline:
    async def test_an_assessed_person_declines_with_a_reason(self, uow) -> None:
        referral_id = await assessed(uow)
        order = commands.Decline(referral_id, "not_interested", utcnow())

        case = await command(uow, handlers.decline, order)

        assert case.status is CaseStatus.DECLINED
        published = on_cases(uow)[-1]
        assert isinstance(published, contract.CaseParticipantDeclined)
        assert (published.reason, published.declined_at) == ("not_interested", order.at)

    async def test_an_enrolled_person_cannot_decline(self, uow) -> None:
        referral_id = await enrolled(uow)

        with pytest.raises(InvalidTransition):
            await command(uow, handlers.decline, commands.Decline(referral_id, "other", utcnow()))


class TestChangeEngagement:
    async def test_an_enrolled_participant_goes_inactive(self, uow) -> None:
        referral_id = await enrolled(uow)

        case = await command(
            uow, handlers.change_engagement, commands.ChangeEngagement(referral_id, "inactive", utcnow())
        )

        assert case.engagement == "inactive"
        published = on_cases(uow)[-1]
        assert isinstance(published, contract.CaseEngagementChanged) and published.engagement == "inactive"

    async def test_the_engagement_the_participant_has_is_refused(self, uow) -> None:
        referral_id = await enrolled(uow)

        with pytest.raises(InvalidTransition) as refused:
            await command(uow, handlers.change_engagement, commands.ChangeEngagement(referral_id, "active", utcnow()))

        assert refused.value.engagement == "active"


class TestClose:
    async def test_the_case_is_closed_with_its_reason(self, uow) -> None:
        referral_id = await opened(uow)

        case = await command(uow, handlers.close, commands.Close(referral_id, "transferred", utcnow(), utcnow()))

        assert case.status is CaseStatus.CLOSED
        published = on_cases(uow)[-1]
        assert isinstance(published, contract.CaseClosed) and published.reason == "transferred"

    async def test_a_closure_before_the_opening_is_refused(self, uow) -> None:
        referral_id = await opened(uow)
        before = utcnow() - timedelta(days=1)

        with pytest.raises(RulesBroken) as refused:
            await command(uow, handlers.close, commands.Close(referral_id, "deceased", before, utcnow()))

        assert [(v.field, v.code) for v in refused.value.violations] == [("closed_at", "before_opening")]


class TestReopen:
    async def test_a_reopened_case_returns_to_where_it_stood(self, uow) -> None:
        referral_id = await enrolled(uow)
        await command(uow, handlers.close, commands.Close(referral_id, "moved_away", utcnow(), utcnow()))

        case = await command(uow, handlers.reopen, commands.Reopen(referral_id, utcnow()))

        assert (case.status, case.engagement) == (CaseStatus.ENROLLED, "active")
        assert published_types(uow)[-1] is contract.CaseReopened

    async def test_an_open_case_cannot_be_reopened(self, uow) -> None:
        referral_id = await opened(uow)

        with pytest.raises(InvalidTransition) as refused:
            await command(uow, handlers.reopen, commands.Reopen(referral_id, utcnow()))

        assert refused.value.current_state is CaseStatus.PENDING_ASSESSMENT
