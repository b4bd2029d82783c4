"""The lapse activity's question to intake's store: is a warrant request still due?"""

from typing import Any

import httpx

from divert_intake.bootstrap import Intake, deadline_activities, warrants_client


async def test_withdrawn_referrals_need_no_warrant_and_pending_ones_do(
    intake: Intake, client: httpx.AsyncClient, referral_body: dict[str, Any], officer: dict[str, str]
) -> None:
    ids = []
    for number in ("A-1", "A-2"):
        referral_body["rms"]["case_number"] = number
        response = await client.post("/v1/referrals", json=referral_body, headers=officer)
        assert response.status_code == 201, response.text
        ids.append(response.json()["referral_id"])
    pending, withdrawn = ids
    response = await client.post(f"/v1/referrals/{withdrawn}/withdrawal", json={"reason": "x"}, headers=officer)
    assert response.status_code == 200

    async with warrants_client(intake.settings) as warrants:
        activities = deadline_activities(intake, warrants)
        assert await activities.warrant_still_due(pending) is True
        assert await activities.warrant_still_due(withdrawn) is False
