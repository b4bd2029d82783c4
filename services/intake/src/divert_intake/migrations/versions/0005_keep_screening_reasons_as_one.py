"""Screening reasons already stored are kept as one `screening` reason, like new ones.

Until this revision a declined referral's reasons were stored and published as the officer was
told them, so the event store, the outbox (which `divert-intake replay` publishes again), the
status view and the stored idempotency responses said, e.g., that the person was on state
probation. This rewrites each stored decision as intake now keeps it: the reasons resting on the
offense as they were, then one `screening` reason for all the others. It is a privacy fix, so the
event store's declined events are rewritten in place (ids, versions and metadata unchanged).
Nothing can restore the removed reasons: the downgrade leaves them removed. Records already on
the topic are not reachable from here (docs/operations.md says what to do about them).

Frozen like every migration: the codes and the sentence are copied here, not imported.

Revision ID: 0005
Revises: 0004
"""

import json
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# The built-in codes resting on the offense or the contact when this revision was written; every
# other code (every policy exclusion, the social-contact look-back) rests on screening facts.
OFFENSE_CODES = frozenset(
    {
        "pathway_not_accepted",
        "offense_not_eligible",
        "drug_quantity_over_limit",
        "under_minimum_age",
        "no_qualifying_contact_driver",
    }
)
SCREENING = {"code": "screening", "message": "The referral did not pass the jurisdiction's screening."}

_json = sa.JSON().with_variant(JSONB(), "postgresql")
events = sa.table(
    "events", sa.column("position", sa.BigInteger), sa.column("event_type", sa.String), sa.column("data", _json)
)
outbox = sa.table(
    "outbox", sa.column("id", sa.BigInteger), sa.column("event_type", sa.String), sa.column("data", _json)
)
referral_status = sa.table(
    "referral_status",
    sa.column("referral_id", sa.String),
    sa.column("status", sa.String),
    sa.column("decision", sa.JSON),
)
idempotency_keys = sa.table(
    "idempotency_keys", sa.column("scope", sa.String), sa.column("key", sa.String), sa.column("response", sa.Text)
)


def kept(reasons: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The reasons as intake now keeps them (unchanged when they already are)."""
    offense = [reason for reason in reasons if reason.get("code") in OFFENSE_CODES]
    return [*offense, SCREENING] if len(offense) < len(reasons) else offense


def _with_kept_reasons(holder: dict[str, Any]) -> dict[str, Any] | None:
    """`holder` with its `reasons` kept, or None when there is nothing to change."""
    reasons = holder.get("reasons")
    if not isinstance(reasons, list) or kept(reasons) == reasons:
        return None
    return {**holder, "reasons": kept(reasons)}


def _rewrite_json_column(table: sa.TableClause, key: str, column: str, where: sa.ColumnElement[bool]) -> None:
    """Keep the reasons of the JSON object in `column` of the rows of `table` matching `where`."""
    bind = op.get_bind()
    rows = bind.execute(sa.select(table.c[key], table.c[column]).where(where)).all()
    for row_key, value in rows:
        changed = _with_kept_reasons(value)
        if changed is not None:
            bind.execute(sa.update(table).where(table.c[key] == row_key).values({column: changed}))


def _stored_submissions() -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Stored responses that carry a decision (those of `POST /v1/referrals`; scopes are hashed)."""
    rows = op.get_bind().execute(
        sa.select(idempotency_keys.c.scope, idempotency_keys.c.key, idempotency_keys.c.response)
    )
    for scope, key, response in rows.all():
        try:
            body = json.loads(response)
        except ValueError:
            continue
        if isinstance(body, dict) and isinstance(body.get("decision"), dict):
            yield scope, key, body


def _rewrite_idempotency_responses() -> None:
    bind = op.get_bind()
    for scope, key, body in list(_stored_submissions()):
        decision = _with_kept_reasons(body["decision"])
        if decision is not None:
            bind.execute(
                sa.update(idempotency_keys)
                .where(idempotency_keys.c.scope == scope, idempotency_keys.c.key == key)
                .values(response=json.dumps({**body, "decision": decision}, default=str))
            )


def upgrade() -> None:
    _rewrite_json_column(events, "position", "data", events.c.event_type == "ReferralDeclined")
    _rewrite_json_column(outbox, "id", "data", outbox.c.event_type == "org.divert.referral.declined.v1")
    _rewrite_json_column(referral_status, "referral_id", "decision", referral_status.c.status == "declined")
    _rewrite_idempotency_responses()


def downgrade() -> None:
    """Nothing to undo: the removed reasons are gone, and the older code reads the kept ones."""
