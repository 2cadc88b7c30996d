"""The raffles part of ``wagerkit demo``: an open raffle with tickets sold and a drawn one.

Idempotent like the rest of the demo: categories and raffles are found by name, purchases
carry idempotency keys, and a raffle already closed or drawn is left as it is."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wagerkit import Actor, Raffle, RaffleCategory, User, WagerKit

__all__ = ["DEMO_RAFFLES", "seed_raffle_demo"]

# (raffle name, category (name, price, capacity, winners, split, rake bps), buys
# (username, chosen numbers, key), drawn with this public value or None: left open).
# Chosen numbers and a fixed public value keep the demo's winners (and balances) the same.
DEMO_RAFFLES = [
    (
        "Demo: weekly raffle",
        ("Demo gold", 5, 100, 3, (50, 30, 20), 1000),
        [("demo-alice", (7, 12, 33), "demo-raffle-1"), ("demo-bob", (42, 77), "demo-raffle-2")],
        None,
    ),
    (
        "Demo: lightning raffle",
        ("Demo silver", 10, 10, 1, (), 500),
        [
            ("demo-alice", (1, 2), "demo-raffle-3"),
            ("demo-bob", (3, 4), "demo-raffle-4"),
            ("demo-carol", (5,), "demo-raffle-5"),
        ],
        "demo public value: 2026-01-01 lottery 48213",
    ),
]


#: a demo category: name, price, capacity, winners, split, rake bps
CategorySpec = tuple[str, int, int, int, tuple[int, ...], int]


async def _category(kit: WagerKit, actor: Actor, spec: CategorySpec) -> RaffleCategory:
    from wagerkit import PrizeMode, RaffleCategoryDraft

    name, price, capacity, winners, split, rake = spec
    for c in await kit.raffles.list_categories():
        if c.name == name:
            return c
    return await kit.raffles.create_category(
        actor,
        RaffleCategoryDraft(name, price, capacity, winners, rake, split, PrizeMode.PROPORTIONAL),
    )


async def seed_raffle_demo(kit: WagerKit, actor: Actor, users: dict[str, User]) -> list[Raffle]:
    """Create (or find) the demo raffles; returns them as they stand."""
    from wagerkit import Actor as A
    from wagerkit import RaffleDraft, RaffleStatus

    out: list[Raffle] = []
    existing = {r.name: r for r in await kit.raffles.list_raffles(limit=500)}
    for name, spec, buys, value in DEMO_RAFFLES:
        raffle = existing.get(name)
        if raffle is None:
            c = await _category(kit, actor, spec)
            now = kit.deps.clock.now()
            raffle = await kit.raffles.create(
                actor, RaffleDraft(name, c.id, now, now + timedelta(days=7))
            )
        if raffle.status is RaffleStatus.OPEN:
            for username, numbers, key in buys:
                await kit.raffles.buy(
                    A.of(users[username]), raffle.id, numbers=numbers, idempotency_key=key
                )
            if value is not None:
                await kit.raffles.close(actor, raffle.id, reason="demo")
        if value is not None and (await kit.raffles.get(raffle.id)).status is RaffleStatus.CLOSED:
            await kit.raffles.draw(actor, raffle.id, public_value=value, reason="demo")
        out.append(await kit.raffles.get(raffle.id))
    return out
