"""The evaluation export over REST (docs/domain.md#the-evaluation-extract): a de-identified extract
of a jurisdiction's cases, its data dictionary, and the outcome measures computed from arrest and
charge records an evaluator brings.

For program managers and evaluators of the jurisdiction. Nothing here names a person: no name,
date of birth, phone, RMS id or note leaves by these routes; people are told apart by a keyed hash
(`person_key`). An evaluator's records may name people (RMS ids, or names and dates of birth):
those are keyed on arrival and discarded, never stored, logged or answered. Every extract and every
computation is audited (counts, never what was uploaded).
"""

from datetime import date, datetime
from typing import Annotated, Any, Literal, Self
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from divert_assessment.adapters.evaluation import (
    consents_of,
    evaluation_cases,
    identity_of,
    needs_of,
    referrals_of_people,
)
from divert_assessment.bootstrap import Organisations, Settings
from divert_assessment.domain.evaluation import evaluation_needs
from divert_assessment.domain.outcomes import Group, Measure, Record, measure_outcomes, participants_index_dates
from divert_assessment.domain.person_key import (
    KEY_HEX_LENGTH,
    Identity,
    identity_given,
    key_given,
    one_way,
    person_key,
)
from divert_assessment.entrypoints.callers import Evaluation
from divert_assessment.entrypoints.reports import utc_window
from divert_assessment.entrypoints.schemas import MAX_COUNT, MAX_NEEDS
from divert_contracts.cases import CloseReason, DeclineReason, NeedDomain
from divert_contracts.referrals import Pathway
from divert_contracts.timestamps import IsoDate, IsoDateTime
from divert_platform.audit import Audited
from divert_platform.clock import utcnow
from divert_platform.pagination import Cursor
from divert_platform.problems import Unavailable, invalid, problem_responses
from divert_platform.text import JurisdictionId, free_text

MAX_ROWS = 1000
"""At most this many rows in one page of the extract; `next_cursor` leads to the rest."""
MAX_RECORDS = 5000
"""At most this many arrest and charge records in one computation: with a full comparison group the
body stays within the APIs' request limit (`DIVERT_MAX_REQUEST_BYTES`, 1,000,000 by default), so an
oversized upload is a 422 naming the list rather than a 413. (Records given by identity with names at
their longest may pass the request limit first: a 413, bounded all the same.)"""
MAX_COMPARISON = 5000
"""At most this many people in a comparison group."""

PersonKey = Annotated[
    str,
    Field(
        min_length=KEY_HEX_LENGTH,
        max_length=KEY_HEX_LENGTH,
        pattern=r"^[0-9a-f]{64}$",
        description="The person's pseudonymous key: HMAC-SHA256 under the program's secret, 64 lower-case hex digits.",
    ),
]


class EvaluationRow(BaseModel):
    """One case of the extract: one referral of one person, de-identified. Times are UTC instants
    (ISO 8601); null where the step has not happened."""

    person_key: PersonKey = Field(
        description=(
            "Pseudonymous person key (HMAC-SHA256 under the program's secret, hex): the same for every "
            "referral of one person by the same RMS agency and person id, else of the same names and date of birth."
        )
    )
    referral_id: UUID = Field(description="The referral's id (the case's id in Divert).")
    jurisdiction: JurisdictionId = Field(description="The program's jurisdiction.")
    pathway: Pathway = Field(description="How the person was referred.")
    precinct: Annotated[str, free_text(100)] | None = Field(
        description="The police precinct of the contact, as the officer gave it; null when not given or not kept."
    )
    policy_version: Annotated[str, free_text(64)] | None = Field(
        description="The version of the jurisdiction's eligibility policy that accepted the referral; null if not kept."
    )
    referred_at: datetime = Field(description="When the officer referred the person (UTC).")
    opened_at: datetime = Field(description="When the case agency's case was opened (UTC).")
    first_contact_at: datetime | None = Field(description="The first contact made with the person (UTC).")
    assessed_at: datetime | None = Field(description="When the intake assessment was completed (UTC).")
    assessed_on_time: bool | None = Field(
        description=(
            "Whether the assessment was completed by its due time (true when there was none); null if not assessed."
        )
    )
    enrolled_at: datetime | None = Field(description="When the person enrolled (UTC), kept if closed since.")
    declined_reason: DeclineReason | None = Field(description="Why the person chose not to enroll, if they did not.")
    closed_at: datetime | None = Field(description="When the case was closed (UTC); null while open or reopened.")
    close_reason: CloseReason | None = Field(description="Why the case was closed; null while open.")
    needs: list[NeedDomain] = Field(
        max_length=MAX_NEEDS,
        description=(
            "Need categories found at assessment, most urgent first. A 42 CFR Part 2 need "
            "(`substance_use_treatment`) only under the person's Part 2 consent naming the program's evaluators."
        ),
    )


