"""`divert-assessment`: run one of assessment's processes."""

from divert_assessment.bootstrap import MIGRATIONS
from divert_assessment.config import AssessmentSettings
from divert_platform.cli import build_cli

app = build_cli(
    help="Divert assessment: cases for accepted referrals and their intake assessments.",
    settings_type=AssessmentSettings,
    migrations=MIGRATIONS,
    api_factory="divert_assessment.entrypoints.api:create_api",
    roles={
        "relay": ("divert_assessment.entrypoints.relay", "Publish the outbox to Kafka."),
        "consumer": ("divert_assessment.entrypoints.consumer", "Open a case for every accepted referral."),
    },
)
