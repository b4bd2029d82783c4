"""Assessment's command handlers (the case lifecycle) and its reactions to intake's events (a case
for every accepted referral, due-soon reminders and extensions marked on it).

A command handler loads the case, lets it judge the command (it raises why it refuses:
`InvalidTransition`, `RulesBroken`, `ConsentNotFound`, `ConsentAlreadyRevoked`) and saves what it
recorded, attributed to the unit of work's cause; the unit of work publishes it on commit. A
concurrent change to the same case makes the save fail with `ConcurrencyConflict`. Handlers never
commit: whoever opened the unit of work does (the API's idempotency helper, the consumer runner).
The API checks that a case is the caller's agency's before it calls a handler.
"""

import logging
from collections.abc import Callable, Mapping
from typing import Annotated, TypeVar
from uuid import UUID

from pydantic import BaseModel, ValidationError

from divert_assessment.domain.case import Case
from divert_assessment.domain.commands import (
    AssignManager,
    CaseCommand,
    ChangeEngagement,
    Close,
    CompleteAssessment,
    Decline,
    Enroll,
    ExtendDeadline,
    OpenCase,
    RecordConsent,
    RecordContact,
    RecordReminder,
    Reopen,
    RevokeConsent,
)
from divert_assessment.domain.rules import previous_case_of_the_same_person
from divert_assessment.service_layer.unit_of_work import AssessmentUnitOfWork
from divert_contracts.referrals import ReferralAccepted, ReferralAssessmentDueSoon, ReferralDeadlineExtended
from divert_platform.clock import utcnow
from divert_platform.consumer import RejectedMessage
from divert_platform.text import JurisdictionId, free_text

log = logging.getLogger(__name__)
MAX_POLICY_VERSION = 64


class _Showable(BaseModel):
    """What the case API shows of an accepted referral, under the bounds it shows it with
    (entrypoints/schemas.py): the contract allows more (e.g. control characters), so a referral
    beyond them is refused where it arrives rather than failing every read of its case."""

    jurisdiction: JurisdictionId
    given_name: Annotated[str, free_text(200)]
    family_name: Annotated[str, free_text(200)]
    phone: Annotated[str, free_text(32)] | None
    rms_person_id: Annotated[str, free_text(64)] | None


def _check_showable(event: ReferralAccepted) -> None:
    try:
        _Showable(jurisdiction=event.jurisdiction, **event.subject.model_dump(exclude={"date_of_birth"}))
    except ValidationError as error:
        fields = ", ".join(".".join(map(str, e["loc"])) for e in error.errors())  # names only, no values
        raise RejectedMessage(f"referral {event.referral_id}: beyond what the case API shows ({fields})") from None


C = TypeVar("C", bound=CaseCommand)


class CaseNotFound(LookupError):
    """No case was opened for this referral (not accepted, or not delivered yet)."""

    def __init__(self, referral_id: UUID) -> None:
        super().__init__(f"no case for referral {referral_id}")
        self.referral_id = referral_id


async def when_referral_accepted_open_case(
    event: ReferralAccepted, uow: AssessmentUnitOfWork, *, case_agencies: Mapping[str, str]
) -> None:
    """Open the case of an accepted referral, once, and announce it.

    The case belongs to the case agency `case_agencies` names for its jurisdiction. With none
    named it is opened without one — seen by no case manager, counted by program reports — and a
    warning (with ids only, nothing about the person) says which jurisdiction needs an agency.
    A person the RMS agency already knows (same agency, same `rms_person_id`) whose earlier case
    is closed is re-referred: the new case links to the latest such case.
    """
    _check_showable(event)
    case = await uow.cases.get(event.referral_id) or Case(id=event.referral_id)
    if case.status is not None:
        return  # a redelivery: the case is open already and nothing is recorded
    person_id = event.subject.rms_person_id
    earlier = await uow.cases.earlier_cases(event.rms.agency, person_id) if person_id else []
    command = OpenCase(
        referral_id=event.referral_id,
        jurisdiction=event.jurisdiction,
        pathway=event.pathway,
        # The contract reads a naive time as UTC (`Instant`), so these compare with aware times later.
        referred_at=event.referred_at,
        assessment_due_by=event.assessment_due_by,
        subject=event.subject,
        rms_agency=event.rms.agency,
        previous_referral_id=previous_case_of_the_same_person(event.rms.agency, person_id, earlier),
        agency=case_agencies.get(event.jurisdiction),
        at=utcnow(),
        assessment_reminders_at=event.assessment_reminders_at,
        precinct=event.location.precinct,
        # intake's versions are at most 64 characters (as its other events say); a longer one is
        # not kept rather than refused, so it never wedges the case's opening
        policy_version=event.policy_version if len(event.policy_version) <= MAX_POLICY_VERSION else None,
    )
    if command.agency is None:
        log.warning(
            "no case agency serves jurisdiction %r (DIVERT_CASE_AGENCIES): case %s is opened without one "
            "and no case manager can see it",
            event.jurisdiction,
            event.referral_id,
        )
    case.open(command)
    await uow.cases.save(case)


