"""Which secrets sign a delivery: the live ones a configured key opens, never none silently."""

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet

from divert_platform.callbacks.registry import live_secrets
from divert_platform.callbacks.secret_box import SecretBox, SecretBoxError

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)


def entry(box: SecretBox, secret: str, expires_at: datetime | None) -> dict[str, str | None]:
    return {
        "sealed": box.seal(secret),
        "created_at": NOW.isoformat(),
        "expires_at": expires_at.isoformat() if expires_at else None,
    }


def test_live_secrets_are_opened_newest_first_and_expired_ones_left_out() -> None:
    box = SecretBox([Fernet.generate_key().decode()])
    row = {
        "secrets": [
            entry(box, "whsec_new", None),
            entry(box, "whsec_rotated", NOW + timedelta(hours=1)),
            entry(box, "whsec_expired", NOW - timedelta(seconds=1)),
        ]
    }

    assert live_secrets(row, box, NOW) == ["whsec_new", "whsec_rotated"]
    assert live_secrets(row, box, NOW + timedelta(hours=1)) == ["whsec_new"]


def test_a_secret_sealed_under_a_lost_key_is_skipped_while_another_still_signs() -> None:
    lost, kept = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    row = {
        "secrets": [
            entry(SecretBox([kept]), "whsec_after_rotation", None),
            entry(SecretBox([lost]), "whsec_before", NOW + timedelta(hours=1)),
        ]
    }

    assert live_secrets(row, SecretBox([kept]), NOW) == ["whsec_after_rotation"]


def test_when_no_live_secret_opens_nothing_is_signed() -> None:
    row = {"secrets": [entry(SecretBox([Fernet.generate_key().decode()]), "whsec_x", None)]}

    with pytest.raises(SecretBoxError):
        live_secrets(row, SecretBox([Fernet.generate_key().decode()]), NOW)
