"""`divert-directory`: run one of the services directory's processes."""

from divert_directory.bootstrap import MIGRATIONS
from divert_directory.config import DirectorySettings
from divert_platform.cli import build_cli

app = build_cli(
    help="Divert services directory: providers, services and locations (Open Referral HSDS 3.0).",
    settings_type=DirectorySettings,
    migrations=MIGRATIONS,
    api_factory="divert_directory.entrypoints.api:create_api",
    roles={
        "relay": ("divert_directory.entrypoints.relay", "Publish the outbox to Kafka (divert.directory)."),
    },
)