async def when_assessment_due_soon_mark_case(event: ReferralAssessmentDueSoon, uow: AssessmentUnitOfWork) -> None:
    """Mark the case reminded that its assessment is due soon (the caseload shows it).

    A reminder for a referral without a case, or for a case it no longer concerns (assessed, closed,
    its due time since extended, or the same reminder again), changes nothing: it is acknowledged,
    never dead-lettered.
    """
    case = await uow.cases.get(event.referral_id)
    if case is None:
        log.info("due-soon reminder for referral %s, which has no case: nothing to mark", event.referral_id)
        return
    case.record_reminder(
        RecordReminder(
            referral_id=event.referral_id,
            reminded_at=event.reminded_at,
            days_before=event.days_before,
            assessment_due_by=event.assessment_due_by,
        )
    )
    await uow.cases.save(case)


async def when_deadline_extended_move_due_time(event: ReferralDeadlineExtended, uow: AssessmentUnitOfWork) -> None:
    """Move the case's due time, and the reminders still to come, as the extension says: the
    assessment is then judged on time against the extended due time. The extension's free-text
    reason stays at intake. An extension of a referral without a case changes nothing."""
    case = await uow.cases.get(event.referral_id)
    if case is None:
        log.info("deadline extension for referral %s, which has no case: nothing to move", event.referral_id)
        return
    case.extend_deadline(
        ExtendDeadline(
            referral_id=event.referral_id,
            assessment_due_by=event.assessment_due_by,
            extended_at=event.extended_at,
            assessment_reminders_at=event.assessment_reminders_at,
        )
    )
    await uow.cases.save(case)


async def complete_assessment(command: CompleteAssessment, uow: AssessmentUnitOfWork) -> Case:
    """Record the intake assessment, judged on time or late against the case's due time."""
    return await _change(command, uow, Case.complete_assessment)


async def assign_manager(command: AssignManager, uow: AssessmentUnitOfWork) -> Case:
    """Give the case to a case manager."""
    return await _change(command, uow, Case.assign_manager)


async def record_contact(command: RecordContact, uow: AssessmentUnitOfWork) -> Case:
    """Record a contact with the person, attempted or made."""
    return await _change(command, uow, Case.record_contact)


async def record_consent(command: RecordConsent, uow: AssessmentUnitOfWork) -> Case:
    """Record the person's consent to share with named parties."""
    return await _change(command, uow, Case.record_consent)


async def revoke_consent(command: RevokeConsent, uow: AssessmentUnitOfWork) -> Case:
    """The person withdraws a consent (in any state of the case)."""
    return await _change(command, uow, Case.revoke_consent)


async def enroll(command: Enroll, uow: AssessmentUnitOfWork) -> Case:
    """The assessed person enrolls."""
    return await _change(command, uow, Case.enroll)


async def decline(command: Decline, uow: AssessmentUnitOfWork) -> Case:
    """The assessed person chooses not to enroll."""
    return await _change(command, uow, Case.decline)


async def change_engagement(command: ChangeEngagement, uow: AssessmentUnitOfWork) -> Case:
    """An enrolled participant becomes active or inactive."""
    return await _change(command, uow, Case.change_engagement)


async def close(command: Close, uow: AssessmentUnitOfWork) -> Case:
    """Close the case with a reason."""
    return await _change(command, uow, Case.close)


async def reopen(command: Reopen, uow: AssessmentUnitOfWork) -> Case:
    """Open a closed case again, where it stood."""
    return await _change(command, uow, Case.reopen)


async def _change(command: C, uow: AssessmentUnitOfWork, decide: Callable[[Case, C], None]) -> Case:
    """Load the command's case, let it `decide`, and save what it recorded."""
    case = await uow.cases.get(command.referral_id)
    if case is None:
        raise CaseNotFound(command.referral_id)
    decide(case, command)
    await uow.cases.save(case)
    return case
