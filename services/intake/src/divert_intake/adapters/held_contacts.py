"""The details held for referrals waiting at an approval gate, in intake's database (`HeldContacts`)."""

from uuid import UUID

from sqlalchemy import delete, insert, select

from divert_intake.adapters.tables import held_contacts
from divert_intake.domain.events import HeldContact
from divert_platform.clock import utcnow
from divert_platform.unit_of_work import SqlUnitOfWork


class SqlHeldContacts:
    """`held_contacts` rows, written and deleted in the unit of work's transaction."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    async def hold(self, referral_id: UUID, held: HeldContact) -> None:
        """Keep the details of a referral that starts waiting."""
        row = {"referral_id": str(referral_id), "contact": held.model_dump(mode="json"), "held_at": utcnow()}
        await self._uow.session.execute(insert(held_contacts), row)

    async def get(self, referral_id: UUID) -> HeldContact | None:
        """The details kept for a waiting referral, or None."""
        query = select(held_contacts.c.contact).where(held_contacts.c.referral_id == str(referral_id))
        contact = await self._uow.session.scalar(query)
        return None if contact is None else HeldContact.model_validate(contact)

    async def release(self, referral_id: UUID) -> None:
        """Delete them: the referral was decided or withdrawn."""
        await self._uow.session.execute(delete(held_contacts).where(held_contacts.c.referral_id == str(referral_id)))
