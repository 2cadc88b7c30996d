"""Shared test helpers: scenario checks every test can end with."""

from __future__ import annotations

from wagerkit import Actor, WagerKit


async def assert_conserved(kit: WagerKit) -> None:
    """Money is never created or lost, and no user wallet is below zero."""
    for t in await kit.wallets.totals(Actor.system()):
        assert t.conserved, t
    async with kit.deps.uow() as uow:
        users = await uow.users.list(limit=1000)
        for u in users:
            for acc in await uow.ledger.accounts_of(u.owner_ref):
                assert acc.balance >= 0, acc
                assert acc.available >= 0, acc
