"""The status-callback endpoints' API over real SQLite and PostgreSQL databases: an SPD agency
administrator and King County's prosecutor register, rotate, disable and enable endpoints and
read and redeliver the messages officers' referrals queue for them. Fixtures come from
conftest.py; the URL checks made outside development run on an app built with
`environment="test"` over the same database."""

import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from cryptography.fernet import Fernet
from sqlalchemy import select, update

from divert_intake.bootstrap import Intake, bootstrap
from divert_intake.config import IntakeSettings
from divert_intake.entrypoints.api import build_api
from divert_intake.entrypoints.callback_schemas import MAX_LIVE_SECRETS
from divert_intake.service_layer.status_callbacks import CALLBACK_TYPES, PROSECUTION_TYPES
from divert_platform.auth import mint_token
from divert_platform.callbacks import registry
from divert_platform.callbacks.schema import callback_endpoints, callback_messages
from divert_platform.callbacks.secret_box import SecretBox, SecretBoxError
from divert_platform.problems import PROBLEM_JSON

Headers = dict[str, str]
Token = Callable[..., Headers]

ENDPOINTS = "/v1/callback-endpoints"
HOOK = "http://127.0.0.1:9/hooks/divert"  # development allows http:// and loopback; nothing listens there


@pytest.fixture
def admin(token: Token) -> Headers:
    """SPD's integration administrator in King County (the agency of the tests' referrals)."""
    return token("agency_admin", subject="spd-integration", agency="SPD", jurisdiction="king-county")


@pytest.fixture
def prosecutor(token: Token) -> Headers:
    """King County's prosecutor."""
    return token("prosecutor", subject="kc-pao", jurisdiction="king-county")


@pytest_asyncio.fixture
async def strict(intake: Intake) -> AsyncIterator[tuple[httpx.AsyncClient, IntakeSettings]]:
    """The API as a deployment outside development builds it (https:// to public addresses only),
    over the same database as `client`, and its settings (to mint its tokens)."""
    settings = IntakeSettings(
        environment="test",
        database_url=intake.settings.database_url,
        kafka_bootstrap="127.0.0.1:1",
        kafka_allow_insecure=True,
        temporal_allow_insecure=True,
        jwt_secret="a-test-rig-secret-of-more-than-32-characters",
        callback_encryption_keys=Fernet.generate_key().decode(),
    )
    parts = bootstrap(settings)
    transport = httpx.ASGITransport(app=build_api(parts))
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as http:
        yield http, settings
    await parts.engine.dispose()


def strict_admin(settings: IntakeSettings) -> Headers:
    """SPD's administrator, with a token of the strict app's deployment."""
    token = mint_token(
        settings, subject="spd-integration", role="agency_admin", agency="SPD", jurisdiction="king-county"
    )
    return {"Authorization": f"Bearer {token}"}


