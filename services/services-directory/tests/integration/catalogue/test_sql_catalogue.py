"""`SqlCatalogue`, the port matching and service referrals read the catalogue through, and the
bundled seed it is usually read over."""

from typing import Any, get_args
from uuid import UUID, uuid4

from sqlalchemy import update

from divert_contracts.cases import NeedDomain
from divert_directory.adapters.catalogue import SqlCatalogue
from divert_directory.adapters.tables import services
from divert_directory.bootstrap import Directory
from divert_directory.entrypoints.catalogue_import import SEED
from divert_directory.service_layer.ports import Catalogue

JURISDICTIONS = ("king-county", "santa-fe", "albany", "demo")
NORTHSTAR_LINE = "Northstar Free Phone and Crisis Line"


async def offers_in(directory: Directory, jurisdiction: str) -> list[Any]:
    async with directory.sessions() as session:
        return await SqlCatalogue(session).offers_in(jurisdiction)


async def test_the_directory_reads_the_catalogue_through_the_sql_adapter(directory: Directory) -> None:
    async with directory.unit_of_work() as uow:
        catalogue: Catalogue = uow.catalogue

        assert isinstance(catalogue, SqlCatalogue)


async def test_the_seed_meets_every_need_in_every_jurisdiction(seeded: Directory) -> None:
    for jurisdiction in JURISDICTIONS:
        offers = await offers_in(seeded, jurisdiction)

        met = set().union(*(offer.taxonomy_term_codes for offer in offers))
        assert set(get_args(NeedDomain)) <= met, f"{jurisdiction} lacks {set(get_args(NeedDomain)) - met}"
        assert all(jurisdiction in offer.jurisdictions and offer.status == "active" for offer in offers)


async def test_the_seed_is_fictional(seeded: Directory) -> None:
    offers = [offer for j in JURISDICTIONS for offer in await offers_in(seeded, j)]

    assert offers and all(offer.organization_name.endswith("(fictional)") for offer in offers)


def test_the_seed_files_use_only_fictional_contact_details() -> None:
    phones = (SEED / "phones.csv").read_text().splitlines()[1:]
    cells = [cell for name in ("services.csv", "organizations.csv") for cell in (SEED / name).read_text().split(",")]
    emails = [cell for cell in cells if "@" in cell]

    assert phones and all("-555-" in line for line in phones)
    assert emails and all(email.endswith(".example.org") for email in emails)


async def test_an_offer_says_who_provides_what_where(seeded: Directory) -> None:
    (line,) = [offer for offer in await offers_in(seeded, "albany") if offer.name == NORTHSTAR_LINE]

    async with seeded.sessions() as session:
        same = await SqlCatalogue(session).offer(line.service_id)

    assert same == line
    assert line.organization_name == "Northstar Example Phone Line (fictional)"
    assert line.taxonomy_term_codes == {"phone", "mental_health"}, "jurisdiction terms are not need codes"
    assert line.jurisdictions == {"king-county", "santa-fe", "albany"}
    assert line.postal_codes == frozenset(), "no postal-coded area: the whole of its jurisdictions"
    rainier = [offer for offer in await offers_in(seeded, "king-county") if offer.name.startswith("Rainier")]
    assert rainier and all(offer.postal_codes == {"98101", "98104", "98121", "98122"} for offer in rainier)


async def test_only_active_services_are_offered_but_any_can_be_looked_up(seeded: Directory) -> None:
    offers = await offers_in(seeded, "king-county")
    closed = "Northstar Winter Shelter Beds"

    async with seeded.sessions() as session:
        closed_id = (await session.execute(services.select().where(services.c.name == closed))).one().id
        found = await SqlCatalogue(session).offer(UUID(closed_id))
        missing = await SqlCatalogue(session).offer(uuid4())

    assert closed not in {offer.name for offer in offers}
    assert found is not None and found.status == "temporarily closed"
    assert missing is None


async def test_an_offer_reads_inside_the_callers_transaction(seeded: Directory) -> None:
    (first, *_) = await offers_in(seeded, "demo")

    async with seeded.sessions() as session, session.begin():
        await session.execute(update(services).where(services.c.id == str(first.service_id)).values(status="inactive"))
        inside = await SqlCatalogue(session).offer(first.service_id)
        offered = await SqlCatalogue(session).offers_in("demo")
        await session.rollback()

    assert inside is not None and inside.status == "inactive"
    assert first.service_id not in {offer.service_id for offer in offered}


async def test_unknown_jurisdictions_have_no_offers(seeded: Directory) -> None:
    assert await offers_in(seeded, "atlantis") == []
