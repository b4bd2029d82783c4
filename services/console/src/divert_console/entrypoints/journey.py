"""The on-call engineer's view of one referral's journey across the services: its traces as a timeline,
with links to its deadline workflow in Temporal's UI and to the services' metrics.

Spans are shown by service, name, timing and error only: no attribute values (they may hold ids the
engineer did not ask about), and nothing of the person.
"""

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from divert_console.entrypoints.web import Viewer, allow, parts, render
from divert_platform.trace_view import Span, tree

router = APIRouter()

Ops = Annotated[Viewer, allow("ops")]


@dataclass(frozen=True)
class Row:
    """A span placed on its trace's timeline (offset and width in percent of the trace)."""

    depth: int
    span: Span
    offset_ms: float
    left: float
    width: float


def timeline(trace: list[Span]) -> list[Row]:
    """A trace's spans in tree order, each placed on the trace's time axis."""
    start = min(span.start for span in trace)
    end = max(span.end for span in trace)
    total = max((end - start).total_seconds() * 1000, 0.001)
    return [
        Row(
            depth=depth,
            span=span,
            offset_ms=(span.start - start).total_seconds() * 1000,
            left=round(100 * (span.start - start).total_seconds() * 1000 / total, 2),
            width=max(round(100 * span.milliseconds / total, 2), 0.5),
        )
        for depth, span in tree(trace)
    ]


@router.get("/journey")
async def journey(
    request: Request, person: Ops, referral_id: Annotated[str | None, Query(max_length=36)] = None
) -> Response:
    """Ask for a referral id; show its traces, oldest first."""
    console = parts(request)
    settings = console.settings
    if not referral_id:
        return render(
            request, "journey.html", person, title="Referral journey", referral_id="", traces=None, error=None
        )
    try:
        wanted = str(uuid.UUID(referral_id))
    except ValueError:
        return render(
            request,
            "journey.html",
            person,
            422,
            title="Referral journey",
            referral_id=referral_id,
            traces=None,
            error="A referral id is a UUID, e.g. 3f2b8c1e-0d4a-4e6b-9a57-1c2d3e4f5a6b.",
        )
    traces = await console.traces.journey(wanted)
    workflow = (
        f"{settings.temporal_ui_url.rstrip('/')}/namespaces/{settings.temporal_namespace}/workflows/"
        f"referral-deadline-{wanted}"
        if settings.temporal_ui_url
        else None
    )
    return render(
        request,
        "journey.html",
        person,
        title="Referral journey",
        referral_id=wanted,
        error=None,
        traces=[timeline(trace) for trace in traces if trace],
        workflow_url=workflow,
        metrics_links=settings.metrics_links,
    )
