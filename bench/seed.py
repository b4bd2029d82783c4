"""Filling intake's database quickly, through intake's own domain and repository, not over HTTP.

`seed_referrals`: each referral is decided by `Referral.submit` under the real policy and saved by
the referral repository (event store, police status view, active-case claim), a thousand to a
transaction, about 200 a second here. `publish=True` runs the API's own handler
(`handlers.submit_referral`) in intake's unit of work, which also writes each referral's outbox
row: that is how the relay's backlog is made; otherwise the unit of work publishes nothing.

`clone_referrals`, for 100,000 referrals (over HTTP, or even through the repository, that would
take longer than the whole benchmark): one referral is saved through the repository, then its rows
are copied in bulk, with a fresh referral id, event ids and RMS case number in each copy. The
copies leave the outbox alone: they stand for history published long ago, which must not flood
the topics now.
"""

import json
import time
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import Table, func, insert, select

from bench.workload import referral, submit_command
from divert_intake.adapters.tables import active_referrals, referral_status
from divert_intake.bootstrap import Intake, bootstrap
from divert_intake.config import IntakeSettings
from divert_intake.domain.referral import Referral, policy_for
from divert_intake.service_layer import handlers
from divert_intake.service_layer.unit_of_work import SqlIntakeUnitOfWork
from divert_platform.cause import Cause
from divert_platform.clock import utcnow
from divert_platform.schema import events

ACTOR = Cause(actor="bench-seed", role="officer", agency="BENCH-PD")


@dataclass(frozen=True)
class Seeded:
    """What a seeding made: referral ids in order, and how long it took."""

    ids: list[str]
    seconds: float

    @property
    def per_second(self) -> float:
        return round(len(self.ids) / self.seconds, 1) if self.seconds else 0.0


async def seed_referrals(
    database_url: str, count: int, *, pathway: str, publish: bool, tag: str, batch: int = 1000
) -> Seeded:
    """Record `count` accepted referrals of the benchmark agency in intake's database."""
    intake = bootstrap(IntakeSettings(database_url=database_url))
    template = submit_command(referral(pathway, f"{tag}-0"), uuid4())
    policy = policy_for(template, intake.policies)
    ids: list[str] = []
    started = time.perf_counter()
    try:
        for first in range(0, count, batch):
            uow = intake.unit_of_work() if publish else _unpublished(intake)
            uow.cause = ACTOR
            async with uow:
                for seq in range(first, min(first + batch, count)):
                    command = replace(
                        template,
                        referral_id=uuid4(),
                        rms=template.rms.model_copy(update={"case_number": f"{tag}-{seq}"}),
                        at=utcnow(),
                    )
                    if publish:
                        await handlers.submit_referral(command, uow)
                    else:
                        await uow.referrals.save(Referral.submit(command, policy))
                    ids.append(str(command.referral_id))
                await uow.commit()
    finally:
        await intake.engine.dispose()
    return Seeded(ids, time.perf_counter() - started)


def _unpublished(intake: Intake) -> SqlIntakeUnitOfWork:
    """Intake's unit of work without its outbox mapper: the referrals are stored, nothing is published."""
    return SqlIntakeUnitOfWork(intake.sessions, intake.settings.event_source, intake.policies)


async def clone_referrals(database_url: str, count: int, *, tag: str, batch: int = 5000) -> Seeded:
    """Record `count` referrals: one through the repository, the rest as copies of its rows."""
    started = time.perf_counter()
    first = await seed_referrals(database_url, 1, pathway="social_contact", publish=False, tag=f"{tag}-t")
    original, original_case = first.ids[0], f"{tag}-t-0"
    intake = bootstrap(IntakeSettings(database_url=database_url))
    ids = list(first.ids)
    try:
        async with intake.sessions() as session:
            template = {
                table: [dict(row._mapping) for row in await session.execute(select(table).where(where))]
                for table, where in (
                    (events, events.c.stream_id == Referral.stream_id(UUID(original))),
                    (referral_status, referral_status.c.referral_id == original),
                    (active_referrals, active_referrals.c.referral_id == original),
                )
            }
        for start in range(1, count, batch):
            copies: dict[Table, list[dict[str, Any]]] = {table: [] for table in template}
            for seq in range(start, min(start + batch, count)):
                new_id = str(uuid4())
                ids.append(new_id)
                swaps = ((original, new_id), (original_case, f"{tag}-{seq}"))
                for table, rows in template.items():
                    copies[table] += [_copy(row, swaps) for row in rows]
            async with intake.sessions() as session, session.begin():
                for table, rows in copies.items():
                    await session.execute(insert(table), rows)
    finally:
        await intake.engine.dispose()
    return Seeded(ids, time.perf_counter() - started)


def _copy(row: dict[str, Any], swaps: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    """A template row for another referral: ids and case number swapped, fresh event id, new position."""
    copy = {}
    for column, value in row.items():
        if column == "position":
            continue  # the event store numbers rows itself
        if column == "event_id":
            copy[column] = str(uuid4())
        elif isinstance(value, str):
            copy[column] = _swap(value, swaps)
        elif isinstance(value, dict):
            copy[column] = json.loads(_swap(json.dumps(value), swaps))
        else:
            copy[column] = value
    return copy


def _swap(text: str, swaps: tuple[tuple[str, str], ...]) -> str:
    for old, new in swaps:
        text = text.replace(old, new)
    return text


async def count_referrals(database_url: str) -> int:
    """How many referrals intake's police status view holds."""
    intake = bootstrap(IntakeSettings(database_url=database_url))
    try:
        async with intake.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(referral_status)) or 0)
    finally:
        await intake.engine.dispose()
