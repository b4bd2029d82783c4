"""The rule by which a relay knows the broker lost a topic: fewer records than rows published to it."""

from divert_platform.replay import lost_topics


def test_a_topic_holding_every_published_row_is_intact() -> None:
    assert lost_topics({"divert.referrals": 5}, {"divert.referrals": 5}) == []


def test_more_records_than_rows_is_intact_re_sends_and_other_producers_add_records() -> None:
    assert lost_topics({"divert.referrals": 5}, {"divert.referrals": 9}) == []


def test_fewer_records_than_rows_means_the_topic_was_re_created() -> None:
    assert lost_topics({"divert.referrals": 5, "divert.cases": 2}, {"divert.referrals": 2, "divert.cases": 2}) == [
        "divert.referrals"
    ]


def test_a_topic_the_broker_does_not_have_is_lost() -> None:
    assert lost_topics({"divert.cases": 1, "divert.referrals": 3}, {}) == ["divert.cases", "divert.referrals"]


def test_nothing_published_means_nothing_to_lose() -> None:
    assert lost_topics({}, {"divert.referrals": 0}) == []
