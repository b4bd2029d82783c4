"""The HTTP contract between intake's deadline workflow and warrants: one instant, one spelling; the
body strict, the receipt tolerant."""

from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID

import pytest
from pydantic import ValidationError

from divert_contracts.warrant_requests import WarrantRequestBody, WarrantRequestReceipt

PACIFIC = timezone(timedelta(hours=-8))
REFERRAL = UUID("7b0d3c2e-5a41-4f7e-9c1d-2e8f6a4b9d10")


def _body(**changes: object) -> dict[str, object]:
    return {
        "referral_id": str(REFERRAL),
        "jurisdiction": "king-county",
        "kind": "warrant_request",
        "assessment_due_by": "2026-03-05T09:15:00-08:00",
        "lapsed_at": "2026-03-05T09:15:02-08:00",
        **changes,
    }


def test_moments_are_normalised_to_utc() -> None:
    body = WarrantRequestBody.model_validate(_body())
    assert body.assessment_due_by == datetime(2026, 3, 5, 17, 15, tzinfo=UTC)
    assert body.assessment_due_by.utcoffset() == timedelta(0) and body.lapsed_at.utcoffset() == timedelta(0)
    assert body.model_dump(mode="json")["assessment_due_by"] == "2026-03-05T17:15:00Z"


def test_the_same_instant_with_another_offset_is_the_same_body() -> None:
    """A retry that spells the lapse in another offset must fingerprint the same (idempotency)."""
    in_utc = WarrantRequestBody.model_validate(
        _body(assessment_due_by="2026-03-05T17:15:00Z", lapsed_at="2026-03-05T17:15:02+00:00")
    )
    in_pacific = WarrantRequestBody(
        referral_id=REFERRAL,
        jurisdiction="king-county",
        kind="warrant_request",
        assessment_due_by=datetime(2026, 3, 5, 9, 15, tzinfo=PACIFIC),
        lapsed_at=datetime(2026, 3, 5, 9, 15, 2, tzinfo=PACIFIC),
    )
    assert in_pacific == in_utc
    assert in_pacific.model_dump_json() == in_utc.model_dump_json()


def test_a_moment_without_an_offset_is_refused() -> None:
    with pytest.raises(ValidationError, match="assessment_due_by"):
        WarrantRequestBody.model_validate(_body(assessment_due_by="2026-03-05T09:15:00"))


def test_the_body_refuses_fields_it_does_not_declare() -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        WarrantRequestBody.model_validate(_body(subject_name="Alex Example"))


@pytest.mark.parametrize(("field", "value"), [("jurisdiction", ""), ("jurisdiction", "x" * 65), ("kind", "summons")])
def test_the_body_validates_its_fields(field: str, value: str) -> None:
    with pytest.raises(ValidationError, match=field):
        WarrantRequestBody.model_validate(_body(**{field: value}))


def test_the_receipt_ignores_fields_warrants_adds() -> None:
    receipt = WarrantRequestReceipt.model_validate(
        {
            "warrant_request_id": "c4e8a1f2-9b37-4d60-8e25-a7f3b0d6c912",
            "status": "requested",
            "jurisdiction": "king-county",
            "links": {"self": "/v1/warrant-requests/c4e8a1f2-9b37-4d60-8e25-a7f3b0d6c912"},
        }
    )
    assert receipt == WarrantRequestReceipt(
        warrant_request_id=UUID("c4e8a1f2-9b37-4d60-8e25-a7f3b0d6c912"), status="requested"
    )
    assert "jurisdiction" not in receipt.model_dump()


def test_the_receipt_still_needs_what_the_workflow_relies_on() -> None:
    with pytest.raises(ValidationError, match="warrant_request_id"):
        WarrantRequestReceipt.model_validate({"status": "requested"})
