"""`divert-warrants`: run one of the warrants service's processes."""

from divert_platform.cli import build_cli
from divert_warrants.bootstrap import MIGRATIONS
from divert_warrants.config import WarrantsSettings

app = build_cli(
    help="Divert warrants: requests raised when an arrest diversion's assessment window lapses.",
    settings_type=WarrantsSettings,
    migrations=MIGRATIONS,
    api_factory="divert_warrants.entrypoints.api:create_api",
    roles={
        "relay": ("divert_warrants.entrypoints.relay", "Publish the outbox to Kafka (divert.warrants)."),
        "consumer": (
            "divert_warrants.entrypoints.consumer",
            "Keep warrants' record of each referral and rescind requests made wrongful by on-time assessments or "
            "withdrawals (divert.referrals, divert.case-milestones).",
        ),
    },
)
