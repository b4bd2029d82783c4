"""Where a referral's journey is read from: the embedded stack's trace files, or a Jaeger-compatible
query API in production (Jaeger itself, or Grafana Tempo's Jaeger query endpoint)."""

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import httpx

from divert_platform.trace_view import Span, load_spans, traces_of

KAFKA_KEY = "messaging.kafka.message.key"
SERVICES = ("divert-intake", "divert-assessment", "divert-directory", "divert-warrants")


class TraceSource(Protocol):
    """A referral's traces: those that carried one of its Kafka records, each with all its spans."""

    async def journey(self, referral_id: str) -> list[list[Span]]: ...


class TraceFiles:
    """The JSON-lines files every process of the embedded stack writes (`<data_dir>/traces`)."""

    def __init__(self, trace_dir: Path) -> None:
        self._dir = trace_dir

    async def journey(self, referral_id: str) -> list[list[Span]]:
        """Read in a thread: the files grow with every request the stack serves."""
        spans = await asyncio.to_thread(load_spans, self._dir)
        return sorted(traces_of(spans, referral_id).values(), key=lambda trace: trace[0].start)


class JaegerQuery:
    """Jaeger's query API (`/api/traces`), searched for spans tagged with the referral's Kafka key."""

    def __init__(self, client: httpx.AsyncClient, base_url: str) -> None:
        self._client = client
        self._base = base_url.rstrip("/")

    async def journey(self, referral_id: str) -> list[list[Span]]:
        found: dict[str, list[Span]] = {}
        for service in SERVICES:
            response = await self._client.get(
                f"{self._base}/api/traces",
                params={"service": service, "tags": json.dumps({KAFKA_KEY: referral_id}), "limit": 50},
            )
            response.raise_for_status()
            for trace in response.json().get("data") or []:
                found.setdefault(trace["traceID"], jaeger_spans(trace))
        return sorted(found.values(), key=lambda trace: trace[0].start if trace else datetime.min.replace(tzinfo=UTC))


def jaeger_spans(trace: dict[str, Any]) -> list[Span]:
    """One Jaeger trace's spans in the shape the trace files have."""
    processes = trace.get("processes", {})
    spans = []
    for raw in trace.get("spans", []):
        process = processes.get(raw.get("processID"), {})
        tags = {tag["key"]: tag.get("value") for tag in raw.get("tags", [])}
        process_tags = {tag["key"]: tag.get("value") for tag in process.get("tags", [])}
        role = tags.get("divert.role") or process_tags.get("divert.role", "?")
        start = datetime.fromtimestamp(raw["startTime"] / 1_000_000, UTC)
        parent = next((ref["spanID"] for ref in raw.get("references", []) if ref.get("refType") == "CHILD_OF"), None)
        spans.append(
            Span(
                trace_id=raw["traceID"],
                span_id=raw["spanID"],
                parent_id=parent,
                name=raw["operationName"],
                service=f"{process.get('serviceName', '?')}/{role}",
                start=start,
                end=datetime.fromtimestamp((raw["startTime"] + raw["duration"]) / 1_000_000, UTC),
                error=bool(tags.get("error")) or tags.get("otel.status_code") == "ERROR",
                attributes={},  # the page shows names and timings only
            )
        )
    return sorted(spans, key=lambda span: span.start)
