"""The consent a service referral needs: naming the organization, for referral, Part 2 when the need
is, and in force (not revoked, not expired)."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from divert_directory.domain.case_facts import ConsentFact
from divert_directory.domain.consent_check import ConsentRefusal, may_refer

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)
ORG = UUID("0b8a53a4-5f0e-4a7e-9a51-6f0e2c1d3b11")
CASE = UUID(int=1)


def consent(n: int = 1, **fields) -> ConsentFact:
    values = {
        "parties": (str(ORG),),
        "purpose": "service_referral",
        "scope": "contact_details",
        "part2": False,
        "recorded_at": NOW - timedelta(days=1),
        "expires_at": NOW + timedelta(days=30),
    } | fields
    return ConsentFact(UUID(int=n), CASE, **values)


def test_a_consent_in_force_naming_the_organization_for_referral_allows_it() -> None:
    decision = may_refer([consent()], ORG, part2_needed=False, now=NOW)

    assert decision.allowed and decision.consent_id == UUID(int=1) and decision.refusal is None


def test_care_coordination_allows_it_too_and_the_longest_lasting_consent_is_relied_on() -> None:
    consents = [consent(1), consent(2, purpose="care_coordination", expires_at=NOW + timedelta(days=90))]

    assert may_refer(consents, ORG, part2_needed=False, now=NOW).consent_id == UUID(int=2)


def test_the_organization_id_is_matched_whatever_its_case() -> None:
    upper = consent(parties=("org-other", str(ORG).upper()))

    assert may_refer([upper], ORG, part2_needed=False, now=NOW).allowed


@pytest.mark.parametrize(
    ("consents", "part2_needed", "refusal"),
    [
        ([], False, ConsentRefusal.NO_CONSENT_FOR_ORGANIZATION),
        ([consent(parties=("another-org",))], False, ConsentRefusal.NO_CONSENT_FOR_ORGANIZATION),
        ([consent(purpose="housing_application")], False, ConsentRefusal.PURPOSE_NOT_COVERED),
        ([consent()], True, ConsentRefusal.NOT_PART2),
        ([consent(revoked_at=NOW - timedelta(hours=1))], False, ConsentRefusal.REVOKED),
        ([consent(expires_at=NOW)], False, ConsentRefusal.EXPIRED),
        ([consent(part2=True, revoked_at=NOW - timedelta(hours=1)), consent(2)], True, ConsentRefusal.REVOKED),
        # a revocation heard before its consent is no consent at all
        ([ConsentFact(UUID(int=3), CASE, revoked_at=NOW)], False, ConsentRefusal.NO_CONSENT_FOR_ORGANIZATION),
    ],
    ids=[
        "none",
        "other-party",
        "other-purpose",
        "part2-need-plain-consent",
        "revoked",
        "expired",
        "part2-consent-revoked",
        "revocation-only",
    ],
)
def test_refusals_say_which_consent_is_missing(
    consents: list[ConsentFact], part2_needed: bool, refusal: ConsentRefusal
) -> None:
    decision = may_refer(consents, ORG, part2_needed=part2_needed, now=NOW)

    assert not decision.allowed and decision.refusal is refusal
    assert str(ORG) in decision.explanation
    assert ("part2" in decision.explanation) is part2_needed


def test_a_part2_need_goes_under_a_part2_consent() -> None:
    decision = may_refer([consent(1), consent(2, part2=True)], ORG, part2_needed=True, now=NOW)

    assert decision.consent_id == UUID(int=2)


def test_a_part2_consent_also_covers_other_needs() -> None:
    assert may_refer([consent(part2=True)], ORG, part2_needed=False, now=NOW).allowed


def test_a_consent_stops_at_its_expiry_and_at_its_revocation() -> None:
    base = consent()

    assert base.in_force(NOW) and not base.in_force(base.expires_at)
    assert not replace(base, revoked_at=NOW).in_force(NOW - timedelta(days=1))
