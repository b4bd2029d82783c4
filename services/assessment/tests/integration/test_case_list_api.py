"""`GET /v1/cases`: filters, the due-soon worklist and cursor pages, over the mixed caseload."""

import base64
import json
from datetime import datetime, timedelta

from divert_platform.clock import utcnow


async def listed(client, **params) -> list[dict]:
    response = await client.get("/v1/cases", params=params)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def names(caseload, items) -> list[str]:
    by_id = {str(referral_id): name for name, referral_id in caseload.ids.items()}
    return [by_id[item["referral_id"]] for item in items]


async def test_every_case_newest_referral_first_as_summaries(client, caseload) -> None:
    items = await listed(client)

    assert names(caseload, items) == ["r1", "k3", "s3", "s2", "k1", "k2", "s1", "old"]
    assert not {"consents", "assessment", "needs", "timeline"} & items[0].keys()
    assert items[0]["subject"] == {"given_name": "S3", "family_name": "Doe"}  # no phone, birth date or RMS id


async def test_filters_combine(client, caseload) -> None:
    assert names(caseload, await listed(client, status="closed")) == ["s3", "s2", "k2"]
    assert names(caseload, await listed(client, jurisdiction="snohomish", status="enrolled")) == ["s1"]
    assert names(caseload, await listed(client, case_manager_id="cm-9")) == ["k1"]
    assert names(caseload, await listed(client, case_manager_id="cm-7", jurisdiction="snohomish")) == ["s2", "s1"]
    assert await listed(client, jurisdiction="nowhere") == []


async def test_due_within_days_lists_pending_cases_soonest_due_first(client, open_case, caseload) -> None:
    now = utcnow()
    later = await open_case(referred_at=now - timedelta(hours=1), assessment_due_by=now + timedelta(days=2, hours=12))
    soon = await open_case(referred_at=now - timedelta(hours=2), assessment_due_by=now + timedelta(hours=3))
    await open_case(referred_at=now - timedelta(hours=1), assessment_due_by=now + timedelta(days=9))
    await open_case(referred_at=now - timedelta(days=5), assessment_due_by=now - timedelta(hours=1))  # overdue

    items = await listed(client, due_within_days=3)

    # k3 was referred 2 days ago with 3 days to go, so it is due in a day; r1 in 2 days
    ids = [item["referral_id"] for item in items]
    assert ids == [str(soon.referral_id), str(caseload.ids["k3"]), str(caseload.ids["r1"]), str(later.referral_id)]
    dues = [datetime.fromisoformat(item["assessment_due_by"]) for item in items]
    assert dues == sorted(dues)
    assert await listed(client, due_within_days=3, status="enrolled") == []


async def test_cursor_pages_cover_every_case_once(client, caseload) -> None:
    seen, cursor, pages = [], None, 0
    while True:
        page = (await client.get("/v1/cases", params={"limit": 3} | ({"cursor": cursor} if cursor else {}))).json()
        seen += [item["referral_id"] for item in page["items"]]
        pages, cursor = pages + 1, page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and seen == [item["referral_id"] for item in await listed(client)]


async def test_due_soon_pages_keep_their_order(client, caseload) -> None:
    first = (await client.get("/v1/cases", params={"due_within_days": 3, "limit": 1})).json()
    second = (await client.get("/v1/cases", params={"due_within_days": 3, "cursor": first["next_cursor"]})).json()

    assert names(caseload, first["items"] + second["items"]) == ["k3", "r1"]
    assert second["next_cursor"] is None


async def test_a_forged_cursor_or_one_of_the_other_order_is_422_naming_it(client, caseload) -> None:
    newest_first = (await client.get("/v1/cases", params={"limit": 1})).json()["next_cursor"]
    forged = base64.urlsafe_b64encode(json.dumps(["newest", "not a time", "x"]).encode()).decode()
    for params in ({"cursor": "nonsense"}, {"cursor": forged}, {"cursor": newest_first, "due_within_days": 3}):
        response = await client.get("/v1/cases", params=params)
        assert response.status_code == 422, params
        assert [error["field"] for error in response.json()["errors"]] == ["query.cursor"]


async def test_bad_filters_are_422(client) -> None:
    for params in ({"status": "lost"}, {"due_within_days": -1}, {"due_within_days": 400}, {"limit": 0}):
        assert (await client.get("/v1/cases", params=params)).status_code == 422, params