async def register(client: httpx.AsyncClient, headers: Headers, **body: Any) -> dict[str, Any]:
    response = await client.post(ENDPOINTS, json={"url": HOOK, **body}, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def submit(client: httpx.AsyncClient, body: dict[str, Any], headers: Headers) -> str:
    response = await client.post("/v1/referrals", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["referral_id"])


async def messages(client: httpx.AsyncClient, endpoint_id: str, headers: Headers, **params: Any) -> dict[str, Any]:
    response = await client.get(f"{ENDPOINTS}/{endpoint_id}/messages", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def stored_endpoint(intake: Intake, endpoint_id: str) -> dict[str, Any]:
    async with intake.sessions() as session:
        row = await registry.endpoint(session, endpoint_id)
    assert row is not None
    return row


def kinds(view: dict[str, Any]) -> list[str]:
    return [entry["kind"] for entry in view["history"]]


def field_at_fault(response: httpx.Response) -> str:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    return str(response.json()["errors"][0]["field"])


# --- registration and its secret ------------------------------------------------------------------


async def test_registration_answers_the_secret_once_and_never_again(client: httpx.AsyncClient, admin: Headers) -> None:
    keyed = {**admin, "Idempotency-Key": "register-1"}
    first = await client.post(ENDPOINTS, json={"url": HOOK, "description": "SPD RMS"}, headers=keyed)

    assert first.status_code == 201, first.text
    made = first.json()
    secret = made["secret"]
    assert secret.startswith("whsec_") and len(secret) > 40
    assert made["audience"] == "agency" and (made["agency"], made["jurisdiction"]) == ("SPD", "king-county")
    assert made["event_types"] == list(CALLBACK_TYPES)  # every type an agency may receive, by default
    assert (made["status"], made["description"], made["url"]) == ("active", "SPD RMS", HOOK)
    assert [entry["expires_at"] for entry in made["secrets"]] == [None]
    assert [(e["kind"], e["actor"]) for e in made["history"]] == [("registered", "spd-integration")]

    read = await client.get(f"{ENDPOINTS}/{made['endpoint_id']}", headers=admin)
    listed = await client.get(ENDPOINTS, headers=admin)
    retried = await client.post(ENDPOINTS, json={"url": HOOK, "description": "SPD RMS"}, headers=keyed)

    assert read.status_code == 200 and "secret" not in read.json()
    assert [item["endpoint_id"] for item in listed.json()["items"]] == [made["endpoint_id"]]
    assert retried.status_code == 201
    assert retried.json()["endpoint_id"] == made["endpoint_id"] and retried.json()["secret"] is None
    for later in (read, listed, retried):
        assert secret not in later.text and secret.removeprefix("whsec_") not in later.text
    expected = {key: value for key, value in made.items() if key != "secret"}
    assert read.json() == expected


async def test_a_stored_secret_is_sealed_and_opens_with_the_deployments_key(
    client: httpx.AsyncClient, intake: Intake, admin: Headers
) -> None:
    made = await register(client, admin)

    row = await stored_endpoint(intake, made["endpoint_id"])

    dump = json.dumps(row, default=str)
    assert made["secret"] not in dump and made["secret"].removeprefix("whsec_") not in dump
    [entry] = row["secrets"]
    assert intake.settings.callback_box.open(entry["sealed"]) == made["secret"]
    with pytest.raises(SecretBoxError):  # the database alone does not give it away
        SecretBox([Fernet.generate_key().decode()]).open(entry["sealed"])


# --- what may be registered ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "ftp://rms.example.org/hooks",
        "https://user:password@rms.example.org/hooks",
        "https://rms.example.org/hooks#fragment",
        "https:///no-host",
        "https://rms.example.org/" + "a" * 2100,
    ],
)
async def test_a_url_that_may_not_receive_callbacks_is_a_422_naming_it(
    client: httpx.AsyncClient, intake: Intake, admin: Headers, url: str
) -> None:
    response = await client.post(ENDPOINTS, json={"url": url}, headers=admin)

    assert field_at_fault(response) == "body.url"
    async with intake.sessions() as session:
        assert (await session.execute(select(callback_endpoints))).all() == []


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://93.184.216.34/hooks", "https://"),
        ("https://127.0.0.1/hooks", "loopback"),
        ("https://10.0.0.5/hooks", "private"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://[::1]/hooks", "loopback"),
        ("https://[::ffff:10.0.0.5]/hooks", "private"),
    ],
)
async def test_outside_development_only_https_to_public_addresses_is_registered(
    strict: tuple[httpx.AsyncClient, IntakeSettings], url: str, why: str
) -> None:
    client, settings = strict

    response = await client.post(ENDPOINTS, json={"url": url}, headers=strict_admin(settings))

    assert field_at_fault(response) == "body.url"
    assert why in response.json()["detail"]


async def test_outside_development_a_public_address_is_registered(
    strict: tuple[httpx.AsyncClient, IntakeSettings],
) -> None:
    client, settings = strict
    # An address literal: it resolves to itself, without asking DNS.
    response = await client.post(ENDPOINTS, json={"url": "https://93.184.216.34/hooks"}, headers=strict_admin(settings))

    assert response.status_code == 201, response.text
    assert response.json()["secret"].startswith("whsec_")


