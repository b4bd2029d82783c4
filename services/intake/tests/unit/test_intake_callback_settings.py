"""The callback settings: keys that must be real outside development, a schedule of at least a
day, and the delivery policy built from them."""

from datetime import timedelta
from typing import Any

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from divert_intake.config import IntakeSettings
from divert_platform.callbacks.secret_box import DEVELOPMENT_CALLBACK_KEY

PRODUCTION: dict[str, Any] = {
    "environment": "production",
    "database_url": "postgresql+asyncpg://intake@db/intake",
    "jwks_url": "https://idp.example/jwks",
    "kafka_allow_insecure": True,
    "temporal_allow_insecure": True,
}


def settings(**values: Any) -> IntakeSettings:
    """Settings from `values` alone (no environment variables)."""
    return IntakeSettings.model_validate(values)


def test_development_seals_with_its_own_key_and_may_reach_local_receivers() -> None:
    development = settings()

    sealed = development.callback_box.seal("whsec_x")

    assert development.callback_box.open(sealed) == "whsec_x"
    assert development.callback_policy.development is True


def test_outside_development_the_api_and_relay_cannot_seal_without_a_configured_key() -> None:
    production = settings(**PRODUCTION)  # the consumer and worker start without one

    with pytest.raises(RuntimeError, match="DIVERT_CALLBACK_ENCRYPTION_KEYS is not set"):
        production.callback_box  # noqa: B018 - the property is what raises
    assert production.callback_policy.development is False


def test_the_development_key_is_refused_outside_development() -> None:
    with pytest.raises(ValidationError, match="development DIVERT_CALLBACK_ENCRYPTION_KEYS"):
        settings(**PRODUCTION, callback_encryption_keys=f"{Fernet.generate_key().decode()},{DEVELOPMENT_CALLBACK_KEY}")


@pytest.mark.parametrize("keys", ["", "not-a-key", f"{Fernet.generate_key().decode()},short"])
def test_keys_that_are_not_fernet_keys_are_refused(keys: str) -> None:
    with pytest.raises(ValidationError, match="Fernet keys"):
        settings(**PRODUCTION, callback_encryption_keys=keys)


def test_the_first_key_seals_and_every_key_opens() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    sealed_before = settings(**PRODUCTION, callback_encryption_keys=old).callback_box.seal("whsec_old")

    rotated = settings(**PRODUCTION, callback_encryption_keys=f"{new},{old}").callback_box

    assert rotated.open(sealed_before) == "whsec_old"
    assert settings(**PRODUCTION, callback_encryption_keys=new).callback_box.open(rotated.reseal(sealed_before))


def test_a_schedule_shorter_than_a_day_is_refused_outside_development_only() -> None:
    with pytest.raises(ValidationError, match="at least a day"):
        settings(**PRODUCTION, callback_retry_delays_seconds=(5, 60, 3600))

    quick = settings(callback_retry_delays_seconds=(1, 2))
    assert quick.callback_policy.retry_delays == (timedelta(seconds=1), timedelta(seconds=2))
    assert quick.callback_policy.disable_after == timedelta(seconds=3)  # a shortened schedule disables sooner


def test_the_default_schedule_retries_for_more_than_a_day_and_disables_after_one() -> None:
    policy = settings(**PRODUCTION, callback_encryption_keys=Fernet.generate_key().decode()).callback_policy

    assert sum(policy.retry_delays, timedelta()) >= timedelta(days=1)
    assert policy.disable_after == timedelta(days=1)


def test_negative_waits_are_refused() -> None:
    with pytest.raises(ValidationError, match="may not be negative"):
        settings(callback_retry_delays_seconds=(1, -1))
