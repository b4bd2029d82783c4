"""One realistic example of every integration event: the payloads published with each schema revision.

All of it is fictional: one made-up referral in King County followed from acceptance to a warrant
request and a service referral. The person is "Alex Example", the phone number is in the 555-01xx
range reserved for fiction, and every id is invented. When a model gains a field, give its example
a value for it, so the revision recorded by `make contracts` shows the field in use.
"""

from datetime import UTC, date, datetime, timedelta, timezone
from uuid import UUID

from divert_contracts.base import IntegrationEvent
from divert_contracts.cases import (
    CaseAssessmentCompleted,
    CaseClosed,
    CaseConsentRecorded,
    CaseConsentRevoked,
    CaseContactRecorded,
    CaseEngagementChanged,
    CaseManagerAssigned,
    CaseOpened,
    CaseParticipantDeclined,
    CaseParticipantEnrolled,
    CaseReopened,
    Need,
)
from divert_contracts.directory import ServiceReferralMade, ServiceReferralStatusChanged
from divert_contracts.milestones import (
    CaseAssessedMilestone,
    CaseClosedMilestone,
    CaseEnrolledMilestone,
    CaseOpenedMilestone,
)
from divert_contracts.referrals import (
    Location,
    ReasonCode,
    ReferralAccepted,
    ReferralApprovalRequested,
    ReferralAssessmentDeadlineLapsed,
    ReferralAssessmentDueSoon,
    ReferralDeadlineExtended,
    ReferralDeclined,
    ReferralWithdrawn,
    RmsReference,
    Subject,
)
from divert_contracts.warrants import (
    WarrantRequestAcknowledged,
    WarrantRequestDisposed,
    WarrantRequested,
    WarrantRequestFlagged,
    WarrantRequestRescinded,
)

PACIFIC = timezone(timedelta(hours=-8))
REFERRAL = UUID("7b0d3c2e-5a41-4f7e-9c1d-2e8f6a4b9d10")
EARLIER_REFERRAL = UUID("1c9e4b7a-3d52-4a8f-b6e0-5f2d8c1a7e34")
WARRANT_REQUEST = UUID("c4e8a1f2-9b37-4d60-8e25-a7f3b0d6c912")
CONSENT = UUID("e2a7c5d9-4f18-4b3e-9a60-d1c8b7f4e253")
CONTACT = UUID("5d3f9a2c-8e61-4c7b-a0d4-b9e2f6c1a387")
SERVICE_REFERRAL = UUID("9f6b2d4e-1a73-4e85-b3c0-c8d5a2e7f619")
SERVICE = UUID("3a8e5c1f-7d24-4b96-8f0a-e6b9d3c2a458")
ORGANIZATION = UUID("b7d1f4a9-2c65-4e38-9d7b-f0a3e8c5b126")

REFERRED_AT = datetime(2026, 3, 2, 9, 15, tzinfo=PACIFIC)
DUE_BY = datetime(2026, 3, 5, 9, 15, tzinfo=PACIFIC)
JURISDICTION = "king-county"


def _at(days: float) -> datetime:
    """A moment `days` after the referral, in UTC as services record it."""
    return (REFERRED_AT + timedelta(days=days)).astimezone(UTC)


