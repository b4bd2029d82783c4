"""What the benchmark sends: Albany referrals from a benchmark police agency, and its token.

Albany's 30-day window keeps every deadline workflow the benchmark causes open for the whole run,
so no lapse (and no warrant traffic) mixes into the figures, unlike the 20-second `demo` policy.
Albany has no approval gate: King County's and Santa Fe's hold every referral for a person's
decision (days, not milliseconds), which is not what the benchmark measures.
"""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.loadgen import SEQ
from divert_intake.domain.commands import SubmitReferral
from divert_intake.entrypoints.schemas import ReferralRequest
from divert_local.journey import demo_referral
from divert_platform.auth import mint_token
from divert_platform.clock import utcnow
from divert_platform.settings import ServiceSettings

AGENCY = "BENCH-PD"
JURISDICTION = "albany"


def officer_token() -> str:
    """An officer token of the benchmark agency, signed with the development key the stack uses."""
    return mint_token(
        ServiceSettings(), subject="bench-officer", role="officer", agency=AGENCY, jurisdiction=JURISDICTION
    )


def auth_headers() -> dict[str, str]:
    """Headers of every benchmark request to intake."""
    return {"Authorization": f"Bearer {officer_token()}", "X-Divert-Purpose": "benchmark"}


def referral(pathway: str, case_number: str) -> dict[str, Any]:
    """An eligible referral of `pathway` ("arrest_diversion" or "social_contact") for one RMS case.

    A social contact has no deadline: no workflow is started for it, so load phases that only
    measure intake's API do not leave thousands of workflow starts behind for later phases.
    """
    body = demo_referral("Bench", referred_at=datetime.now(UTC) - timedelta(seconds=5))
    body["jurisdiction"] = JURISDICTION
    body["pathway"] = pathway
    body["rms"] = {"agency": AGENCY, "case_number": case_number, "officer_id": "0001"}
    if pathway == "social_contact":
        documented = datetime.now(UTC).date() - timedelta(days=30)
        body["screening"]["prior_involvement_documented_on"] = documented.isoformat()
    return body


def body_template(pathway: str, tag: str) -> str:
    """The JSON text of a referral whose case number the load generator numbers per request."""
    return json.dumps(referral(pathway, f"{tag}-{SEQ}"))


def submit_command(body: dict[str, Any], referral_id: Any) -> SubmitReferral:
    """The command intake's API builds from the same request body (for seeding without HTTP)."""
    request = ReferralRequest.model_validate(body)
    return SubmitReferral(
        referral_id=referral_id,
        jurisdiction=request.jurisdiction,
        pathway=request.pathway,
        referred_at=request.referred_at,
        rms=request.rms,
        subject=request.subject,
        location=request.location,
        offense=request.offense,
        screening=request.screening,
        contact_drivers=tuple(request.contact_drivers),
        at=utcnow(),
    )
