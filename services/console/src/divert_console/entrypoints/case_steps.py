"""The lifecycle steps a case page offers, each one API command: which route, and the body the form makes.

The forms carry the API's own field names, so a problem's `field` points straight back at the input.
Nothing here decides whether a step is allowed: the API does, and its problem is shown.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo

from divert_console.adapters.services_api import Service
from divert_console.entrypoints.web import parse_instant
from divert_contracts.cases import (
    CloseReason,
    ConsentPurpose,
    ConsentScope,
    ContactMethod,
    ContactOutcome,
    DeclineReason,
    Engagement,
    NeedDomain,
)

NEED_DOMAINS: tuple[str, ...] = get_args(NeedDomain)

CHOICES: dict[str, tuple[str, ...]] = {
    "contact_method": get_args(ContactMethod),
    "contact_outcome": get_args(ContactOutcome),
    "consent_purpose": get_args(ConsentPurpose),
    "consent_scope": get_args(ConsentScope),
    "decline_reason": get_args(DeclineReason),
    "engagement": get_args(Engagement),
    "close_reason": get_args(CloseReason),
}
"""The values each select offers: the contracts' own, so a form never offers what the API refuses."""


def _instant(form: dict[str, str], name: str, zone: ZoneInfo) -> str:
    """A `datetime-local` value in the program's zone as ISO 8601 with its offset; sent as typed when it
    is no time at all (the API's 422 then names the field).

    A field left at its default (the minute the page was drawn) sends the exact instant the page was
    drawn (`drawn_at`): the minute alone could fall before the referral it follows, and the same
    instant again on a double submit keeps the request identical under its idempotency key."""
    raw = form.get(name, "")
    drawn = form.get("drawn_at", "")
    try:
        if drawn and raw == minute_of(datetime.fromisoformat(drawn), zone):
            return datetime.fromisoformat(drawn).astimezone(UTC).isoformat()
    except ValueError:
        pass
    try:
        moment = parse_instant(raw, zone)
    except ValueError:
        return raw
    return moment.isoformat() if moment else raw


def _contact(form: dict[str, str], zone: ZoneInfo) -> dict[str, Any]:
    return {"at": _instant(form, "at", zone), "method": form.get("method", ""), "outcome": form.get("outcome", "")}


def _consent(form: dict[str, str], zone: ZoneInfo) -> dict[str, Any]:
    parties = [party.strip() for party in form.get("parties", "").split(",") if party.strip()]
    return {
        "parties": parties,
        "purpose": form.get("purpose", ""),
        "scope": form.get("scope", ""),
        "part2": form.get("part2") == "on",
        "expires_at": _instant(form, "expires_at", zone),
    }


def _assessment(form: dict[str, str], zone: ZoneInfo) -> dict[str, Any]:
    needs: list[dict[str, Any]] = []
    for domain in NEED_DOMAINS:
        if form.get(f"need.{domain}") == "on":
            priority = form.get(f"priority.{domain}", "")
            needs.append({"domain": domain, "priority": int(priority) if priority.isdigit() else priority})
    return {
        "completed_at": _instant(form, "completed_at", zone),
        "case_manager_id": form.get("case_manager_id", ""),
        "needs": needs,
    }


def _only(*names: str) -> Callable[[dict[str, str], ZoneInfo], dict[str, Any]]:
    def body(form: dict[str, str], zone: ZoneInfo) -> dict[str, Any]:
        return {name: form.get(name, "") for name in names}

    return body


def _with_instant(name: str, *others: str) -> Callable[[dict[str, str], ZoneInfo], dict[str, Any]]:
    def body(form: dict[str, str], zone: ZoneInfo) -> dict[str, Any]:
        return {name: _instant(form, name, zone), **{other: form.get(other, "") for other in others}}

    return body


def _empty(form: dict[str, str], zone: ZoneInfo) -> dict[str, Any]:
    return {}


def _service_referral(form: dict[str, str], zone: ZoneInfo) -> dict[str, Any]:
    return {
        "referral_id": form.get("referral_id", ""),
        "service_id": form.get("service_id", ""),
        "need": form.get("need", ""),
    }


def _status_change(form: dict[str, str], zone: ZoneInfo) -> dict[str, Any]:
    return {"status": form.get("status", ""), "reason": form.get("reason") or None}


@dataclass(frozen=True)
class Step:
    """One command a case page can send."""

    service: Service
    path: str
    """The route, formatted with `referral_id` and the form's `item` (a consent or service referral id)."""
    body: Callable[[dict[str, str], ZoneInfo], dict[str, Any]]
    done: str
    """The status message once the API took it."""
    method: Literal["POST", "PUT"] = "POST"


STEPS: dict[str, Step] = {
    "manager": Step(
        "assessment", "/v1/cases/{referral_id}/manager", _only("case_manager_id"), "Case manager assigned."
    ),
    "contact": Step("assessment", "/v1/cases/{referral_id}/contacts", _contact, "Contact recorded."),
    "consent": Step("assessment", "/v1/cases/{referral_id}/consents", _consent, "Consent recorded."),
    "revocation": Step("assessment", "/v1/cases/{referral_id}/consents/{item}/revocation", _empty, "Consent revoked."),
    "assessment": Step("assessment", "/v1/cases/{referral_id}/assessment", _assessment, "Assessment recorded."),
    "enrollment": Step(
        "assessment", "/v1/cases/{referral_id}/enrollment", _with_instant("enrolled_at"), "Participant enrolled."
    ),
    "decline": Step("assessment", "/v1/cases/{referral_id}/decline", _only("reason"), "Decline recorded."),
    "engagement": Step("assessment", "/v1/cases/{referral_id}/engagement", _only("status"), "Engagement changed."),
    "closure": Step(
        "assessment", "/v1/cases/{referral_id}/closure", _with_instant("closed_at", "reason"), "Case closed."
    ),
    "reopening": Step("assessment", "/v1/cases/{referral_id}/reopening", _empty, "Case reopened."),
    "service-referral": Step("directory", "/v1/service-referrals", _service_referral, "Service referral sent."),
    "service-status": Step(
        "directory", "/v1/service-referrals/{item}/status", _status_change, "Service referral updated."
    ),
}
"""Every step of a case page, by the name its form posts to (`POST /cases/{referral_id}/{step}`)."""


def minute_of(moment: datetime, zone: ZoneInfo) -> str:
    """An instant as a `datetime-local` field shows it: the minute, in the program's zone."""
    return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M")
