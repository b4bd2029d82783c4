"""Retention settings: the defaults, and the periods a service refuses to start with."""

from datetime import timedelta

import pytest
from pydantic import ValidationError

from divert_platform.retention import Retention
from divert_platform.settings import ServiceSettings


def test_the_defaults_keep_each_kind_for_its_documented_period() -> None:
    settings = ServiceSettings()

    assert Retention.from_settings(settings) == Retention(
        idempotency=timedelta(days=7),
        inbox=timedelta(days=180),
        outbox=timedelta(days=90),
        audit=timedelta(days=2192),
        callbacks=timedelta(days=30),
    )
    assert settings.dead_letter_retention_ms == 30 * 24 * 60 * 60 * 1000
    # the inbox outlives every copy of an event: its outbox row, then the broker's record of a last re-send
    assert settings.retention_inbox_days >= settings.retention_outbox_days + settings.retention_topic_days


@pytest.mark.parametrize(
    ("inbox", "outbox", "topic"),
    [(96, 90, 7), (30, 30, 1), (7, 1, 7)],
)
def test_an_inbox_purged_before_its_events_can_no_longer_come_again_is_refused(
    inbox: int, outbox: int, topic: int
) -> None:
    with pytest.raises(ValidationError, match="DIVERT_RETENTION_INBOX_DAYS"):
        ServiceSettings(retention_inbox_days=inbox, retention_outbox_days=outbox, retention_topic_days=topic)


def test_an_inbox_kept_exactly_as_long_as_needed_is_accepted() -> None:
    settings = ServiceSettings(retention_inbox_days=97, retention_outbox_days=90, retention_topic_days=7)

    assert settings.retention_inbox_days == 97


@pytest.mark.parametrize(
    "setting",
    [
        {"retention_audit_days": 364},  # below the CJIS Security Policy's year
        {"retention_idempotency_days": 0},
        {"retention_dead_letter_days": 0},
    ],
)
def test_periods_below_their_floor_are_refused(setting: dict[str, int]) -> None:
    with pytest.raises(ValidationError):
        ServiceSettings(**setting)


def test_the_periods_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIVERT_RETENTION_AUDIT_DAYS", "2557")
    monkeypatch.setenv("DIVERT_RETENTION_DEAD_LETTER_DAYS", "14")

    settings = ServiceSettings()

    assert Retention.from_settings(settings).audit == timedelta(days=2557)
    assert settings.dead_letter_retention_ms == 14 * 86_400_000