class EvaluationPage(BaseModel):
    """One page of the extract, oldest referral first; pass `next_cursor` as `cursor` for the next."""

    jurisdiction: JurisdictionId
    referred_from: datetime = Field(description="Start of the window (inclusive), on `referred_at`, in UTC.")
    referred_to: datetime = Field(description="End of the window (exclusive), in UTC.")
    items: list[EvaluationRow] = Field(max_length=MAX_ROWS)
    next_cursor: Cursor | None = Field(description="The next page's cursor; null on the last page.")


class DictionaryField(BaseModel):
    """One column of the extract, as its row model's JSON Schema describes it."""

    name: Annotated[str, free_text(100)]
    type: Literal["string", "boolean", "integer", "number", "array"]
    item_type: Literal["string", "boolean", "integer", "number"] | None = Field(
        description="The type of each item of an array (a CSV cell joins them with `;`); null otherwise."
    )
    format: Annotated[str, free_text(32)] | None = Field(description="`date-time` (ISO 8601, UTC), `uuid`, or null.")
    nullable: bool
    description: Annotated[str, free_text(500)]
    allowed_values: list[Annotated[str, free_text(100)]] | None = Field(
        max_length=100, description="Every value the column (or each item of it) may take; null when open."
    )


class Dictionary(BaseModel):
    """The extract's data dictionary, generated from the row model (so it cannot drift from it)."""

    fields: list[DictionaryField] = Field(max_length=100)


class IdentifiedPerson(BaseModel):
    """Who a person of an upload is, exactly one way: by `person_key` (as the extract gives it), by
    `rms_agency` and `rms_person_id`, or by `family_name`, `given_name` and `date_of_birth`. The
    service keys an identity itself, under the program's secret and as a referral's is keyed, so a
    person given by identity and the same person given by key are one; the identity is used for this
    computation only, then discarded (never stored, logged or echoed)."""

    model_config = ConfigDict(extra="forbid")

    person_key: PersonKey | None = Field(None, description="The person's key, as in the extract.")
    rms_agency: Annotated[str, free_text(64, min_length=1)] | None = Field(
        None, description="The RMS agency whose person id follows (as on the referral, e.g. `SPD`)."
    )
    rms_person_id: Annotated[str, free_text(64, min_length=1)] | None = Field(
        None, description="The agency's own id of the person."
    )
    family_name: Annotated[str, free_text(200, min_length=1)] | None = Field(None, description="With `given_name`.")
    given_name: Annotated[str, free_text(200, min_length=1)] | None = Field(None, description="With `family_name`.")
    date_of_birth: IsoDate | None = Field(None, description="With the names: required to identify by name.")
    _identity: Identity | None = PrivateAttr(None)

    @model_validator(mode="after")
    def _identified_one_way(self) -> Self:
        self._identity = identity_given(
            rms_agency=self.rms_agency,
            rms_person_id=self.rms_person_id,
            family_name=self.family_name,
            given_name=self.given_name,
            date_of_birth=self.date_of_birth,
        )
        one_way(self.person_key, self._identity)
        return self

    @property
    def by_identity(self) -> bool:
        """Whether the person was given by identity rather than by key."""
        return self._identity is not None

    def key(self, secret: bytes) -> str:
        """The person's key: the one given, or the identity keyed under `secret`."""
        return key_given(secret, self.person_key, self._identity)


class OutcomeRecord(IdentifiedPerson):
    """One arrest or charge of a person, by person key or by identity (see `IdentifiedPerson`)."""

    date: IsoDate = Field(description="The day of the arrest or of the charge.")
    kind: Literal["arrest", "charge"]
    felony: bool = Field(description="A felony charge (counted in `felony_charges`); ignored for arrests.")


class ComparisonPerson(IdentifiedPerson):
    """One person of the comparison group, by person key or by identity (see `IdentifiedPerson`),
    and the date their outcomes are measured around."""

    index_date: IsoDate


