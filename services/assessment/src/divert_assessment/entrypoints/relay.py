"""`divert-assessment relay`: publishes assessment's outbox to `divert.cases` and `divert.case-milestones`."""

import asyncio

from divert_assessment.bootstrap import bootstrap
from divert_contracts import dataplane
from divert_platform.roles import run_relay


async def main(stop: asyncio.Event) -> None:
    """Publish until `stop` is set."""
    assessment = bootstrap()
    try:
        await run_relay(assessment.settings, assessment.sessions, stop, access=dataplane.service("assessment"))
    finally:
        await assessment.engine.dispose()
