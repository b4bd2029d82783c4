"""Kafka topics: names, partition counts and the one service that produces each.

The single source for relays, consumers, deploy (topic creation and ACLs) and the consumers'
provenance check: a record on a topic is applied only when its CloudEvents `source` is the
topic's producer (`Topic.source`) and its `type` is one the topic carries
(`divert_contracts.dataplane`).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    """A topic Divert publishes to, with the partitions it is created with and who produces it."""

    name: str
    partitions: int
    producer: str = ""
    """The service (`divert-<producer>`) whose relay alone writes this topic; empty for a
    dead-letter topic, which every consumer of its source topic writes."""

    @property
    def source(self) -> str:
        """The CloudEvents `source` of every event on this topic: its producer's."""
        return f"/divert/{self.producer}"

    @property
    def dead_letter(self) -> "Topic":
        """The topic that receives this topic's unusable records (`<topic>.dlq`)."""
        return Topic(f"{self.name}.dlq", 1)


REFERRALS = Topic("divert.referrals", 6, producer="intake")
CASES = Topic("divert.cases", 6, producer="assessment")
CASE_MILESTONES = Topic("divert.case-milestones", 6, producer="assessment")
"""Status milestones of a case (opened, assessed, enrolled, closed) and nothing of its content:
the one case topic enforcement-side services may read (docs/access.md#golden-rule)."""
WARRANTS = Topic("divert.warrants", 3, producer="warrants")
DIRECTORY = Topic("divert.directory", 3, producer="directory")

ALL_TOPICS: tuple[Topic, ...] = (REFERRALS, CASES, CASE_MILESTONES, WARRANTS, DIRECTORY)


def by_name(name: str) -> Topic:
    """Return the declared topic called `name` (a `.dlq` name gives the dead-letter topic)."""
    for topic in ALL_TOPICS:
        if topic.name == name:
            return topic
        if topic.dead_letter.name == name:
            return topic.dead_letter
    raise KeyError(name)
