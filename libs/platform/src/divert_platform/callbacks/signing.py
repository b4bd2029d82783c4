"""Standard Webhooks signatures: `whsec_` secrets and the `webhook-*` headers of one attempt.

Signing is the reference library's (`standardwebhooks`), so a receiver verifying with any
Standard Webhooks library agrees with it byte for byte. While a secret is being rotated a message
carries one signature per live secret, space-separated, as the specification allows: a receiver
still holding the old secret verifies, and so does one already given the new.
"""

import base64
import secrets
from collections.abc import Sequence
from datetime import datetime

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
"""256-bit secrets: the HMAC-SHA256 key length (the specification asks for 24 to 64 bytes)."""


def new_secret() -> str:
    """A fresh random signing secret, `whsec_` and base64 of 32 bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signature(message_id: str, timestamp: datetime, body: str, live_secrets: Sequence[str]) -> str:
    """The `webhook-signature` header: a `v1,<base64>` signature per secret, space-separated."""
    if not live_secrets:
        raise ValueError("a callback is never sent unsigned: the endpoint has no live secret")
    return " ".join(Webhook(secret).sign(message_id, timestamp, body) for secret in live_secrets)


def signed_headers(message_id: str, timestamp: datetime, body: str, live_secrets: Sequence[str]) -> dict[str, str]:
    """Every header of one delivery attempt: content type, `webhook-id`, `-timestamp`, `-signature`."""
    return {
        "content-type": "application/json",
        "user-agent": "Divert-Callbacks/1",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signature(message_id, timestamp, body, live_secrets),
    }
