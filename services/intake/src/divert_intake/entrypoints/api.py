"""Intake's REST API: police RMS submit referrals and read their status."""

from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, FastAPI, Header, Response
from temporalio.client import Client

from divert_intake.adapters.referrals import find_status
from divert_intake.bootstrap import Intake, bootstrap, connect_temporal
from divert_intake.domain.referral import InvalidReferral, SubmitReferral
from divert_intake.entrypoints.schemas import DecisionView, ReferralRequest, ReferralView, RmsView
from divert_intake.service_layer import handlers
from divert_platform.app import create_app
from divert_platform.clock import as_utc, utcnow
from divert_platform.idempotency import IdempotencyKeys, request_fingerprint
from divert_platform.problems import NotFound, Unprocessable

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=200, description="Retry-safe key: a repeat returns the first response."),
]


def build_api(intake: Intake) -> FastAPI:
    """The intake API over already-built parts (tests pass their own)."""
    temporal: dict[str, Client] = {}

    async def temporal_check() -> None:
        if "client" not in temporal:
            temporal["client"] = await connect_temporal(intake.settings)
        await temporal["client"].service_client.check_health()

    app = create_app(
        title="Divert intake",
        description="Referrals from police records-management systems, decided by each jurisdiction's rules.",
        settings=intake.settings,
        engine=intake.engine,
        extra_checks={"temporal": temporal_check},
    )
    app.include_router(_referrals_router(intake))
    return app


def _referrals_router(intake: Intake) -> APIRouter:
    router = APIRouter(prefix="/v1/referrals", tags=["referrals"])

    @router.post("", status_code=201, response_model=ReferralView, summary="Submit a referral")
    async def submit_referral(body: ReferralRequest, response: Response, idempotency_key: IdempotencyKey = None) -> Any:
        """Decide the referral under its jurisdiction's current policy and record it.

        An eligible referral is `accepted` and published to case agencies; an ineligible one is
        recorded with every reason it failed. Screening facts are used for the decision and
        discarded. Send an `Idempotency-Key` so a retry never creates a second referral.
        """
        policy = intake.policies.get(body.jurisdiction)
        if policy is None:
            raise Unprocessable(
                f"unknown jurisdiction {body.jurisdiction!r}",
                errors=[
                    {"field": "body.jurisdiction", "message": "no policy for this jurisdiction", "code": "unknown"}
                ],
            )
        fingerprint = request_fingerprint(body.model_dump(mode="json"))
        async with intake.unit_of_work() as uow:
            keys = IdempotencyKeys(uow.session, "referrals")
            if idempotency_key and (stored := await keys.replay(idempotency_key, fingerprint)):
                response.status_code = stored.status_code
                return stored.body
            command = SubmitReferral(
                referral_id=uuid4(),
                jurisdiction=body.jurisdiction,
                pathway=body.pathway,
                referred_at=body.referred_at,
                rms=body.rms,
                subject=body.subject,
                location=body.location,
                offense=body.offense,
                screening=body.screening,
                contact_drivers=tuple(body.contact_drivers),
            )
            actor = {"actor": body.rms.officer_id, "role": "officer", "agency": body.rms.agency}
            try:
                referral = await handlers.submit_referral(uow, command, policy, utcnow(), actor)
            except InvalidReferral as error:
                raise Unprocessable(
                    str(error), errors=[{"field": f"body.{error.field}", "message": str(error), "code": "invalid"}]
                ) from error
            assert referral.decision is not None and referral.status is not None
            view = ReferralView(
                referral_id=referral.id,
                status=referral.status.value,
                jurisdiction=policy.id,
                pathway=body.pathway,
                rms=RmsView(agency=body.rms.agency, case_number=body.rms.case_number),
                decision=DecisionView(
                    eligible=referral.decision.eligible,
                    policy=referral.decision.policy,
                    policy_version=referral.decision.policy_version,
                    reasons=[{"code": r.code, "message": r.message} for r in referral.decision.reasons],  # type: ignore[misc]
                ),
                referred_at=body.referred_at,
                assessment_due_by=referral.assessment_due_by.astimezone(policy.zone)
                if referral.assessment_due_by
                else None,
            ).model_dump(mode="json")
            if idempotency_key:
                await keys.remember(idempotency_key, fingerprint, 201, view)
            await uow.commit()
        return view

    @router.get("/{referral_id}", response_model=ReferralView, summary="A referral's status")
    async def get_referral(referral_id: UUID) -> ReferralView:
        """The police status view: accepted, ineligible, assessed or lapsed, and when it is due."""
        async with intake.unit_of_work() as uow:
            row = await find_status(uow, referral_id)
        if row is None:
            raise NotFound(f"no referral {referral_id}")
        policy = intake.policies.get(row["jurisdiction"])
        zone = policy.zone if policy else None
        return ReferralView(
            referral_id=referral_id,
            status=row["status"],
            jurisdiction=row["jurisdiction"],
            pathway=row["pathway"],
            rms=RmsView(agency=row["agency"], case_number=row["case_number"]),
            decision=DecisionView.model_validate(row["decision"]),
            referred_at=row["referred_at"].astimezone(zone),
            assessment_due_by=as_utc(row["assessment_due_by"]).astimezone(zone) if row["assessment_due_by"] else None,
            assessed_on_time=row["assessed_on_time"],
        )

    return router


def create_api() -> FastAPI:
    """The API of this process, from the environment (used by `divert-intake api`)."""
    return build_api(bootstrap())
