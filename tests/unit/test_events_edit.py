"""Editing an event before its first bet: defaults follow, explicit times stay."""

from __future__ import annotations

from datetime import timedelta

import pytest

from wagerkit.domain import Actor
from wagerkit.domain.errors import InvalidInput
from wagerkit.domain.events import EventDraft, EventStatus
from wagerkit.services import EventChanges, WagerKit
from wagerkit.testing import FixedClock, InMemoryStore

OP = Actor.system("op")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def kit(clock: FixedClock) -> WagerKit:
    return WagerKit(InMemoryStore(), clock=clock)


async def test_a_new_start_time_moves_default_lock_and_deadline(
    kit: WagerKit, clock: FixedClock
) -> None:
    start = clock.now() + timedelta(hours=2)
    ev = await kit.events.create(OP, EventDraft("Match", ("A", "B"), start))
    later = start + timedelta(days=2)
    ev = await kit.events.edit(OP, ev.id, EventChanges(start_time=later))
    assert ev.betting_locked_at == later
    assert ev.settle_deadline == later + timedelta(hours=24)


async def test_explicit_lock_time_and_deadline_survive_a_start_change(
    kit: WagerKit, clock: FixedClock
) -> None:
    start = clock.now() + timedelta(hours=2)
    lock = start - timedelta(minutes=5)
    deadline = start + timedelta(hours=3)
    ev = await kit.events.create(
        OP, EventDraft("Match", ("A", "B"), start, betting_locked_at=lock, settle_deadline=deadline)
    )
    ev = await kit.events.edit(OP, ev.id, EventChanges(start_time=start + timedelta(hours=1)))
    assert ev.betting_locked_at == lock
    assert ev.settle_deadline == deadline


async def test_an_open_event_cannot_be_edited_to_close_in_the_past(
    kit: WagerKit, clock: FixedClock
) -> None:
    start = clock.now() + timedelta(hours=2)
    ev = await kit.events.create(
        OP, EventDraft("Match", ("A", "B"), start, status=EventStatus.OPEN)
    )
    with pytest.raises(InvalidInput):
        await kit.events.edit(
            OP, ev.id, EventChanges(betting_locked_at=clock.now() - timedelta(minutes=1))
        )
    assert (await kit.events.get(ev.id)).betting_locked_at == start
