"""Every integration event type, looked up by its CloudEvents `type`."""

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
)
from divert_contracts.directory import ServiceReferralMade, ServiceReferralStatusChanged
from divert_contracts.milestones import (
    CaseAssessedMilestone,
    CaseClosedMilestone,
    CaseEnrolledMilestone,
    CaseOpenedMilestone,
)
from divert_contracts.referrals import (
    ReferralAccepted,
    ReferralApprovalRequested,
    ReferralAssessmentDeadlineLapsed,
    ReferralAssessmentDueSoon,
    ReferralDeadlineExtended,
    ReferralDeclined,
    ReferralWithdrawn,
)
from divert_contracts.warrants import (
    WarrantRequestAcknowledged,
    WarrantRequestDisposed,
    WarrantRequested,
    WarrantRequestFlagged,
    WarrantRequestRescinded,
)

EVENT_TYPES: dict[str, type[IntegrationEvent]] = {
    model.event_type: model
    for model in (
        ReferralAccepted,
        ReferralDeclined,
        ReferralApprovalRequested,
        ReferralWithdrawn,
        ReferralDeadlineExtended,
        ReferralAssessmentDeadlineLapsed,
        ReferralAssessmentDueSoon,
        CaseOpened,
        CaseManagerAssigned,
        CaseContactRecorded,
        CaseConsentRecorded,
        CaseConsentRevoked,
        CaseAssessmentCompleted,
        CaseParticipantEnrolled,
        CaseParticipantDeclined,
        CaseEngagementChanged,
        CaseClosed,
        CaseReopened,
        CaseOpenedMilestone,
        CaseAssessedMilestone,
        CaseEnrolledMilestone,
        CaseClosedMilestone,
        WarrantRequested,
        WarrantRequestRescinded,
        WarrantRequestAcknowledged,
        WarrantRequestFlagged,
        WarrantRequestDisposed,
        ServiceReferralMade,
        ServiceReferralStatusChanged,
    )
}
