"""Every directory command handler on the fake unit of work: what it stores, what it publishes, what
it refuses, and whom it attributes each change to. The same behaviour on SQLite and PostgreSQL is
the integration tier's."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from divert_contracts.directory import ServiceReferralMade, ServiceReferralStatusChanged
from divert_directory.domain.capacity import ServiceCapacity
from divert_directory.domain.case_facts import CaseFacts, ConsentFact, NeedFact
from divert_directory.domain.catalogue import ServiceOffer
from divert_directory.domain.commands import ChangeServiceReferralStatus, MarkServiceCapacity, ReferToService
from divert_directory.domain.consent_check import ConsentRefusal
from divert_directory.domain.errors import (
    CapacityOutOfScope,
    CaseIsClosed,
    InvalidStatusChange,
    NoConsentInForce,
    ReasonMisplaced,
    ServiceUnsuitable,
)
from divert_directory.domain.events import ServiceCapacityMarked
from divert_directory.service_layer import handlers
from divert_directory.service_layer.importer import import_catalogue
from divert_platform.cause import Cause

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)
AGENCY = "reach-king-county"
CASE_AGENCIES = {"king-county": AGENCY, "albany": "albany-lead"}
CASE_MANAGER = Cause(actor="cm-7", role="case_manager", agency=AGENCY)
PROGRAM_MANAGER = Cause(actor="pm-1", role="program_manager")


def add_service(uow, *needs: str, status: str = "active", jurisdictions=("king-county",)) -> ServiceOffer:
    return uow.catalogue.add(
        ServiceOffer(
            service_id=uuid4(),
            name=f"Service for {', '.join(needs)}",
            organization_id=uuid4(),
            organization_name="Helpers (fictional)",
            status=status,
            taxonomy_term_codes=frozenset(needs),
            jurisdictions=frozenset(jurisdictions),
            postal_codes=frozenset(),
        )
    )


def open_case(uow, *needs: tuple[str, int], closed: bool = False) -> UUID:
    referral_id = uuid4()
    facts = CaseFacts(referral_id, "king-county", AGENCY, opened_at=NOW - timedelta(days=2))
    facts.note_assessment(
        NOW - timedelta(days=1), tuple(NeedFact(d, p, d == "substance_use_treatment") for d, p in needs)
    )
    if closed:
        facts.note_closure(NOW, NOW)
    uow.cases.facts[referral_id] = facts
    return referral_id


def consent(uow, referral_id: UUID, offer: ServiceOffer, *, part2: bool = False, purpose: str = "service_referral"):
    consent_id = uuid4()
    uow.consents.consents[consent_id] = ConsentFact(consent_id, referral_id).with_record(
        parties=(str(offer.organization_id),),
        purpose=purpose,
        scope="contact_details",
        part2=part2,
        recorded_at=NOW - timedelta(hours=1),
        expires_at=NOW + timedelta(days=30),
    )
    return consent_id


def referral_to(referral_id: UUID, offer: ServiceOffer, need: str = "housing", agency: str | None = AGENCY):
    return ReferToService(uuid4(), referral_id, offer.service_id, need, agency=agency, at=NOW)


def status(service_referral_id: UUID, new: str, reason: str | None = None, agency: str | None = AGENCY):
    return ChangeServiceReferralStatus(service_referral_id, new, reason, agency=agency, at=NOW)


async def run(uow, handler, command, cause: Cause = CASE_MANAGER, **dependencies):
    """Handle `command` as a route does: attributed to the caller, committed by whoever opened the unit."""
    uow.cause = cause
    async with uow:
        result = await handler(command, uow, **dependencies)
        await uow.commit()
    return result


@pytest.fixture
def shelter(uow) -> ServiceOffer:
    return add_service(uow, "housing")


class TestReferToService:
    async def test_a_referral_under_consent_is_made_published_and_attributed(self, uow, shelter) -> None:
        referral_id = open_case(uow, ("housing", 1))
        consent_id = consent(uow, referral_id, shelter)

        referral = await run(uow, handlers.refer_to_service, referral_to(referral_id, shelter))

        assert (referral.status, referral.consent_id, referral.part2) == ("sent", consent_id, False)
        [made] = uow.published
        assert isinstance(made, ServiceReferralMade)
        assert (made.service_referral_id, made.organization_id, made.made_at) == (
            referral.id,
            shelter.organization_id,
            NOW,
        )
        assert uow.metadata == [CASE_MANAGER.metadata()]
        assert (await uow.service_referrals.get(referral.id)).status == "sent"

    async def test_a_part2_need_goes_only_under_a_part2_consent(self, uow) -> None:
        clinic = add_service(uow, "substance_use_treatment")
        referral_id = open_case(uow, ("substance_use_treatment", 1))
        consent(uow, referral_id, clinic, purpose="care_coordination")
        command = referral_to(referral_id, clinic, "substance_use_treatment")

        with pytest.raises(NoConsentInForce) as refused:
            await run(uow, handlers.refer_to_service, command)
        assert refused.value.decision.refusal is ConsentRefusal.NOT_PART2 and refused.value.decision.part2_needed

        part2_consent = consent(uow, referral_id, clinic, part2=True)
        referral = await run(uow, handlers.refer_to_service, command)
        assert (referral.part2, referral.consent_id) == (True, part2_consent)
        assert uow.published[-1].part2 is True

    async def test_without_a_consent_nothing_is_recorded(self, uow, shelter) -> None:
        referral_id = open_case(uow, ("housing", 1))

        with pytest.raises(NoConsentInForce) as refused:
            await run(uow, handlers.refer_to_service, referral_to(referral_id, shelter))

        assert refused.value.decision.refusal is ConsentRefusal.NO_CONSENT_FOR_ORGANIZATION
        assert refused.value.decision.organization_id == shelter.organization_id
        assert uow.service_referrals.streams == {} and uow.published == []

    @pytest.mark.parametrize("agency", ["albany-lead", None])
    async def test_another_agencys_case_does_not_exist(self, uow, shelter, agency) -> None:
        referral_id = open_case(uow, ("housing", 1))
        consent(uow, referral_id, shelter)

        with pytest.raises(handlers.CaseNotFound):
            await run(uow, handlers.refer_to_service, referral_to(referral_id, shelter, agency=agency))
        with pytest.raises(handlers.CaseNotFound):
            await run(uow, handlers.refer_to_service, referral_to(uuid4(), shelter))

    @pytest.mark.parametrize(
        ("kind", "field"),
        [("unknown", "service_id"), ("inactive", "service_id"), ("elsewhere", "service_id"), ("other need", "need")],
    )
    async def test_the_service_must_exist_be_active_serve_the_jurisdiction_and_meet_the_need(
        self, uow, kind, field
    ) -> None:
        referral_id = open_case(uow, ("housing", 1), ("food", 2))
        offer = {
            "unknown": ServiceOffer(uuid4(), "Gone", uuid4(), "", "active", frozenset(), frozenset(), frozenset()),
            "inactive": add_service(uow, "housing", status="inactive"),
            "elsewhere": add_service(uow, "housing", jurisdictions=("albany",)),
            "other need": add_service(uow, "food"),
        }[kind]
        consent(uow, referral_id, offer)

        with pytest.raises(ServiceUnsuitable) as refused:
            await run(uow, handlers.refer_to_service, referral_to(referral_id, offer, "housing"))

        assert refused.value.field == field
        assert uow.published == []

    async def test_a_closed_case_refers_nobody(self, uow, shelter) -> None:
        referral_id = open_case(uow, ("housing", 1), closed=True)
        consent(uow, referral_id, shelter)

        with pytest.raises(CaseIsClosed):
            await run(uow, handlers.refer_to_service, referral_to(referral_id, shelter))


class TestChangeServiceReferralStatus:
    async def made(self, uow, offer: ServiceOffer) -> UUID:
        referral_id = open_case(uow, ("housing", 1))
        consent(uow, referral_id, offer)
        return (await run(uow, handlers.refer_to_service, referral_to(referral_id, offer))).id

    async def test_the_loop_closes_accepted_then_completed(self, uow, shelter) -> None:
        service_referral_id = await self.made(uow, shelter)

        await run(uow, handlers.change_service_referral_status, status(service_referral_id, "accepted"))
        done = await run(uow, handlers.change_service_referral_status, status(service_referral_id, "completed"))

        assert done.status == "completed" and [step.status for step in done.history] == [
            "sent",
            "accepted",
            "completed",
        ]
        changed = uow.published[-1]
        assert isinstance(changed, ServiceReferralStatusChanged)
        assert (changed.previous_status, changed.status, changed.service_id, changed.need, changed.jurisdiction) == (
            "accepted",
            "completed",
            shelter.service_id,
            "housing",
            "king-county",
        )
        assert uow.metadata == [CASE_MANAGER.metadata()] * 3

    async def test_a_step_the_status_does_not_lead_to_is_refused(self, uow, shelter) -> None:
        service_referral_id = await self.made(uow, shelter)

        with pytest.raises(InvalidStatusChange) as refused:
            await run(uow, handlers.change_service_referral_status, status(service_referral_id, "completed"))
        assert (refused.value.current, refused.value.allowed) == ("sent", ("accepted", "declined"))
        with pytest.raises(ReasonMisplaced):
            await run(uow, handlers.change_service_referral_status, status(service_referral_id, "declined"))
        assert len(uow.published) == 1

    @pytest.mark.parametrize("agency", ["albany-lead", None])
    async def test_another_agencys_service_referral_does_not_exist(self, uow, shelter, agency) -> None:
        service_referral_id = await self.made(uow, shelter)

        with pytest.raises(handlers.ServiceReferralNotFound):
            await run(
                uow, handlers.change_service_referral_status, status(service_referral_id, "accepted", None, agency)
            )
        with pytest.raises(handlers.ServiceReferralNotFound):
            await run(uow, handlers.change_service_referral_status, status(uuid4(), "accepted"))

    async def test_a_decline_for_no_capacity_marks_the_service_full_once(self, uow, shelter) -> None:
        first, second = await self.made(uow, shelter), await self.made(uow, shelter)

        await run(uow, handlers.change_service_referral_status, status(first, "declined", "no_capacity"))
        await run(uow, handlers.change_service_referral_status, status(second, "declined", "no_capacity"))

        capacity = await uow.capacities.get(shelter.service_id)
        assert capacity is not None and capacity.at_capacity
        [mark] = uow.capacities.streams[shelter.service_id]  # the second decline found it full already
        assert isinstance(mark, ServiceCapacityMarked) and mark.service_referral_id == first
        # capacity marks stay home: only the referrals' own events are published
        assert [type(event) for event in uow.published] == [ServiceReferralMade] * 2 + [
            ServiceReferralStatusChanged
        ] * 2

    async def test_another_decline_marks_nothing(self, uow, shelter) -> None:
        service_referral_id = await self.made(uow, shelter)

        await run(uow, handlers.change_service_referral_status, status(service_referral_id, "declined", "not_eligible"))

        assert uow.capacities.streams == {}


class TestMarkServiceCapacity:
    def mark(self, offer: ServiceOffer, at_capacity: bool, role="case_manager", agency=AGENCY, jurisdiction=None):
        return MarkServiceCapacity(offer.service_id, at_capacity, role, agency, jurisdiction, at=NOW)

    async def test_a_case_manager_marks_it_full_and_a_repeat_records_nothing(self, uow, shelter) -> None:
        changes = [
            await run(uow, handlers.mark_service_capacity, self.mark(shelter, True), case_agencies=CASE_AGENCIES)
            for _ in range(2)
        ]

        assert changes == [True, False]
        [mark] = uow.capacities.streams[shelter.service_id]
        assert (mark.at_capacity, mark.marked_at, mark.service_referral_id) == (True, NOW, None)
        assert uow.metadata == [CASE_MANAGER.metadata()] and uow.published == []

    async def test_a_program_manager_of_its_jurisdiction_marks_room_again(self, uow, shelter) -> None:
        await run(uow, handlers.mark_service_capacity, self.mark(shelter, True), case_agencies=CASE_AGENCIES)
        by_pm = self.mark(shelter, False, role="program_manager", agency=None, jurisdiction="king-county")

        assert await run(uow, handlers.mark_service_capacity, by_pm, PROGRAM_MANAGER, case_agencies=CASE_AGENCIES)

        capacity = await uow.capacities.get(shelter.service_id)
        assert capacity is not None and not capacity.at_capacity
        assert uow.metadata[-1] == PROGRAM_MANAGER.metadata()

    @pytest.mark.parametrize(
        ("role", "agency", "jurisdiction"),
        [
            ("case_manager", "albany-lead", None),
            ("case_manager", None, "king-county"),
            ("program_manager", None, "albany"),
            ("program_manager", AGENCY, None),
        ],
    )
    async def test_only_those_acting_for_a_jurisdiction_it_serves_may_mark_it(
        self, uow, shelter, role, agency, jurisdiction
    ) -> None:
        command = self.mark(shelter, True, role, agency, jurisdiction)

        with pytest.raises(CapacityOutOfScope):
            await run(uow, handlers.mark_service_capacity, command, case_agencies=CASE_AGENCIES)
        assert uow.capacities.streams == {}

    async def test_an_unknown_service_is_not_found(self, uow) -> None:
        command = MarkServiceCapacity(uuid4(), True, "case_manager", AGENCY, None, at=NOW)

        with pytest.raises(handlers.ServiceNotFound):
            await run(uow, handlers.mark_service_capacity, command, case_agencies=CASE_AGENCIES)

    async def test_the_capacity_rebuilds_from_its_marks(self, uow, shelter) -> None:
        for at_capacity in (True, False, True):
            await run(uow, handlers.mark_service_capacity, self.mark(shelter, at_capacity), case_agencies=CASE_AGENCIES)

        rebuilt = ServiceCapacity.from_events(shelter.service_id, uow.capacities.streams[shelter.service_id])
        assert (rebuilt.at_capacity, rebuilt.version) == (True, 3)


class TestImportCatalogue:
    async def test_valid_records_are_written_invalid_ones_reported_and_nothing_committed(
        self, uow, tmp_path: Path
    ) -> None:
        good = {"id": str(uuid4()), "name": "Shelter", "status": "active", "organization_id": str(uuid4())}
        bad = {"id": str(uuid4()), "name": "No provider", "status": "active"}
        source = tmp_path / "services.json"
        source.write_text(json.dumps([good, bad]))

        async with uow:
            report = await import_catalogue(source, uow, now=NOW)

        assert not report.ok and [(error.row, "organization_id" in error.reason) for error in report.errors] == [
            (2, True)
        ]
        assert (report.tables["service"].read, report.tables["service"].inserted) == (2, 1)
        assert uow.catalogue.records["service"] == {good["id"]: good}
        assert uow.commits == 0  # the caller commits (or, for a dry run, does not)
