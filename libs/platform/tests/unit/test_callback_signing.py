"""Callback signatures: what Divert signs, any Standard Webhooks receiver verifies, with one secret
or, while a secret is being rotated, with either of two."""

import base64
import json
from datetime import timedelta

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from divert_platform.callbacks.signing import SECRET_BYTES, SECRET_PREFIX, new_secret, signature, signed_headers
from divert_platform.clock import utcnow

BODY = json.dumps({"type": "referral.accepted", "timestamp": "2026-01-02T03:04:05+00:00", "data": {"n": 1}})


def test_a_new_secret_is_whsec_and_32_random_bytes() -> None:
    first, second = new_secret(), new_secret()
    assert first.startswith(SECRET_PREFIX) and second.startswith(SECRET_PREFIX)
    assert len(base64.b64decode(first.removeprefix(SECRET_PREFIX))) == SECRET_BYTES
    assert first != second


def test_the_headers_verify_with_the_reference_library() -> None:
    secret, now = new_secret(), utcnow()
    headers = signed_headers("msg_1", now, BODY, [secret])
    assert headers["webhook-id"] == "msg_1"
    assert headers["webhook-timestamp"] == str(int(now.timestamp()))
    assert headers["content-type"] == "application/json"
    assert headers["webhook-signature"].startswith("v1,")
    assert Webhook(secret).verify(BODY, headers) == json.loads(BODY)


def test_another_secret_a_changed_body_or_id_or_an_old_timestamp_do_not_verify() -> None:
    secret, now = new_secret(), utcnow()
    headers = signed_headers("msg_1", now, BODY, [secret])
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY.replace('"n": 1', '"n": 2'), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY, {**headers, "webhook-id": "msg_2"})
    stale = signed_headers("msg_1", now - timedelta(hours=1), BODY, [secret])
    with pytest.raises(WebhookVerificationError):  # a replayed capture is refused by the receiver
        Webhook(secret).verify(BODY, stale)


def test_two_live_secrets_give_two_signatures_each_verifying_alone() -> None:
    new, old, now = new_secret(), new_secret(), utcnow()
    headers = signed_headers("msg_1", now, BODY, [new, old])
    signatures = headers["webhook-signature"].split(" ")
    assert len(signatures) == 2 and all(sig.startswith("v1,") for sig in signatures)
    assert signatures == [Webhook(new).sign("msg_1", now, BODY), Webhook(old).sign("msg_1", now, BODY)]
    for secret in (new, old):  # a receiver holding only one of them
        assert Webhook(secret).verify(BODY, headers) == json.loads(BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(BODY, headers)


def test_nothing_is_signed_without_a_secret() -> None:
    with pytest.raises(ValueError, match="unsigned"):
        signature("msg_1", utcnow(), BODY, [])
    with pytest.raises(ValueError, match="unsigned"):
        signed_headers("msg_1", utcnow(), BODY, [])
