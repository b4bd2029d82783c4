"""An accepted referral is checked where it arrives against the bounds the case API shows it with.

The referral contract allows what the API does not show (control characters in a name), so such
a referral is dead-lettered (`RejectedMessage`) instead of opening a case no read could answer.
"""

import pytest

from divert_assessment.service_layer import handlers
from divert_contracts.referrals import Subject
from divert_platform.consumer import RejectedMessage

from .test_assessment_handlers import accepted, deliver


async def test_a_referral_within_the_bounds_opens_its_case(uow) -> None:
    event = accepted(subject=Subject(given_name="Ana\tMaría", family_name="Díaz", phone="+1 206 555 0100"))

    await deliver(uow, event)

    assert (await uow.cases.get(event.referral_id)).status is not None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"subject": Subject(given_name="Ana\x1b[2J", family_name="Diaz")}, "given_name"),
        ({"subject": Subject(given_name="Ana", family_name="Diaz", phone="555\x00")}, "phone"),
        ({"jurisdiction": "King County"}, "jurisdiction"),
    ],
)
async def test_a_referral_beyond_them_is_rejected_naming_the_field_only(uow, changes, field) -> None:
    event = accepted(**changes)

    with pytest.raises(RejectedMessage) as rejected:
        await handlers.when_referral_accepted_open_case(event, uow, case_agencies={})

    assert field in str(rejected.value)
    assert "Ana" not in str(rejected.value)  # no personal data in what is logged and dead-lettered
    assert await uow.cases.get(event.referral_id) is None
