"""The job runner runs the due-work sources it was built with, in order, and reports each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pytest

from wagerkit import WagerKit
from wagerkit.services import JobService
from wagerkit.services.jobs import EventsDue, HoldsDue
from wagerkit.testing import FixedClock, InMemoryStore


@dataclass(slots=True)
class Drawn:
    raffles: list[int]

    @property
    def idle(self) -> bool:
        return not self.raffles


class Raffles:
    """A toy area: each pass draws whatever is due, at most ``limit`` at a time."""

    name = "raffles"

    def __init__(self, due: list[int], seen: list[tuple[str, datetime, int]]) -> None:
        self.due = due
        self.seen = seen

    async def run_due(self, now: datetime, limit: int) -> Drawn:
        self.seen.append((self.name, now, limit))
        drawn, self.due = self.due[:limit], self.due[limit:]
        return Drawn(drawn)


async def test_a_new_area_adds_its_source_and_its_part_of_the_report() -> None:
    clock = FixedClock()
    kit = WagerKit(InMemoryStore(), clock=clock)
    seen: list[tuple[str, datetime, int]] = []
    # the real raffles source stands aside for this stand-in of a new area
    base = [s for s in kit.jobs.sources if s.name != "raffles"]
    jobs = JobService(kit.deps, [*base, Raffles([4, 5, 6], seen)])
    report = await jobs.tick(limit=2)
    assert [s.name for s in jobs.sources] == [
        "prices",
        "events",
        "holds",
        "predictions",
        "orders",
        "raffles",
    ]
    assert seen == [("raffles", clock.now(), 2)]
    assert isinstance(report.parts["events"], EventsDue)
    assert isinstance(report.parts["holds"], HoldsDue)
    assert report.parts["raffles"] == Drawn([4, 5])
    assert (report.locked, report.voided, report.resumed, report.expired_holds) == ([], [], [], 0)
    assert not report.idle
    assert (await jobs.tick(limit=2)).parts["raffles"] == Drawn([6])
    assert (await jobs.tick(limit=2)).idle


async def test_two_sources_of_one_name_are_refused() -> None:
    kit = WagerKit(InMemoryStore())
    with pytest.raises(ValueError, match="distinct names"):
        JobService(kit.deps, [Raffles([], []), Raffles([], [])])


async def test_without_an_events_source_the_events_fields_are_empty() -> None:
    kit = WagerKit(InMemoryStore())
    report = await JobService(kit.deps, [Raffles([1], [])]).tick()
    assert (report.locked, report.voided, report.resumed, report.expired_holds) == ([], [], [], 0)
    assert not report.idle
