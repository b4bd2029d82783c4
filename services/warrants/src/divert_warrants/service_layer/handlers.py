"""Warrants' command handlers (raise a request on a lapse, acknowledge it, record its disposition)
and reactions to other services' events (warrants' own record of each referral; no wrongful warrant).

Warrants decides from its own record (`ReferralFacts`), built from intake's events on
`divert.referrals` (acceptance, extensions, the recorded lapse, withdrawal) and the assessment
milestone on `divert.case-milestones`. A lapse notice creates a request only when that record
shows an accepted arrest diversion whose lapse intake recorded at or after the due time in force;
the facts in the notice are checked against the record, and the request is made of the record's.

A request is wrongful when the referral's assessment was completed at or before the due time in
force (extensions included; an assessment after it never counts), and moot when the referral was
withdrawn. Either fact may arrive before or after the request. A request whose referral the record
already shows settled is recorded and rescinded together, so the audit trail keeps every lapse
notice and why it did not stand; an existing request is set right when a fact arrives: rescinded
if nobody acted on it yet, flagged for the prosecutor's review if already acknowledged, left alone
if already rescinded or flagged. Each reaction only records facts and sets an existing request
right. Handlers never commit: whoever opened the unit of work does (the API's idempotency helper,
the consumer runner).
"""

from dataclasses import dataclass, replace
from uuid import UUID

from divert_contracts.milestones import CaseAssessedMilestone
from divert_contracts.referrals import (
    ReferralAccepted,
    ReferralAssessmentDeadlineLapsed,
    ReferralDeadlineExtended,
    ReferralWithdrawn,
)
from divert_platform.cause import Cause
from divert_platform.clock import utcnow
from divert_warrants.domain.commands import AcknowledgeRequest, RecordDisposition, RequestWarrant
from divert_warrants.domain.referral_facts import PoliceFacts, ReferralFacts
from divert_warrants.domain.warrant_request import WarrantRequest
from divert_warrants.service_layer.unit_of_work import WarrantsUnitOfWork

WARRANTS_SERVICE = "/divert/warrants"


class RequestNotFound(LookupError):
    """No warrant request has this id."""

    def __init__(self, warrant_request_id: UUID) -> None:
        super().__init__(f"no warrant request {warrant_request_id}")


@dataclass(frozen=True)
class Outcome:
    """The referral's one warrant request, and whether this command created it."""

    request: WarrantRequest
    created: bool


async def request_warrant(command: RequestWarrant, uow: WarrantsUnitOfWork) -> Outcome:
    """Record the referral's warrant request once, from warrants' own record; a repeat gets the
    existing one, whatever it claims.

    The command's facts are checked against the record (`ReferralFacts.recorded_lapse`, which
    raises when they contradict it or when the acceptance or lapse has not arrived yet); the
    request is made of the record's jurisdiction, lapse action, due time and lapse time, and
    attributed to the caller and to intake's lapse event. If the record shows the referral
    assessed on time or withdrawn (events can overtake the lapse), the request is recorded
    together with its rescission, attributed to this service and to the event that told it.
    """
    # First, so a late assessment or withdrawal being applied right now is either seen here or
    # sees our request (see ReferralFactsStore.lock).
    facts = await uow.referral_facts.lock(command.referral_id)
    existing = await uow.warrant_requests.get_for_referral(command.referral_id)
    if existing is not None:
        return Outcome(existing, created=False)
    lapse = facts.recorded_lapse(command)
    request = WarrantRequest.request(
        replace(
            command,
            jurisdiction=lapse.jurisdiction,
            kind=lapse.kind,
            assessment_due_by=lapse.assessment_due_by,
            lapsed_at=lapse.lapsed_at,
        )
    )
    await uow.warrant_requests.save(request, {**uow.cause.metadata(), "causation_id": facts.lapse_event_id})
    if (reason := facts.reason_to_rescind()) is not None:
        request.rescind(reason, command.at)
        cause = Cause(actor=WARRANTS_SERVICE, role="service", causation_id=facts.cause_of(reason))
        await uow.warrant_requests.save(request, cause.metadata())
    return Outcome(request, created=True)


