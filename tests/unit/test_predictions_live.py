"""The predictions area's live updates: ``round_update`` to the round's and the symbol's
rooms (pool changes coalesced, status changes at once), ``contract_result`` to the owner's
room, and ``balance_update`` after wallet changes."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from wagerkit import Actor, PredictionPolicy, Tick, WagerKit
from wagerkit.realtime import BALANCE_UPDATE, CONTRACT_RESULT, ROUND_UPDATE
from wagerkit.testing import FixedClock, InMemoryStore


class Sink:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any], str]] = []

    async def send(self, name: str, data: dict[str, Any], room: str) -> None:
        self.sent.append((name, data, room))

    async def disconnect(self, room: str) -> None:
        pass

    def listening(self, room: str) -> bool:
        return True  # every room has a watcher


async def test_rounds_results_and_balances_go_live() -> None:
    clock = FixedClock()
    clock.set(clock.now().replace(second=0))
    sink = Sink()
    kit = WagerKit(
        InMemoryStore(),
        clock=clock,
        realtime=sink,  # type: ignore[arg-type]
        realtime_coalesce=0,
        predictions=PredictionPolicy(
            durations=(60,), round_interval=60, round_symbols=("BTC-USD",)
        ),
    )
    a = await kit.users.add(Actor.system(), "A")
    b = await kit.users.add(Actor.system(), "B")
    sink.sent.clear()
    await kit.jobs.tick()
    (r,) = await kit.predictions.current_rounds()
    assert tuple(room for n, _, room in sink.sent if n == ROUND_UPDATE) == (
        "round:1",
        "rounds:BTC-USD",
    )
    sink.sent.clear()
    await kit.predictions.bet_round(Actor.of(a), r.id, "up", 10)
    await kit.predictions.bet_round(Actor.of(b), r.id, "down", 30)
    updates = [d for n, d, room in sink.sent if n == ROUND_UPDATE and room == "round:1"]
    assert updates[-1]["pool"]["total"] == 40
    assert (BALANCE_UPDATE, f"user:{a.id}") in [(n, room) for n, _, room in sink.sent]
    async with kit.deps.uow() as uow:
        await uow.prices.add_ticks([Tick("BTC-USD", clock.now(), Decimal(100), "operator")])
        await uow.commit()
    c = (await kit.predictions.place(Actor.of(a), "BTC-USD", "up", 10, duration=60)).contract
    clock.advance(60)
    sink.sent.clear()
    async with kit.deps.uow() as uow:
        await uow.prices.add_ticks([Tick("BTC-USD", clock.now(), Decimal(101), "operator")])
        await uow.commit()
    await kit.jobs.tick()  # the round locks at 101, the contract wins
    locked = [d for n, d, room in sink.sent if n == ROUND_UPDATE and room == "round:1"]
    assert locked[-1]["status"] == "locked"
    assert locked[-1]["lock_price"] == "101"
    (result,) = [(d, room) for n, d, room in sink.sent if n == CONTRACT_RESULT]
    assert result[1] == f"user:{a.id}"
    assert (result[0]["id"], result[0]["status"], result[0]["result"], result[0]["profit"]) == (
        c.id,
        "won",
        "W",
        8,
    )
    clock.advance(60)
    async with kit.deps.uow() as uow:
        await uow.prices.add_ticks(
            [Tick("BTC-USD", clock.now() + timedelta(seconds=1), Decimal(99), "operator")]
        )
        await uow.commit()
    clock.advance(2)
    sink.sent.clear()
    await kit.jobs.tick()
    final = [d for n, d, room in sink.sent if n == ROUND_UPDATE and room == "round:1"]
    assert (final[-1]["status"], final[-1]["winner"], final[-1]["close_price"]) == (
        "settled",
        "down",
        "99",
    )
    assert (BALANCE_UPDATE, f"user:{b.id}") in [(n, room) for n, _, room in sink.sent]
