"""The base every integration event derives from: strict to produce, tolerant to read."""

from typing import ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict


class IntegrationEvent(BaseModel):
    """An event published on Kafka: frozen, typed, versioned in its CloudEvents type.

    Every Divert event concerns one referral; its id is the Kafka key and the CloudEvents subject,
    so all events of a referral stay in order on one partition of each topic.

    Strict to produce, tolerant to read: building an event with a field its model does not declare
    fails (`extra="forbid"`), while `codec.decode` ignores such fields, so an additive change (a new
    optional field) keeps the version and readers that were not upgraded keep working. The rules
    of an additive change are in `divert_contracts.evolution`; every published revision of the
    schema is kept in `published/` (`divert_contracts.revisions`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    """CloudEvents `type`, `org.divert.<aggregate>.<event>.v<N>`."""
    topic: ClassVar[str]
    """The topic the event is published on."""

    referral_id: UUID

    @property
    def cloudevent_subject(self) -> str:
        """CloudEvents `subject`: the referral this event is about."""
        return f"referrals/{self.referral_id}"

    @property
    def partition_key(self) -> str:
        """The Kafka message key."""
        return str(self.referral_id)


class ContractModel(BaseModel):
    """A value object nested inside an event: strict to build, tolerant to read, like the event."""

    model_config = ConfigDict(frozen=True, extra="forbid")
