"""`divert-intake`: run one of intake's processes."""

from divert_intake.bootstrap import MIGRATIONS
from divert_intake.config import IntakeSettings
from divert_intake.entrypoints import callback_keys
from divert_platform.cli import build_cli

app = build_cli(
    help="Divert intake: referrals from police RMS and the assessment deadline.",
    settings_type=IntakeSettings,
    migrations=MIGRATIONS,
    api_factory="divert_intake.entrypoints.api:create_api",
    roles={
        "relay": ("divert_intake.entrypoints.relay", "Publish the outbox to Kafka and deliver status callbacks."),
        "consumer": (
            "divert_intake.entrypoints.consumer",
            "Drive deadline clocks from referral, case and warrant events.",
        ),
        "worker": ("divert_intake.entrypoints.worker", "Run the Temporal worker of the deadline workflow."),
    },
)
app.add_typer(callback_keys.app, name="callbacks")
