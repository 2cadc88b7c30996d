"""Shared test helpers: scenario checks every test can end with."""

from __future__ import annotations

from dataclasses import replace

from wagerkit import Actor, User, WagerKit


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


async def users_with_every_field(kit: WagerKit) -> tuple[User, User]:
    """Ann, with every optional field of a user set (username, password hash, email, Telegram
    id), and Bob, with none: a batch read's users must come back exactly as ``users.get``
    gives them."""
    ann = await kit.users.add(Actor.system(), "Ann", username="ann")
    bob = await kit.users.add(Actor.system(), "Bob")
    async with kit.deps.uow() as uow:
        full = replace(ann, password_hash="$argon2id$x", email="ann@example.org", telegram_id=77)
        await uow.users.update(full)
        await uow.commit()
    return full, bob
