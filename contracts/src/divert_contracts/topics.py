"""Kafka topic names and their partition counts, the single source for relays, consumers and deploy."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    """A topic Divert publishes to, with the partitions it is created with."""

    name: str
    partitions: int

    @property
    def dead_letter(self) -> "Topic":
        """The topic that receives this topic's undecodable messages (`<topic>.dlq`)."""
        return Topic(f"{self.name}.dlq", 1)


REFERRALS = Topic("divert.referrals", 6)
CASES = Topic("divert.cases", 6)
WARRANTS = Topic("divert.warrants", 3)
DIRECTORY = Topic("divert.directory", 3)

ALL_TOPICS: tuple[Topic, ...] = (REFERRALS, CASES, WARRANTS, DIRECTORY)


def by_name(name: str) -> Topic:
    """Return the declared topic called `name` (a `.dlq` name gives the dead-letter topic)."""
    for topic in ALL_TOPICS:
        if topic.name == name:
            return topic
        if topic.dead_letter.name == name:
            return topic.dead_letter
    raise KeyError(name)