class OutcomesRequest(BaseModel):
    """Participants are the jurisdiction's people referred in `[from, to)`; the evaluator brings
    the records and the comparison group. Nothing of it is stored or logged."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    referred_from: IsoDateTime = Field(alias="from", description="Participants referred at or after (ISO 8601).")
    referred_to: IsoDateTime = Field(alias="to", description="Participants referred before (exclusive).")
    records: list[OutcomeRecord] = Field(max_length=MAX_RECORDS)
    comparison: list[ComparisonPerson] = Field(max_length=MAX_COMPARISON)


class MeasureResult(BaseModel):
    """One measure over one horizon for one group (means are per person of the group)."""

    group: Group
    measure: Measure = Field(description="`arrests` (every arrest) or `felony_charges` (charges marked felony).")
    months: Literal[6, 12] = Field(
        json_schema_extra={"minimum": 6, "maximum": 12},  # the OWASP lint asks every integer for its bounds
        description="The horizon: months before and after the index date.",
    )
    n: int = Field(ge=0, le=MAX_COUNT, description="People in the group.")
    total_before: int = Field(ge=0, le=MAX_COUNT)
    total_after: int = Field(ge=0, le=MAX_COUNT)
    mean_before: float | None = Field(description="Per person, 4 decimals; null for an empty group.")
    mean_after: float | None
    change_in_mean: float | None = Field(description="`mean_after` - `mean_before`.")
    change_percent: float | None = Field(description="100 x (after - before) / before, 1 decimal; null if before is 0.")


class OutcomesReport(BaseModel):
    """The seed study's measures for participants and the comparison group."""

    jurisdiction: JurisdictionId
    referred_from: datetime
    referred_to: datetime
    participants: int = Field(ge=0, le=MAX_COUNT, description="People referred in the window (by person key).")
    comparison: int = Field(ge=0, le=MAX_COUNT, description="People of the comparison group.")
    overlap: int = Field(ge=0, le=MAX_COUNT, description="People in both groups (counted in each).")
    records: int = Field(ge=0, le=MAX_COUNT, description="Records received.")
    records_by_identity: int = Field(
        ge=0, le=MAX_COUNT, description="Records given by identity (keyed by the service) rather than by person key."
    )
    records_matched: int = Field(ge=0, le=MAX_COUNT, description="Records of someone in either group.")
    measures: list[MeasureResult] = Field(max_length=8)


router = APIRouter(prefix="/v1/reports", tags=["evaluation"], responses=problem_responses(401, 403, 422, 500, 503))


def _secret(settings: Any) -> bytes:
    secret: bytes | None = settings.evaluation_secret()
    if secret is None:
        raise Unavailable("the evaluation export is off: DIVERT_EVALUATION_KEY is not set")
    return secret


def _stamp(moment: datetime) -> str:
    return f"{moment:%Y-%m-%dT%H:%M:%SZ}"


