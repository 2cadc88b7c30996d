"""Embed wagerkit in an app: the use cases on the in-memory store, no database server.

Swap ``InMemoryStore()`` for ``SqlStore.from_url("sqlite:///wagerkit.db")`` (after
``wagerkit db upgrade``) to keep the books on disk; nothing else changes.

    python examples/embed.py
"""

import asyncio

from wagerkit import Actor, InsufficientFunds, WagerKit
from wagerkit.testing import InMemoryStore


async def main() -> None:
    kit = WagerKit(InMemoryStore())  # welcome grant: 1000 COIN per new user
    operator = Actor.system("bot")
    alice = await kit.users.add(operator, "Alice")
    bob = await kit.users.add(operator, "Bob")

    # a player moves its own money; the key makes a retry harmless
    t = await kit.wallets.transfer(Actor.of(alice), alice.id, bob.id, 250, idempotency_key="gift-1")
    again = await kit.wallets.transfer(
        Actor.of(alice), alice.id, bob.id, 250, idempotency_key="gift-1"
    )
    assert again == t  # the first result, nothing moved twice

    try:
        await kit.wallets.transfer(Actor.of(alice), alice.id, bob.id, 10_000)
    except InsufficientFunds as exc:
        print(f"refused: {exc.code}")

    hold = await kit.wallets.hold(operator, bob.id, 300, timeout_seconds=600)
    await kit.wallets.post(operator, hold.id, 120)  # take 120, release the other 180

    for user in (alice, bob):
        w = await kit.wallets.balance(Actor.of(user), user.id)
        print(f"{user.display_name}: {w.balance} {w.currency} (available {w.available})")
    page = await kit.wallets.statement(Actor.of(bob), bob.id)
    for e in page.entries:
        print(f"  #{e.seq} {e.code:<8} {e.kind.value:<7} {e.amount:+6} -> {e.balance_after}")
    assert all(total.conserved for total in await kit.wallets.totals(operator))


if __name__ == "__main__":
    asyncio.run(main())
