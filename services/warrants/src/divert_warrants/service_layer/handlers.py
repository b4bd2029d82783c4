"""Warrants' command handlers (raise a request on a lapse, acknowledge it) and reactions to other
services' events (no wrongful warrant).

A request is wrongful when the referral's assessment was completed at or before the due time in
force at the lapse (an assessment after it never counts), and moot when the referral was
withdrawn. Either fact may arrive before or after the request; both are remembered (times only,
never case content) and `request_warrant` consults them, while an existing request is set right
at once: rescinded if nobody acted on it yet, flagged for the prosecutor's review if already
acknowledged, left alone if already rescinded or flagged. Handlers never commit: whoever opened
the unit of work does (the API's idempotency helper, the consumer runner).
"""

from dataclasses import dataclass
from uuid import UUID

from divert_contracts.cases import CaseAssessmentCompleted
from divert_contracts.referrals import ReferralWithdrawn
from divert_platform.cause import Cause
from divert_platform.clock import utcnow
from divert_warrants.domain.commands import AcknowledgeRequest, RequestWarrant
from divert_warrants.domain.referral_facts import ReferralFacts
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
    """Record the referral's warrant request once; a repeat gets the existing one.

    If warrants already heard that the referral was assessed on time or withdrawn (events can
    overtake the lapse), the request is recorded together with its rescission, attributed to
    this service and to the event that told it.
    """
    # First, so a late assessment or withdrawal being applied right now is either seen here or
    # sees our request (see ReferralFactsStore.lock).
    facts = await uow.referral_facts.lock(command.referral_id)
    existing = await uow.warrant_requests.get_for_referral(command.referral_id)
    if existing is not None:
        return Outcome(existing, created=False)
    request = WarrantRequest.request(command)
    await uow.warrant_requests.save(request)
    if (reason := facts.reason_to_rescind(command.assessment_due_by)) is not None:
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


async def when_case_assessment_completed_rescind_if_on_time(
    event: CaseAssessmentCompleted, uow: WarrantsUnitOfWork
) -> None:
    """Remember when the assessment was completed; rescind (or flag) a request it makes wrongful."""
    facts = await uow.referral_facts.lock(event.referral_id)
    facts.note_assessment(event.completed_at, uow.cause.causation_id)  # the time only: needs stay home
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
    if request is None or request.assessment_due_by is None:
        return  # no lapse yet: a later request will consult the facts
    reason = facts.reason_to_rescind(request.assessment_due_by)
    if reason is not None:
        request.set_right(reason, utcnow())
        await uow.warrant_requests.save(request)