async def test_an_event_type_the_audience_may_not_receive_is_a_422_naming_it(
    client: httpx.AsyncClient, admin: Headers, prosecutor: Headers
) -> None:
    asked_for_acceptances = await client.post(
        ENDPOINTS, json={"url": HOOK, "event_types": ["referral.lapsed", "referral.accepted"]}, headers=prosecutor
    )
    twice = await client.post(
        ENDPOINTS, json={"url": HOOK, "event_types": ["referral.lapsed", "referral.lapsed"]}, headers=admin
    )
    none = await client.post(ENDPOINTS, json={"url": HOOK, "event_types": []}, headers=admin)

    assert field_at_fault(asked_for_acceptances) == "body.event_types"
    assert "referral.accepted" in asked_for_acceptances.json()["detail"]
    assert field_at_fault(twice) == "body.event_types"
    assert field_at_fault(none) == "body.event_types"

    office = await register(client, prosecutor)
    assert (office["audience"], office["agency"], office["jurisdiction"]) == ("jurisdiction", None, "king-county")
    assert office["event_types"] == list(PROSECUTION_TYPES)
    chosen = await register(client, admin, event_types=["referral.lapsed", "referral.accepted"])
    assert chosen["event_types"] == ["referral.lapsed", "referral.accepted"]


async def test_an_unknown_field_is_a_422(client: httpx.AsyncClient, admin: Headers) -> None:
    response = await client.post(ENDPOINTS, json={"url": HOOK, "secret": "whsec_mine"}, headers=admin)
    assert field_at_fault(response) == "body.secret"


# --- who sees what ------------------------------------------------------------------------------


async def test_each_caller_sees_and_changes_only_its_own_endpoints(
    client: httpx.AsyncClient, token: Token, admin: Headers, prosecutor: Headers
) -> None:
    spd = await register(client, admin)
    office = await register(client, prosecutor)
    strangers = {
        "another agency": token("agency_admin", agency="KCSO", jurisdiction="king-county"),
        "another jurisdiction": token("agency_admin", agency="SPD", jurisdiction="santa-fe"),
        "another office": token("prosecutor", jurisdiction="santa-fe"),
    }
    for name, headers in strangers.items():
        for endpoint in (spd, office):
            base = f"{ENDPOINTS}/{endpoint['endpoint_id']}"
            for method, path in [
                ("GET", base),
                ("GET", f"{base}/messages"),
                ("POST", f"{base}/secret-rotation"),
                ("POST", f"{base}/disabling"),
                ("POST", f"{base}/enabling"),
            ]:
                response = await client.request(method, path, headers=headers)
                assert response.status_code == 404, (name, method, path, response.text)
        assert (await client.get(ENDPOINTS, headers=headers)).json()["items"] == [], name
    # The agency's administrator and the prosecutor share a jurisdiction, not endpoints.
    assert (await client.get(f"{ENDPOINTS}/{office['endpoint_id']}", headers=admin)).status_code == 404
    assert (await client.get(f"{ENDPOINTS}/{spd['endpoint_id']}", headers=prosecutor)).status_code == 404
    assert [e["endpoint_id"] for e in (await client.get(ENDPOINTS, headers=admin)).json()["items"]] == [
        spd["endpoint_id"]
    ]
    assert [e["endpoint_id"] for e in (await client.get(ENDPOINTS, headers=prosecutor)).json()["items"]] == [
        office["endpoint_id"]
    ]
    for endpoint, owner in ((spd, admin), (office, prosecutor)):  # the strangers changed nothing
        view = (await client.get(f"{ENDPOINTS}/{endpoint['endpoint_id']}", headers=owner)).json()
        assert view["status"] == "active" and kinds(view) == ["registered"] and len(view["secrets"]) == 1


