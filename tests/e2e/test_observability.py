"""Following one referral across every service as one trace, and no personal data in telemetry."""

import asyncio
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import httpx

from divert_local.journey import RoleTokens, demo_referral
from divert_local.stack import Stack
from divert_platform.embedded import venv_bin
from divert_platform.statement_tally import STATEMENTS, SYSTEM
from divert_platform.trace_view import Span, load_spans, traces_of

# (service/role, span name) that one lapsing arrest diversion must produce in a single trace.
JOURNEY = [
    ("divert-intake/api", "POST /v1/referrals"),
    ("divert-intake/relay", "divert.referrals send"),
    ("divert-assessment/consumer", "process divert.referrals"),
    ("divert-intake/consumer", "process divert.referrals"),
    ("divert-intake/consumer", "StartWorkflow:ReferralDeadlineWorkflow"),
    ("divert-intake/worker", "RunActivity:record_lapse"),
    ("divert-intake/worker", "RunActivity:request_warrant"),
    ("divert-warrants/api", "POST /v1/warrant-requests"),
    ("divert-warrants/relay", "divert.warrants send"),
    ("divert-intake/consumer", "process divert.warrants"),
]


def _journey_trace(data_dir: Path, referral_id: str) -> list[Span] | None:
    for spans in traces_of(load_spans(data_dir / "traces"), referral_id).values():
        if set(JOURNEY) <= {(span.service, span.name) for span in spans}:
            return spans
    return None


async def test_a_lapsing_referral_is_one_trace_from_the_rms_request_to_the_warrant_consumers(stack: Stack) -> None:
    tokens = RoleTokens(intake=stack.url("intake"), assessment=stack.url("assessment"), warrants=stack.url("warrants"))
    subject = demo_referral("Emery", referred_at=datetime.now(UTC))
    async with httpx.AsyncClient(timeout=10, auth=tokens) as http:
        response = await http.post(f"{stack.url('intake')}/v1/referrals", json=subject)
    assert response.status_code == 201
    referral_id = response.json()["referral_id"]

    async with asyncio.timeout(90):  # the 20-second window, then the exporters' 5-second batches
        while (journey := _journey_trace(stack.data_dir, referral_id)) is None:  # noqa: ASYNC110 - polling files
            await asyncio.sleep(1)
    # The spans that ran database statements say how many and how long they took (no span each).
    statements = {span.service for span in journey if span.attributes.get(STATEMENTS, 0) > 0}
    assert {"divert-intake/api", "divert-intake/consumer", "divert-warrants/api"} <= statements
    assert all(span.attributes.get(SYSTEM) == "sqlite" for span in journey if STATEMENTS in span.attributes)
    assert not [span.name for span in journey if "db.statement" in span.attributes]

    command = [venv_bin("divert"), "trace", referral_id, "--data-dir", str(stack.data_dir)]
    printed = (await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, check=True)).stdout
    for service, name in JOURNEY:
        assert f"{name}  [{service}]" in printed


async def test_no_personal_data_in_traces_or_logs(stack: Stack) -> None:
    """Send a person's details through intake and assessment, then search every exported span and
    log line for them (and for the other fictional people the e2e tests use)."""
    tokens = RoleTokens(intake=stack.url("intake"), assessment=stack.url("assessment"), warrants=stack.url("warrants"))
    subject = demo_referral("Zephyrine", referred_at=datetime.now(UTC))
    subject["subject"].update(family_name="Quillfeather", phone="+15555550199", date_of_birth="1977-07-17")
    async with httpx.AsyncClient(timeout=10, auth=tokens) as http:
        referral_id = (await http.post(f"{stack.url('intake')}/v1/referrals", json=subject)).json()["referral_id"]
        async with asyncio.timeout(30):
            while (await http.get(f"{stack.url('assessment')}/v1/cases/{referral_id}")).status_code != 200:  # noqa: ASYNC110
                await asyncio.sleep(0.5)
    await asyncio.sleep(7)  # batch span exporters flush every 5 seconds

    personal = [b"Zephyrine", b"Quillfeather", b"+15555550199", b"1977-07-17", b"Avery", b"Blake", b"Emery"]
    telemetry = [*stack.data_dir.glob("traces/*.jsonl"), *stack.data_dir.glob("logs/*.log")]
    assert any(referral_id.encode() in path.read_bytes() for path in telemetry), "the traffic left no telemetry"
    leaks = {path.name: [p.decode() for p in personal if p in path.read_bytes()] for path in telemetry}
    assert {name: found for name, found in leaks.items() if found} == {}
