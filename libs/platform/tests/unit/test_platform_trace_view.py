"""`divert trace`: which traces belong to a referral, and how they print as trees."""

import json
from pathlib import Path

from divert_platform.trace_view import load_spans, render, traces_of

REFERRAL = "7cbd57a1-5459-43ee-b340-e58c23f94fb8"


def _span(
    trace: str,
    span: str,
    parent: str | None,
    name: str,
    role: str,
    start: int,
    links: tuple[tuple[str, str], ...] = (),
    **attributes: str,
) -> str:
    return json.dumps(
        {
            "name": name,
            "context": {"trace_id": trace, "span_id": span},
            "parent_id": parent,
            "start_time": f"2026-11-30T09:00:0{start}.000000Z",
            "end_time": f"2026-11-30T09:00:0{start}.250000Z",
            "status": {"status_code": "ERROR" if name.startswith("fail") else "UNSET"},
            "attributes": attributes,
            "links": [{"context": {"trace_id": t, "span_id": s}, "attributes": {}} for t, s in links],
            "resource": {"attributes": {"service.name": "divert-intake", "divert.role": role}},
        }
    )


def test_a_referrals_change_trace_prints_as_a_tree_and_reads_only_on_request(tmp_path: Path) -> None:
    (tmp_path / "intake-api.jsonl").write_text(
        "\n".join(
            [
                _span("0xa", "0x1", None, "POST /v1/referrals", "api", 1),
                _span(
                    "0xb",
                    "0x9",
                    None,
                    "GET /v1/referrals/{referral_id}",
                    "api",
                    5,
                    **{"url.path": f"/v1/referrals/{REFERRAL}"},
                ),
                '{"truncated',
            ]
        )
    )
    (tmp_path / "intake-relay.jsonl").write_text(
        "\n".join(
            [
                # One send span per batch, in a trace of its own, linked to each row's request.
                _span("0xr", "0x2", None, "divert.referrals send", "relay", 2, links=(("0xa", "0x1"), ("0xc", "0x4"))),
                _span("0xa", "0x3", "0x1", "fail process", "consumer", 3, **{"messaging.kafka.message.key": REFERRAL}),
                _span("0xc", "0x4", None, "POST /v1/referrals", "api", 4),
                _span("0xc", "0x5", "0x4", "process", "consumer", 4, **{"messaging.kafka.message.key": "other"}),
            ]
        )
    )
    spans = load_spans(tmp_path)
    changes = traces_of(spans, REFERRAL)
    assert list(changes) == ["0xa"]
    assert render(changes["0xa"]) == [
        "POST /v1/referrals  [divert-intake/api]  250.0 ms",
        "  divert.referrals send  [divert-intake/relay]  250.0 ms",
        "  fail process  [divert-intake/consumer]  250.0 ms  ✗ ERROR",
    ]
    assert set(traces_of(spans, REFERRAL, with_reads=True)) == {"0xa", "0xb"}
