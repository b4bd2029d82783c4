"""Replay: today's workflow code must replay every checked-in history of earlier versions.

A worker deployed with changed workflow code resumes workflows that older workers started; if the
code no longer replays their histories deterministically, those workflows get stuck. Changes are
therefore guarded with `workflow.patched`, and `histories/record.py` records each version's
histories before it changes.
"""

import asyncio
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from divert_intake.deadline.workflows import ReferralDeadlineWorkflow

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def test_histories_are_checked_in() -> None:
    assert {path.name.split("-", 1)[1] for path in HISTORIES} >= {
        "lapsed.json",
        "assessed.json",
        "extended-then-lapsed.json",
        "withdrawn.json",
    }


@pytest.mark.parametrize("history_file", HISTORIES, ids=lambda path: path.stem)
def test_current_code_replays_history(history_file: Path) -> None:
    history = WorkflowHistory.from_json(history_file.stem, history_file.read_text())
    replayer = Replayer(workflows=[ReferralDeadlineWorkflow], data_converter=pydantic_data_converter)
    asyncio.run(replayer.replay_workflow(history))  # raises on any non-determinism


def test_a_checked_in_history_raises_reminders() -> None:
    # The versioned change (patch `assessment-reminders`) is replayed along its new path too.
    with_reminders = [path.name for path in HISTORIES if '"name": "raise_reminder"' in path.read_text()]
    assert "v3-lapsed.json" in with_reminders and "v3-extended-then-lapsed.json" in with_reminders