@pytest.mark.parametrize("role", ["officer", "case_manager", "program_manager", "court", "service", "ops"])
async def test_every_other_role_is_forbidden(
    client: httpx.AsyncClient, token: Token, admin: Headers, role: str
) -> None:
    spd = await register(client, admin)
    headers = token(role, agency="SPD", jurisdiction="king-county")
    base = f"{ENDPOINTS}/{spd['endpoint_id']}"
    for method, path, body in [
        ("POST", ENDPOINTS, {"url": HOOK}),
        ("GET", ENDPOINTS, None),
        ("GET", base, None),
        ("POST", f"{base}/secret-rotation", None),
        ("POST", f"{base}/disabling", None),
        ("GET", f"{base}/messages", None),
    ]:
        response = await client.request(method, path, json=body, headers=headers)
        assert response.status_code == 403, (role, method, path, response.text)


async def test_a_token_for_every_jurisdiction_may_not_register(client: httpx.AsyncClient, token: Token) -> None:
    everywhere = token("prosecutor", jurisdiction="*")
    unscoped_admin = token("agency_admin", agency="SPD")

    response = await client.post(ENDPOINTS, json={"url": HOOK}, headers=everywhere)

    assert response.status_code == 403 and response.json()["claim"] == "jurisdiction", response.text
    assert (await client.get(ENDPOINTS, headers=everywhere)).status_code == 403
    assert (await client.post(ENDPOINTS, json={"url": HOOK}, headers=unscoped_admin)).json()["claim"] == "jurisdiction"


# --- rotation, disabling and enabling -------------------------------------------------------------


async def test_a_rotation_gives_a_new_secret_and_the_old_one_signs_for_the_overlap(
    client: httpx.AsyncClient, intake: Intake, admin: Headers
) -> None:
    made = await register(client, admin)
    rotation = f"{ENDPOINTS}/{made['endpoint_id']}/secret-rotation"
    keyed = {**admin, "Idempotency-Key": "rotate-1"}

    before = datetime.now(UTC)
    rotated = await client.post(rotation, headers=keyed)
    retried = await client.post(rotation, headers=keyed)

    assert rotated.status_code == 200, rotated.text
    answer = rotated.json()
    assert answer["secret"].startswith("whsec_") and answer["secret"] != made["secret"]
    newest, older = answer["endpoint"]["secrets"]
    assert newest["expires_at"] is None
    expires = datetime.fromisoformat(older["expires_at"])
    overlap = intake.settings.callback_rotation_overlap
    assert before + overlap <= expires <= datetime.now(UTC) + overlap
    assert datetime.fromisoformat(answer["previous_secrets_expire_at"]) == expires
    assert kinds(answer["endpoint"]) == ["registered", "secret_rotated"]
    assert answer["endpoint"]["history"][1]["actor"] == "spd-integration"

    assert retried.status_code == 200 and retried.json()["secret"] is None
    assert retried.json()["endpoint"]["secrets"] == answer["endpoint"]["secrets"]  # no third secret
    assert answer["secret"] not in retried.text
    row = await stored_endpoint(intake, made["endpoint_id"])
    box = intake.settings.callback_box
    assert registry.live_secrets(row, box, datetime.now(UTC)) == [answer["secret"], made["secret"]]
    assert registry.live_secrets(row, box, expires + timedelta(seconds=1)) == [answer["secret"]]


async def test_an_endpoint_signs_with_a_bounded_number_of_secrets(client: httpx.AsyncClient, admin: Headers) -> None:
    made = await register(client, admin)
    rotation = f"{ENDPOINTS}/{made['endpoint_id']}/secret-rotation"
    for _ in range(MAX_LIVE_SECRETS - 1):
        assert (await client.post(rotation, headers=admin)).status_code == 200

    refused = await client.post(rotation, headers=admin)

    assert refused.status_code == 409, refused.text
    view = (await client.get(f"{ENDPOINTS}/{made['endpoint_id']}", headers=admin)).json()
    assert len(view["secrets"]) == MAX_LIVE_SECRETS