EXAMPLES: tuple[IntegrationEvent, ...] = (
    ReferralAccepted(
        referral_id=REFERRAL,
        jurisdiction=JURISDICTION,
        pathway="arrest_diversion",
        referred_at=REFERRED_AT,
        policy=JURISDICTION,
        policy_version="2026-01-01",
        assessment_due_by=DUE_BY,
        lapse_action="warrant_request",
        rms=RmsReference(agency="SPD", case_number="2026-004512", officer_id="officer-7731"),
        subject=Subject(
            given_name="Alex",
            family_name="Example",
            date_of_birth=date(1990, 1, 1),
            rms_person_id="P-0000042",
            phone="+1 206 555 0142",
        ),
        location=Location(precinct="West", neighborhood="Belltown"),
        offense_category="drug_possession",
        contact_drivers=("drug_use",),
        offense_statute="RCW 69.50.4013",
        # The policy reminds 7, 2 and 1 days before; 7 days before had passed at acceptance.
        assessment_reminders_at=(DUE_BY - timedelta(days=2), DUE_BY - timedelta(days=1)),
    ),
    ReferralDeclined(
        referral_id=REFERRAL,
        jurisdiction=JURISDICTION,
        pathway="social_contact",
        referred_at=REFERRED_AT,
        policy=JURISDICTION,
        policy_version="2026-01-01",
        reasons=(ReasonCode(code="dealing_for_profit", message="The person appears to sell drugs for profit."),),
        agency="SPD",
        precinct="West",
    ),
    ReferralApprovalRequested(
        referral_id=REFERRAL,
        jurisdiction=JURISDICTION,
        pathway="arrest_diversion",
        referred_at=REFERRED_AT,
        policy=JURISDICTION,
        policy_version="2026-01-01",
        approver="prosecutor",
        decide_by=_at(1),
        requested_at=_at(0.001),
    ),
    ReferralWithdrawn(
        referral_id=REFERRAL,
        jurisdiction=JURISDICTION,
        withdrawn_at=_at(0.1),
        reason="Entered under the wrong case number; re-referred as a new referral.",
    ),
    ReferralDeadlineExtended(
        referral_id=REFERRAL,
        jurisdiction=JURISDICTION,
        previous_due_by=DUE_BY,
        assessment_due_by=DUE_BY + timedelta(days=2),
        reason="The person is in hospital; the case manager will assess on discharge.",
        extended_at=_at(2),
        assessment_reminders_at=(DUE_BY, DUE_BY + timedelta(days=1)),
    ),
    ReferralAssessmentDueSoon(
        referral_id=REFERRAL,
        jurisdiction=JURISDICTION,
        assessment_due_by=DUE_BY,
        reminded_at=DUE_BY - timedelta(days=2),
        days_before=2,
        next_reminder_at=DUE_BY - timedelta(days=1),
    ),
    ReferralAssessmentDeadlineLapsed(
        referral_id=REFERRAL,
        jurisdiction=JURISDICTION,
        assessment_due_by=DUE_BY,
        lapsed_at=_at(3),
        lapse_action="warrant_request",
    ),
    CaseOpened(
        referral_id=REFERRAL,
        jurisdiction=JURISDICTION,
        pathway="arrest_diversion",
        opened_at=_at(0.01),
        assessment_due_by=DUE_BY,
        referred_at=REFERRED_AT,
        previous_referral_id=EARLIER_REFERRAL,
    ),
    CaseManagerAssigned(
        referral_id=REFERRAL,
        jurisdiction=JURISDICTION,
        case_manager_id="cm-0193",
        agency="example-outreach",
        assigned_at=_at(0.05),
    ),
    CaseContactRecorded(
        referral_id=REFERRAL,
        jurisdiction=JURISDICTION,
        contact_id=CONTACT,
        at=_at(0.2),
        method="in_person",
        outcome="made",
        first_made=True,
    ),
    CaseConsentRecorded(
        referral_id=REFERRAL,
        jurisdiction=JURISDICTION,
        consent_id=CONSENT,
        parties=(str(ORGANIZATION),),
        purpose="service_referral",
        scope="assessment_needs",
        part2=True,
        recorded_at=_at(0.3),
        expires_at=_at(365),
    ),
    CaseConsentRevoked(referral_id=REFERRAL, jurisdiction=JURISDICTION, consent_id=CONSENT, revoked_at=_at(40)),
    CaseAssessmentCompleted(
        referral_id=REFERRAL,
        jurisdiction=JURISDICTION,
        completed_at=_at(1),
        assessment_due_by=DUE_BY,
        on_time=True,
        needs=(
            Need(domain="housing", priority=1, part2=False),
            Need(domain="substance_use_treatment", priority=2, part2=True),
        ),
    ),
    CaseParticipantEnrolled(referral_id=REFERRAL, jurisdiction=JURISDICTION, enrolled_at=_at(1.1)),
    CaseParticipantDeclined(
        referral_id=REFERRAL, jurisdiction=JURISDICTION, declined_at=_at(1.1), reason="not_interested"
    ),
    CaseEngagementChanged(referral_id=REFERRAL, jurisdiction=JURISDICTION, engagement="inactive", changed_at=_at(60)),
    CaseClosed(referral_id=REFERRAL, jurisdiction=JURISDICTION, reason="moved_away", closed_at=_at(120)),
    CaseReopened(referral_id=REFERRAL, jurisdiction=JURISDICTION, reopened_at=_at(150)),
    CaseOpenedMilestone(referral_id=REFERRAL, jurisdiction=JURISDICTION, opened_at=_at(0.01)),
    CaseAssessedMilestone(referral_id=REFERRAL, jurisdiction=JURISDICTION, completed_at=_at(1), on_time=True),
    CaseEnrolledMilestone(referral_id=REFERRAL, jurisdiction=JURISDICTION, enrolled_at=_at(1.1)),
    CaseClosedMilestone(referral_id=REFERRAL, jurisdiction=JURISDICTION, closed_at=_at(120)),
    WarrantRequested(
        referral_id=REFERRAL,
        warrant_request_id=WARRANT_REQUEST,
        jurisdiction=JURISDICTION,
        kind="warrant_request",
        assessment_due_by=DUE_BY,
        lapsed_at=_at(3),
        requested_at=_at(3.001),
    ),
    WarrantRequestRescinded(
        referral_id=REFERRAL,
        warrant_request_id=WARRANT_REQUEST,
        jurisdiction=JURISDICTION,
        reason="assessed_before_deadline",
        rescinded_at=_at(3.01),
    ),
    WarrantRequestAcknowledged(
        referral_id=REFERRAL,
        warrant_request_id=WARRANT_REQUEST,
        jurisdiction=JURISDICTION,
        acknowledged_by="prosecutor",
        acknowledged_at=_at(3.5),
    ),
    WarrantRequestFlagged(
        referral_id=REFERRAL,
        warrant_request_id=WARRANT_REQUEST,
        jurisdiction=JURISDICTION,
        reason="assessed_before_deadline",
        flagged_at=_at(4),
    ),
    WarrantRequestDisposed(
        referral_id=REFERRAL,
        warrant_request_id=WARRANT_REQUEST,
        jurisdiction=JURISDICTION,
        disposition="returned_to_program",
        disposed_at=_at(5),
    ),
    ServiceReferralMade(
        referral_id=REFERRAL,
        service_referral_id=SERVICE_REFERRAL,
        jurisdiction=JURISDICTION,
        service_id=SERVICE,
        organization_id=ORGANIZATION,
        need="substance_use_treatment",
        part2=True,
        consent_id=CONSENT,
        made_at=_at(1.5),
    ),
    ServiceReferralStatusChanged(
        referral_id=REFERRAL,
        service_referral_id=SERVICE_REFERRAL,
        jurisdiction=JURISDICTION,
        service_id=SERVICE,
        need="substance_use_treatment",
        part2=True,
        previous_status="sent",
        status="declined",
        reason="no_capacity",
        changed_at=_at(2.5),
    ),
)


def example(event_type: str) -> IntegrationEvent:
    """The example of the event with CloudEvents type `event_type` (KeyError if there is none)."""
    for event in EXAMPLES:
        if event.event_type == event_type:
            return event
    raise KeyError(event_type)