@router.get("/evaluation", response_model=EvaluationPage, summary="The de-identified evaluation extract")
async def evaluation_extract(
    referred_from: Annotated[
        IsoDateTime, Query(alias="from", description="Referred at or after (ISO 8601 with its UTC offset).")
    ],
    referred_to: Annotated[IsoDateTime, Query(alias="to", description="Referred before (exclusive).")],
    caller: Evaluation,
    read: Audited,
    settings: Settings,
    organisations: Organisations,
    cursor: Annotated[Cursor | None, Query(description="`next_cursor` of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_ROWS)] = MAX_ROWS,
) -> Any:
    """One row per case of the caller's jurisdiction referred in `[from, to)`, oldest first: a
    pseudonymous person key, the referral's pathway, precinct and policy version, the case's
    milestones (UTC) and closure, and the need categories found — Part 2 needs only under the
    person's Part 2 consent naming the program's evaluators. No name, date of birth, phone, RMS
    id or note. Each call is audited: the caller, the window and the row count, and a read of
    each case in its trail. The columns are described by `GET /v1/reports/evaluation/dictionary`."""
    secret = _secret(settings)
    own = caller.jurisdiction or ""  # `Evaluation` admits only tokens that name one
    start, end = utc_window(referred_from, referred_to)
    rows, next_cursor = await evaluation_cases(read.session, own, start, end, cursor=cursor, limit=limit)
    consents = await consents_of(read.session, [row["referral_id"] for row in rows])
    now = utcnow()
    items = [
        EvaluationRow(
            person_key=person_key(secret, identity_of(row)),
            referral_id=row["referral_id"],
            jurisdiction=row["jurisdiction"],
            pathway=row["pathway"],
            precinct=row["precinct"],
            policy_version=row["policy_version"],
            referred_at=row["referred_at"],
            opened_at=row["opened_at"],
            first_contact_at=row["first_contact_at"],
            assessed_at=row["completed_at"],
            assessed_on_time=row["assessed_on_time"],
            enrolled_at=row["enrolled_at"],
            declined_reason=row["declined_reason"],
            closed_at=row["closed_at"],
            close_reason=row["close_reason"],
            needs=evaluation_needs(needs_of(row), consents[row["referral_id"]], now, organisations),
        )
        for row in rows
    ]
    await read.record(f"evaluation_extract {own} {_stamp(start)}/{_stamp(end)} rows={len(items)}", [None])
    await read.record("evaluation_extract", [row["referral_id"] for row in rows])
    return EvaluationPage(jurisdiction=own, referred_from=start, referred_to=end, items=items, next_cursor=next_cursor)


def dictionary_of(model: type[BaseModel]) -> Dictionary:
    """A data dictionary from `model`'s JSON Schema: each property's name, type, format, whether
    it may be null, its description and its allowed values."""
    schema = model.model_json_schema()
    definitions = schema.get("$defs", {})

    def resolved(node: dict[str, Any]) -> dict[str, Any]:
        return definitions[node["$ref"].rsplit("/", 1)[-1]] if "$ref" in node else node

    fields = []
    for name, prop in schema["properties"].items():
        variants = [resolved(v) for v in prop.get("anyOf", [prop])]
        kept = [v for v in variants if v.get("type") != "null"]
        node = kept[0]
        items = resolved(node["items"]) if node.get("type") == "array" else None
        values = (items or node).get("enum")
        fields.append(
            DictionaryField(
                name=name,
                type=node["type"],
                item_type=items["type"] if items else None,
                format=node.get("format"),
                nullable=len(kept) < len(variants),
                description=prop.get("description", ""),
                allowed_values=[str(value) for value in values] if values else None,
            )
        )
    return Dictionary(fields=fields)


DICTIONARY = dictionary_of(EvaluationRow)


@router.get("/evaluation/dictionary", response_model=Dictionary, summary="The evaluation extract's data dictionary")
async def evaluation_dictionary(caller: Evaluation) -> Dictionary:
    """Every column of the extract, in order: name, type (and item type of a list), format,
    whether it may be null, what it means and the values it may take. Generated from the row
    model's JSON Schema, the same model the extract is validated against."""
    return DICTIONARY


@router.post("/evaluation/outcomes", response_model=OutcomesReport, summary="Outcome measures from arrest records")
async def evaluation_outcomes(body: OutcomesRequest, caller: Evaluation, read: Audited, settings: Settings) -> Any:
    """Arrests and felony charges in the 6 and 12 months before and after each person's index
    date, per group: n, the totals and means before and after, and the change. Participants are
    the people of the caller's jurisdiction referred in `[from, to)`, each once, index date the
    (UTC) date of their first referral in the window; the comparison group and its index dates
    are the body's. Records are matched to people by person key; records of anyone else are
    ignored. The index date itself is in neither window (docs/domain.md#outcome-measures).
    Nothing of the body is stored or logged; the call is audited with its counts only. A person
    key twice in `comparison` is a 422 naming it.

    Each record and each comparison person is given by `person_key`, or by identity — `rms_agency`
    and `rms_person_id`, or `family_name`, `given_name` and `date_of_birth` — exactly one way (else
    a 422 naming `body.records.<i>` or `body.comparison.<i>`). The service keys an identity itself
    under the program's secret, exactly as a referral's identity is keyed, and discards it: police
    and court records can be brought as they are, without the secret."""
    secret = _secret(settings)
    own = caller.jurisdiction or ""
    start, end = utc_window(body.referred_from, body.referred_to, where="body")
    comparison: dict[str, date] = {}
    for place, person in enumerate(body.comparison):
        key = person.key(secret)
        if key in comparison:
            field = f"body.comparison.{place}" + ("" if person.by_identity else ".person_key")
            raise invalid(field, "this person is already in the comparison group")
        comparison[key] = person.index_date
    referrals = await referrals_of_people(read.session, own, start, end)
    participants = participants_index_dates(
        (person_key(secret, identity), referred_at.date()) for identity, referred_at in referrals
    )
    records = [Record(r.key(secret), r.date, r.kind, r.felony) for r in body.records]
    rows = measure_outcomes(participants, comparison, records)
    matched = sum(1 for r in records if r.person_key in participants or r.person_key in comparison)
    overlap = len(participants.keys() & comparison.keys())
    await read.record(
        f"evaluation_outcomes {own} {_stamp(start)}/{_stamp(end)} participants={len(participants)} "
        f"comparison={len(comparison)} records={len(records)}",
        [None],
    )
    return OutcomesReport(
        jurisdiction=own,
        referred_from=start,
        referred_to=end,
        participants=len(participants),
        comparison=len(comparison),
        overlap=overlap,
        records=len(records),
        records_by_identity=sum(1 for r in body.records if r.by_identity),
        records_matched=matched,
        measures=[MeasureResult(**vars(row)) for row in rows],
    )