async def test_disabling_and_enabling_are_recorded_with_who_did_them(client: httpx.AsyncClient, admin: Headers) -> None:
    made = await register(client, admin)
    base = f"{ENDPOINTS}/{made['endpoint_id']}"

    disabled = await client.post(f"{base}/disabling", headers=admin)
    again = await client.post(f"{base}/disabling", headers=admin)
    enabled = await client.post(f"{base}/enabling", headers=admin)

    assert disabled.status_code == 200, disabled.text
    view = disabled.json()
    assert view["status"] == "disabled" and view["disabled_reason"] == "disabled by spd-integration"
    assert view["disabled_at"] is not None
    assert again.json()["disabled_at"] == view["disabled_at"] and kinds(again.json()) == ["registered", "disabled"]
    assert enabled.status_code == 200, enabled.text
    view = enabled.json()
    assert (view["status"], view["disabled_at"], view["disabled_reason"]) == ("active", None, None)
    assert [(e["kind"], e["actor"]) for e in view["history"]] == [
        ("registered", "spd-integration"),
        ("disabled", "spd-integration"),
        ("enabled", "spd-integration"),
    ]


async def test_outside_development_enabling_rechecks_the_address(
    client: httpx.AsyncClient, admin: Headers, strict: tuple[httpx.AsyncClient, IntakeSettings]
) -> None:
    # Registered where private addresses are allowed, then enabled where they are not: as if its
    # name had been re-pointed at an internal address since.
    made = await register(client, admin, url="https://10.0.0.5/hooks")
    base = f"{ENDPOINTS}/{made['endpoint_id']}"
    assert (await client.post(f"{base}/disabling", headers=admin)).status_code == 200
    strict_client, settings = strict

    refused = await strict_client.post(f"{base}/enabling", headers=strict_admin(settings))

    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"] == PROBLEM_JSON
    assert refused.json()["type"].endswith("/unsafe-target") and "private" in refused.json()["detail"]
    view = (await client.get(base, headers=admin)).json()
    assert view["status"] == "disabled" and kinds(view) == ["registered", "disabled"]


# --- messages ---------------------------------------------------------------------------------------


async def test_a_referral_queues_its_status_for_the_agency_and_can_be_redelivered(
    client: httpx.AsyncClient, intake: Intake, admin: Headers, officer: Headers, referral_body: dict[str, Any]
) -> None:
    spd = await register(client, admin)
    endpoint_id = spd["endpoint_id"]
    referral_id = await submit(client, referral_body, officer)

    [item] = (await messages(client, endpoint_id, admin))["items"]
    assert item["event_type"] == "referral.accepted" and item["referral_id"] == referral_id
    assert (item["status"], item["attempts"], item["sequence"]) == ("pending", 0, 1)
    assert item["message_id"].startswith("msg_")
    detail = await client.get(f"{ENDPOINTS}/{endpoint_id}/messages/{item['message_id']}", headers=admin)
    assert detail.status_code == 200, detail.text
    payload = detail.json()["payload"]
    assert payload["type"] == "referral.accepted"
    assert payload["data"]["status"] == "accepted" and payload["data"]["referral_id"] == referral_id
    assert payload["data"]["rms"] == {"agency": "SPD", "case_number": "2026-334455"}
    assert detail.json()["attempts_made"] == []
    async with intake.sessions() as session:
        stored = await registry.message(session, item["message_id"])
    assert stored is not None and payload == stored["payload"]  # the exact body sent

    # Its schedule ran out (what the delivery records after the last failed attempt).
    async with intake.sessions() as session, session.begin():
        await session.execute(
            update(callback_messages)
            .where(callback_messages.c.message_id == item["message_id"])
            .values(status="failed", attempts=8, next_attempt_at=None)
        )
    assert [i["message_id"] for i in (await messages(client, endpoint_id, admin, status="failed"))["items"]] == [
        item["message_id"]
    ]
    redelivery = f"{ENDPOINTS}/{endpoint_id}/messages/{item['message_id']}/redelivery"
    redone = await client.post(redelivery, headers=admin)

    assert redone.status_code == 202, redone.text
    assert redone.json()["message_id"] == item["message_id"]  # the same webhook-id
    assert (redone.json()["status"], redone.json()["attempts"]) == ("pending", 0)
    assert redone.json()["next_attempt_at"] is not None
    view = (await client.get(f"{ENDPOINTS}/{endpoint_id}", headers=admin)).json()
    assert [(e["kind"], e["detail"]) for e in view["history"]][-1] == ("redelivery_requested", item["message_id"])

    assert (await client.post(f"{ENDPOINTS}/{endpoint_id}/disabling", headers=admin)).status_code == 200
    held = await client.post(redelivery, headers=admin)
    assert held.status_code == 409 and held.json()["current_state"] == "disabled", held.text


