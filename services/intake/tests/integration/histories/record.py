"""Record workflow histories for the replay test: `python record.py <label>`.

Run it once per released version of `ReferralDeadlineWorkflow`, before changing the workflow,
and commit the files it writes: the replay test then proves the new code still replays every
history an older worker may have left running. Never re-record an existing file.
"""

import asyncio
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

from temporalio import activity
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from divert_intake.adapters.temporal_clock import TemporalDeadlineClock
from divert_intake.bootstrap import deadline_worker
from divert_intake.deadline.models import DeadlineInput, LapseNotice, ReminderNotice, workflow_id
from divert_intake.deadline.workflows import ReferralDeadlineWorkflow
from divert_platform.embedded import venv_bin


class StandInActivities:
    """The deadline activities, answering at once: the history records what the workflow asked,
    and needs neither intake's database nor warrants."""

    @activity.defn(name="request_warrant")
    async def request_warrant(self, notice: LapseNotice) -> str:
        return f"wr-{notice.referral_id}"

    @activity.defn(name="record_lapse")
    async def record_lapse(self, notice: LapseNotice) -> None:
        return None

    @activity.defn(name="raise_reminder")
    async def raise_reminder(self, notice: ReminderNotice) -> bool:
        return True


def _reminders(due: datetime) -> tuple[datetime, ...]:
    """Reminders 7, 2 and 1 days before `due` (since v3)."""
    return tuple(due - timedelta(days=days) for days in (7, 2, 1))


async def record(label: str) -> None:
    env = await WorkflowEnvironment.start_time_skipping_v2(
        dev_server_existing_path=venv_bin("temporal"),
        dev_server_extra_args=["--dynamic-config-value", "frontend.WorkflowTimeSkippingEnabled=true"],
        data_converter=pydantic_data_converter,
    )
    # The production worker's task queue, workflow and activity names, with stand-in activities.
    async with env, deadline_worker(env.client, StandInActivities()):
        clock = TemporalDeadlineClock(env.client)
        scenarios = {}
        for scenario in ("lapsed", "assessed", "extended-then-lapsed", "withdrawn"):
            due = datetime.now(UTC) + timedelta(days=30)
            deadline = DeadlineInput(
                referral_id=str(uuid4()),
                jurisdiction="king-county",
                assessment_due_by=due,
                lapse_action="warrant_request",
                assessment_reminders_at=_reminders(due),
            )
            await clock.start(deadline)
            handle = env.client.get_workflow_handle_for(ReferralDeadlineWorkflow.run, workflow_id(deadline.referral_id))
            if scenario == "assessed":
                await clock.record_assessment(deadline, deadline.assessment_due_by - timedelta(days=3))
            elif scenario == "withdrawn":
                await clock.withdraw(deadline, datetime.now(UTC))
            else:
                if scenario == "extended-then-lapsed":
                    later = due + timedelta(days=7)
                    await clock.extend(
                        deadline.model_copy(update={"assessment_reminders_at": _reminders(later)}), later
                    )
                await env.fast_forward(handle, timedelta(days=40))
            await handle.result()
            scenarios[scenario] = (await handle.fetch_history()).to_json()
    for scenario, history in scenarios.items():
        path = Path(__file__).parent / f"{label}-{scenario}.json"
        path.write_text(json.dumps(json.loads(history), indent=1) + "\n")
        print(f"wrote {path.name}")


if __name__ == "__main__":
    asyncio.run(record(sys.argv[1]))
