"""Reading the local trace files: one referral's spans as a tree, for `divert trace <id>`.

Each process of the embedded stack writes its finished spans as JSON lines to
`<data_dir>/traces/<service>-<role>.jsonl`. A referral's traces are those holding a span about it:
a Kafka record keyed by its id, or a request to a route with its id.
"""

import json
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

_KAFKA_KEY = "messaging.kafka.message.key"
_REQUEST_PATHS = ("url.path", "http.target", "http.url")


@dataclass(frozen=True)
class Span:
    """One finished span, as exported."""

    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    service: str
    start: datetime
    end: datetime
    error: bool
    attributes: dict[str, Any]
    links: tuple[tuple[str, str], ...] = ()
    """(trace id, span id) of each span this one is linked to: a relay's `<topic> send` span, one
    per batch, links the request (or message) that wrote each row it carried."""

    @property
    def milliseconds(self) -> float:
        return (self.end - self.start).total_seconds() * 1000


def _role(raw: dict[str, Any], resource: dict[str, Any]) -> str:
    return str(raw.get("attributes", {}).get("divert.role") or resource.get("divert.role", "?"))


def load_spans(trace_dir: Path) -> list[Span]:
    """Every span in the directory's JSON-lines files (a half-written last line is skipped)."""
    spans = []
    for path in sorted(trace_dir.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                raw = json.loads(line)
            except json.JSONDecodeError:
                continue
            resource = raw.get("resource", {}).get("attributes", {})
            spans.append(
                Span(
                    trace_id=raw["context"]["trace_id"],
                    span_id=raw["context"]["span_id"],
                    parent_id=raw.get("parent_id"),
                    name=raw["name"],
                    # The span's own role first: a process running several roles (`all`) sets it.
                    service=f"{resource.get('service.name', '?')}/{_role(raw, resource)}",
                    start=datetime.fromisoformat(raw["start_time"].replace("Z", "+00:00")),
                    end=datetime.fromisoformat(raw["end_time"].replace("Z", "+00:00")),
                    error=raw.get("status", {}).get("status_code") == "ERROR",
                    attributes=raw.get("attributes", {}),
                    links=tuple(
                        (link["context"]["trace_id"], link["context"]["span_id"]) for link in raw.get("links", [])
                    ),
                )
            )
    return spans


def traces_of(spans: list[Span], referral_id: str, *, with_reads: bool = False) -> dict[str, list[Span]]:
    """The traces (by id) that changed the referral — those carrying one of its Kafka records — and,
    with `with_reads`, also the requests that named it; each with all its spans."""
    by_trace: dict[str, list[Span]] = defaultdict(list)
    for span in spans:
        by_trace[span.trace_id].append(span)
    keys = (_KAFKA_KEY, *_REQUEST_PATHS) if with_reads else (_KAFKA_KEY,)
    wanted = {span.trace_id for span in spans if any(referral_id in str(span.attributes.get(key, "")) for key in keys)}
    for span in spans:
        # A span linked into a wanted trace (the relay's send of a batch) shows there, under the
        # span it links to, as if it were its child.
        for trace_id, span_id in span.links:
            if trace_id in wanted and trace_id != span.trace_id:
                by_trace[trace_id].append(replace(span, trace_id=trace_id, parent_id=span_id))
    return {trace_id: sorted(by_trace[trace_id], key=lambda s: s.start) for trace_id in wanted}


def tree(trace: list[Span]) -> list[tuple[int, Span]]:
    """The trace's spans in tree order, each with its depth (a span whose parent is not in the trace is a root)."""
    known = {span.span_id for span in trace}
    children: dict[str | None, list[Span]] = defaultdict(list)
    for span in trace:
        children[span.parent_id if span.parent_id in known else None].append(span)
    rows: list[tuple[int, Span]] = []

    def walk(parent: str | None, depth: int) -> None:
        for span in sorted(children[parent], key=lambda s: s.start):
            rows.append((depth, span))
            walk(span.span_id, depth + 1)

    walk(None, 0)
    return rows


def render(trace: list[Span]) -> list[str]:
    """The trace as indented lines: service/role, span name, duration, errors flagged."""
    return [
        f"{'  ' * depth}{span.name}  [{span.service}]  {span.milliseconds:.1f} ms{'  ✗ ERROR' if span.error else ''}"
        for depth, span in tree(trace)
    ]