async def test_messages_are_listed_newest_first_filtered_and_paged(
    client: httpx.AsyncClient, admin: Headers, prosecutor: Headers, officer: Headers, referral_body: dict[str, Any]
) -> None:
    spd, office = await register(client, admin), await register(client, prosecutor)
    referral_id = await submit(client, referral_body, officer)
    withdrawn = await client.post(f"/v1/referrals/{referral_id}/withdrawal", json={"reason": "error"}, headers=officer)
    assert withdrawn.status_code == 200, withdrawn.text

    first = await messages(client, spd["endpoint_id"], admin, limit=1)
    second = await messages(client, spd["endpoint_id"], admin, limit=1, cursor=first["next_cursor"])

    assert [i["event_type"] for i in first["items"] + second["items"]] == ["referral.withdrawn", "referral.accepted"]
    assert [i["sequence"] for i in first["items"] + second["items"]] == [2, 1]
    assert first["next_cursor"] and second["next_cursor"] is None
    # The prosecutor's office hears of the withdrawal only (it may not subscribe to acceptances).
    assert [i["event_type"] for i in (await messages(client, office["endpoint_id"], prosecutor))["items"]] == [
        "referral.withdrawn"
    ]
    assert (await messages(client, spd["endpoint_id"], admin, status="delivered"))["items"] == []
    other = "00000000-0000-4000-8000-000000000000"
    assert (await messages(client, spd["endpoint_id"], admin, referral_id=other))["items"] == []
    assert len((await messages(client, spd["endpoint_id"], admin, referral_id=referral_id))["items"]) == 2
    forged = await client.get(f"{ENDPOINTS}/{spd['endpoint_id']}/messages", params={"cursor": "abc"}, headers=admin)
    assert field_at_fault(forged) == "query.cursor"

    # A message is read and redelivered only under its own endpoint.
    office_message = (await messages(client, office["endpoint_id"], prosecutor))["items"][0]["message_id"]
    mine = await register(client, prosecutor, url=HOOK + "/second")
    wrong = f"{ENDPOINTS}/{mine['endpoint_id']}/messages/{office_message}"
    assert (await client.get(wrong, headers=prosecutor)).status_code == 404
    assert (await client.post(f"{wrong}/redelivery", headers=prosecutor)).status_code == 404


async def test_a_declined_referral_tells_reason_codes_and_nothing_of_the_person(
    client: httpx.AsyncClient, admin: Headers, officer: Headers, referral_body: dict[str, Any]
) -> None:
    spd = await register(client, admin)
    referral_body["screening"].update(amenable=False, exploits_minors=True)
    referral_id = await submit(client, referral_body, officer)

    [item] = (await messages(client, spd["endpoint_id"], admin))["items"]
    detail = await client.get(f"{ENDPOINTS}/{spd['endpoint_id']}/messages/{item['message_id']}", headers=admin)

    payload = detail.json()["payload"]
    assert payload["type"] == "referral.declined" and payload["data"]["referral_id"] == referral_id
    reasons = payload["data"]["reasons"]
    assert reasons and all(isinstance(code, str) for code in reasons)
    text = json.dumps(payload)
    subject = referral_body["subject"]
    for personal in (*subject.values(), "Belltown", "opioid", "RCW 69.50.4013", "exploits_minors", "not_amenable"):
        assert str(personal) not in text, personal
