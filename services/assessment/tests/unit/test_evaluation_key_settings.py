"""`DIVERT_EVALUATION_KEY`: a development default, refused as a placeholder elsewhere, off when unset."""

import pytest
from pydantic import ValidationError

from divert_assessment.config import DEVELOPMENT_EVALUATION_KEY, AssessmentSettings

STRONG = "k" * 16 + "0123456789abcdef"  # 32 characters
TEST_RIG = {"environment": "test", "jwt_secret": "j" * 40, "kafka_security_protocol": "PLAINTEXT"}


def test_development_uses_the_fixed_development_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DIVERT_EVALUATION_KEY", raising=False)
    assert AssessmentSettings().evaluation_secret() == DEVELOPMENT_EVALUATION_KEY.encode()


def test_the_key_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIVERT_EVALUATION_KEY", STRONG)
    assert AssessmentSettings().evaluation_secret() == STRONG.encode()


@pytest.mark.parametrize("key", [DEVELOPMENT_EVALUATION_KEY, "changeme", "short-but-random-91"])
def test_outside_development_a_placeholder_or_short_key_is_refused(key: str) -> None:
    with pytest.raises(ValidationError, match="DIVERT_EVALUATION_KEY"):
        AssessmentSettings(evaluation_key=key, kafka_allow_insecure=True, **TEST_RIG)


def test_outside_development_no_key_turns_the_export_off_and_a_strong_one_is_used() -> None:
    assert AssessmentSettings(kafka_allow_insecure=True, **TEST_RIG).evaluation_secret() is None
    settings = AssessmentSettings(evaluation_key=STRONG, kafka_allow_insecure=True, **TEST_RIG)
    assert settings.evaluation_secret() == STRONG.encode()