async def acknowledge_request(command: AcknowledgeRequest, uow: WarrantsUnitOfWork) -> WarrantRequest:
    """The prosecutor or court takes the request.

    Raises `RequestNotFound`, or `InvalidTransition` when the request is rescinded or was
    acknowledged by the other role; a rescission racing with us loses or wins on the stream
    version (`ConcurrencyConflict`, retried by the caller from a fresh load).
    """
    request = await uow.warrant_requests.get(command.warrant_request_id)
    if request is None:
        raise RequestNotFound(command.warrant_request_id)
    request.acknowledge(command.by, command.at)
    await uow.warrant_requests.save(request)
    return request


async def record_disposition(command: RecordDisposition, uow: WarrantsUnitOfWork) -> WarrantRequest:
    """The prosecutor records what they did with the request.

    Raises `RequestNotFound`; `FilingRefused` for `filed` on a rescinded or flagged request;
    `InvalidTransition` when another disposition was recorded already (the same one again is a
    harmless retry). A rescission racing with us wins or loses on the stream version.
    """
    request = await uow.warrant_requests.get(command.warrant_request_id)
    if request is None:
        raise RequestNotFound(command.warrant_request_id)
    request.dispose(command.disposition, command.at)
    await uow.warrant_requests.save(request)
    return request


async def when_referral_accepted_keep_its_deadline(event: ReferralAccepted, uow: WarrantsUnitOfWork) -> None:
    """Remember the referral's jurisdiction, pathway, lapse action, due time and the police's own
    facts (RMS case, officer, offense, referral time, policy version): never who the person is."""
    facts = await uow.referral_facts.lock(event.referral_id)
    police = PoliceFacts(
        rms_agency=event.rms.agency,
        rms_case_number=event.rms.case_number,
        officer_id=event.rms.officer_id,
        offense_category=event.offense_category,
        offense_statute=event.offense_statute,
        referred_at=event.referred_at,
        policy_version=event.policy_version,
    )
    facts.note_acceptance(
        event.jurisdiction, event.pathway, event.assessment_due_by, event.lapse_action, uow.cause.causation_id, police
    )
    await uow.referral_facts.save(facts)
    await _set_right(facts, uow)


async def when_deadline_extended_move_the_due_time(event: ReferralDeadlineExtended, uow: WarrantsUnitOfWork) -> None:
    """Move the due time in force later (never earlier; the reason is not kept)."""
    facts = await uow.referral_facts.lock(event.referral_id)
    facts.note_extension(event.assessment_due_by, uow.cause.causation_id)
    await uow.referral_facts.save(facts)
    await _set_right(facts, uow)


async def when_deadline_lapsed_keep_the_lapse(event: ReferralAssessmentDeadlineLapsed, uow: WarrantsUnitOfWork) -> None:
    """Remember the lapse intake recorded: what lets a lapse notice become a request."""
    facts = await uow.referral_facts.lock(event.referral_id)
    facts.note_lapse(event.lapsed_at, event.assessment_due_by, uow.cause.causation_id)
    await uow.referral_facts.save(facts)
    await _set_right(facts, uow)


async def when_case_assessed_rescind_if_on_time(event: CaseAssessedMilestone, uow: WarrantsUnitOfWork) -> None:
    """Remember when the assessment was completed; rescind (or flag) a request it makes wrongful.

    On time is judged against warrants' own due time in force, never the milestone's `on_time`
    (the case agency may not have heard of an extension)."""
    facts = await uow.referral_facts.lock(event.referral_id)
    facts.note_assessment(event.completed_at, uow.cause.causation_id)
    await uow.referral_facts.save(facts)
    await _set_right(facts, uow)


async def when_referral_withdrawn_rescind(event: ReferralWithdrawn, uow: WarrantsUnitOfWork) -> None:
    """Remember the withdrawal; rescind (or flag) the referral's request."""
    facts = await uow.referral_facts.lock(event.referral_id)
    facts.note_withdrawal(event.withdrawn_at, uow.cause.causation_id)  # not the free-text reason
    await uow.referral_facts.save(facts)
    await _set_right(facts, uow)


async def _set_right(facts: ReferralFacts, uow: WarrantsUnitOfWork) -> None:
    request = await uow.warrant_requests.get_for_referral(facts.referral_id)
    if request is None:
        return  # no lapse notice yet: a later request will consult the facts
    # The record's due time in force decides; the request's own only for one recorded before
    # warrants kept due times (its record has none).
    reason = facts.reason_to_rescind(recorded_due=request.assessment_due_by)
    if reason is not None:
        request.set_right(reason, utcnow())
        await uow.warrant_requests.save(request)
