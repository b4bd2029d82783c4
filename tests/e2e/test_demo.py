"""`make demo` tells its story against the real stack: two referrals under the `demo` policy, one
assessed in time, the other reminded about (10 s before its 20 s window closes) and then lapsed into
exactly one warrant request; its callback receiver hears of the changes, each signature verified."""

from divert_local.demo import run_demo
from divert_local.stack import Stack


def test_the_demo_walks_every_step_a_reminder_included(stack: Stack) -> None:
    said: list[str] = []

    ok = run_demo(
        intake=stack.url("intake"), assessment=stack.url("assessment"), warrants=stack.url("warrants"), say=said.append
    )

    assert ok, "\n".join(said)
    assert any(line.startswith("→ reminder: the caseload marks Blake's case due soon") for line in said), said
    assert any(line.startswith("→ Blake's window lapsed: warrant request") for line in said), said
    assert "→ callback: referral.accepted for Avery's referral (signature verified)" in said, said
    assert "→ callback: referral.lapsed for Blake's referral (signature verified)" in said, said
    assert "→ callback: referral.warrant_requested for Blake's referral (signature verified)" in said, said
    assert said[-1].startswith("✓ demo complete")
