"""Approval gates: the reasons an approver may give, and what a decision on a waiting referral says.

A policy with an `[approval]` section (`policy.ApprovalRule`) puts every referral in
`pending_approval` with the rules' decision as a recommendation. The approver's reason is a code
from the fixed lists below, never free text: it is kept in intake's event store with who decided
(the audit trail shows both), and the police view and the published decline say only that the
referral was declined by its approver, or left undecided, never why.
"""

from typing import Literal

ApprovalOutcome = Literal["approve", "deny"]

APPROVAL_REASONS: dict[str, str] = {
    "meets_criteria": "The referral meets the program's criteria.",
    "prosecutorial_discretion": "The prosecutor diverts the case in the exercise of discretion.",
    "program_discretion": "The program takes the person although the rules alone would not.",
    "community_safety_plan": "A safety plan agreed with the program answers what the rules ruled out.",
}
"""Why an approver accepts. Every code but `meets_criteria` may override a decline the rules recommended."""

DENIAL_REASONS: dict[str, str] = {
    "criminal_history": "The person's criminal history rules the referral out.",
    "pending_charges": "Other charges pending against the person rule the referral out.",
    "victim_objection": "A victim of the offense objects to diversion.",
    "public_safety": "The approver judges diversion a risk to public safety.",
    "not_program_appropriate": "The program is not the right response for this person.",
    "program_capacity": "The program cannot take the person now.",
}
"""Why an approver declines."""

APPROVAL_DENIED = "approval_denied"
"""The reason code of a referral its approver declined (the approver's own reason stays in intake)."""
APPROVAL_TIMED_OUT = "approval_timed_out"
"""The reason code of a referral nobody decided in time, declined by its policy's rule."""

TIMEOUT_DECIDER = "policy"
"""`decided_by` of a decision the policy's timer made."""


def approval_problem(outcome: ApprovalOutcome, reason_code: str, recommended: bool) -> str | None:
    """Why `reason_code` cannot justify `outcome` on a referral whose rules recommended acceptance
    (`recommended`) or a decline; None when it can."""
    reasons = APPROVAL_REASONS if outcome == "approve" else DENIAL_REASONS
    if reason_code not in reasons:
        return f"reason_code must be one of {', '.join(sorted(reasons))} to {outcome}"
    if outcome == "approve" and not recommended and reason_code == "meets_criteria":
        return "the rules declined this referral: an approval overrides them and must say why (not meets_criteria)"
    return None
