"""`disclose`, the service-layer step behind `POST /v1/cases/{id}/disclosures`, on read-model rows
and a recording stand-in for the audit trail: what goes out, what is recorded, what is refused."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from divert_assessment.domain.consent_gate import REDISCLOSURE_NOTICE, Refusal
from divert_assessment.domain.organisations import Organisation, OrganisationRegistry
from divert_assessment.service_layer.disclosures import DisclosureRefused, disclose

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
REFERRAL_ID = uuid4()
REGISTRY = OrganisationRegistry(
    [
        Organisation(id="org-housing", name="Housing", type="housing"),
        Organisation(id="org-clinic", name="Clinic", type="substance_use_treatment"),
        Organisation(id="kcpao", name="Prosecutor", type="prosecution"),
    ]
)
CASE = {
    "referral_id": str(REFERRAL_ID),
    "given_name": "Alex",
    "family_name": "Example",
    "phone": "+15555550123",
    "status": "enrolled",
    "engagement": "active",
    "enrolled_at": NOW - timedelta(days=3),
    "needs": [
        {"domain": "housing", "priority": 1},
        {"domain": "substance_use_treatment", "priority": 2},
    ],
}


def consent(parties: list[str], scope: str, *, part2: bool = False, revoked: bool = False) -> dict[str, object]:
    return {
        "consent_id": str(uuid4()),
        "parties": parties,
        "scope": scope,
        "part2": part2,
        "expires_at": NOW + timedelta(days=30),
        "revoked_at": NOW - timedelta(hours=1) if revoked else None,
    }


class Recorded:
    """Stands in for the audit trail: keeps every record the step asks for."""

    def __init__(self) -> None:
        self.records: list[tuple[str, list[str | None]]] = []

    async def record(self, resource: str, referral_ids: list[str | None]) -> None:
        self.records.append((resource, list(referral_ids)))


async def test_a_consent_in_force_lets_its_scope_go_and_the_grant_is_recorded() -> None:
    audit, given = Recorded(), consent(["org-housing"], "program_status")
    result = await disclose(CASE, [given], "org-housing", "program_status", NOW, audit=audit, organisations=REGISTRY)
    assert result.program_status == {"status": "enrolled", "engagement": "active", "enrolled": True}
    assert (result.contact_details, result.needs, result.notice) == (None, None, None)
    assert audit.records == [
        (f"disclosure of program_status to org-housing under consent {given['consent_id']}", [str(REFERRAL_ID)])
    ]


async def test_part2_needs_go_only_under_a_part2_consent_and_then_with_the_notice() -> None:
    plain = await disclose(
        CASE,
        [consent(["org-clinic"], "assessment_needs")],
        "org-clinic",
        "assessment_needs",
        NOW,
        audit=Recorded(),
        organisations=REGISTRY,
    )
    part2 = await disclose(
        CASE,
        [consent(["org-clinic"], "assessment_needs", part2=True)],
        "org-clinic",
        "assessment_needs",
        NOW,
        audit=Recorded(),
        organisations=REGISTRY,
    )
    assert [need.domain for need in plain.needs or []] == ["housing"] and plain.notice is None
    assert [need.domain for need in part2.needs or []] == ["housing", "substance_use_treatment"]
    assert part2.notice == REDISCLOSURE_NOTICE


@pytest.mark.parametrize(
    ("consents", "party", "refusal"),
    [
        ([], "org-housing", Refusal.NO_CONSENT_FOR_PARTY),
        ([consent(["org-housing"], "full_case", revoked=True)], "org-housing", Refusal.REVOKED),
        ([consent(["kcpao"], "full_case")], "kcpao", Refusal.ENFORCEMENT_PARTY),
        ([consent(["org-unknown"], "full_case")], "org-unknown", Refusal.NOT_REGISTERED),
    ],
)
async def test_a_refusal_is_recorded_before_it_is_raised(consents, party, refusal) -> None:
    audit = Recorded()
    with pytest.raises(DisclosureRefused) as refused:
        await disclose(CASE, consents, party, "full_case", NOW, audit=audit, organisations=REGISTRY)
    assert refused.value.decision.refusal == refusal
    assert audit.records == [(f"disclosure of full_case to {party} refused: {refusal}", [str(REFERRAL_ID)])]
