"""Assessment's settings: one class, read from the environment once at start-up."""

from pathlib import Path

from pydantic import Field, SecretStr, model_validator

from divert_platform.settings import CaseAgencySettings

DEVELOPMENT_EVALUATION_KEY = "divert-development-evaluation-key-never-use-in-production"
"""Keys the evaluation extract's person keys in development (and the tests); refused elsewhere."""
MIN_EVALUATION_KEY_LENGTH = 32
_PLACEHOLDERS = {"", "changeme", "change-me", "secret", "password", "development", "test", DEVELOPMENT_EVALUATION_KEY}


class AssessmentSettings(CaseAgencySettings):
    """`DIVERT_*` variables for every assessment process."""

    service_name: str = "assessment"
    port: int = 8002

    organisations_file: Path | None = Field(
        None,
        description=(
            "`DIVERT_ORGANISATIONS_FILE`, the program's registry of organisations (TOML, `[[organisations]]` "
            "tables of `id`, `name` and `type`): the only parties a consent may name and a disclosure may go to. "
            "Police, prosecution, courts, supervision and jails listed there are refused by type (LEAD's golden "
            "rule). Validated at start-up; unset, the sample registry shipped with assessment is used."
        ),
    )
    evaluation_key: SecretStr | None = Field(
        None,
        description=(
            "`DIVERT_EVALUATION_KEY`, the program's secret keying the evaluation extract's pseudonymous person "
            f"keys (HMAC-SHA256; {MIN_EVALUATION_KEY_LENGTH}+ random characters, kept from evaluators). Unset, "
            "development uses a fixed development key and any other environment answers the evaluation routes "
            "with 503; a placeholder or short key is refused at start-up outside development. Changing it "
            "changes every person key, so keep it for the life of a study."
        ),
    )

    @model_validator(mode="after")
    def _refuse_a_weak_evaluation_key(self) -> "AssessmentSettings":
        # Anyone holding the key can test a guessed identity against a person key: a known or short
        # key would undo the pseudonymisation, so it is refused like a weak JWT secret.
        if self.environment == "development" or self.evaluation_key is None:
            return self
        key = self.evaluation_key.get_secret_value()
        if key.lower() in _PLACEHOLDERS or len(key) < MIN_EVALUATION_KEY_LENGTH:
            raise ValueError(
                "refusing to start outside development with the development or a placeholder DIVERT_EVALUATION_KEY: "
                f"set a random key of {MIN_EVALUATION_KEY_LENGTH}+ characters, or leave it unset to turn the "
                "evaluation export off"
            )
        return self

    def evaluation_secret(self) -> bytes | None:
        """The key person keys are made with: the configured one, the development key in
        development, or None (the evaluation export is off)."""
        if self.evaluation_key is not None:
            return self.evaluation_key.get_secret_value().encode()
        return DEVELOPMENT_EVALUATION_KEY.encode() if self.environment == "development" else None
