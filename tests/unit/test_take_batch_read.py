"""The take batch's one read (``read_take_batch``) on every store: the orders with their takes,
the wallet and house account ids and the users asked for, exactly as the separate reads give
them; and a take with an access token is admitted or refused from that read (a ban or a
password change refuses it, moving nothing)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from builders import assert_conserved

from wagerkit import Actor, WagerKit
from wagerkit.domain.errors import AccountBanned, TokenInvalid
from wagerkit.domain.ledger import AccountKind
from wagerkit.domain.refs import user_ref
from wagerkit.services.identity import password_version
from wagerkit.testing import FixedClock

SYSTEM = Actor.system()


async def test_the_batch_read_returns_what_the_separate_reads_do(token_kit: WagerKit) -> None:
    client = await token_kit.users.add(SYSTEM, "Client")
    ann = await token_kit.users.add(SYSTEM, "Ann", username="ann")
    bob = await token_kit.users.add(SYSTEM, "Bob")
    me = Actor.of(client)
    first = (await token_kit.orders.create(me, "plumbing", "Moscow", "job 1", "+7-1")).order.id
    second = (await token_kit.orders.create(me, "plumbing", "Moscow", "job 2", "+7-2")).order.id
    async with token_kit.deps.uow() as uow:
        view = await uow.orders.read_take_batch([first], [(first, user_ref(ann.id))], "system")
        assert view.takes == {}
        assert view.houses == {}  # nothing taken yet: no house account
    await token_kit.orders.take(Actor.of(ann), first)
    async with token_kit.deps.uow() as uow:
        full = replace(ann, password_hash="$argon2id$x", email="ann@example.org", telegram_id=7)
        await uow.users.update(full)
        await uow.commit()
    wanted = [first, second, "AAAAAAAAAAAA"]  # a third that does not exist
    wallets = [(o, user_ref(u.id)) for o in (first, second) for u in (ann, bob)]
    async with token_kit.deps.uow() as uow:
        view = await uow.orders.read_take_batch(
            wanted, wallets, "system", [ann.id, bob.id, 999_999]
        )
        assert view.orders == await uow.orders.get_many(wanted)
        assert view.takes == await uow.orders.takes_of(wanted)
        assert [t.executor_id for t in view.takes[first]] == [ann.id]
        expected = {}
        for u in (ann, bob):
            wallet = await uow.ledger.find_account(AccountKind.USER, user_ref(u.id), "COIN")
            assert wallet is not None
            expected[(user_ref(u.id), "COIN")] = wallet.id
        assert view.wallets == expected
        house = await uow.ledger.find_account(AccountKind.HOUSE, "system", "COIN")
        assert house is not None
        assert view.houses == {"COIN": house.id}
        assert view.users == {ann.id: await uow.users.get(ann.id), bob.id: bob}
        empty = await uow.orders.read_take_batch([], [], "system")
        assert (empty.orders, empty.takes, empty.wallets, empty.houses, empty.users) == (
            {},
            {},
            {},
            {},
            {},
        )


async def test_a_token_take_is_admitted_from_the_batch_read(
    token_kit: WagerKit, clock: FixedClock
) -> None:
    client = await token_kit.users.add(SYSTEM, "Client")
    ann = await token_kit.users.add(SYSTEM, "Ann")
    me = Actor.of(client)
    ids = [
        (await token_kit.orders.create(me, "plumbing", "Moscow", f"job {i}", f"+7-{i}")).order.id
        for i in range(3)
    ]
    assert token_kit.deps.tokens is not None
    token = token_kit.deps.tokens.issue(ann.id, now=clock.now(), version=password_version(ann))
    r = await token_kit.orders.take_with_token(token, ids[0], idempotency_key="k1")
    assert (r.contact, r.fee, r.replayed) == ("+7-0", 2, False)
    again = await token_kit.orders.take_with_token(token, ids[0], idempotency_key="k2")
    assert (again.contact, again.replayed) == ("+7-0", True)
    await token_kit.identity.ban(SYSTEM, ann.id, "spam")
    with pytest.raises(AccountBanned):
        await token_kit.orders.take_with_token(token, ids[1])
    other = token_kit.deps.tokens.issue(999_999, now=clock.now(), version="x")
    with pytest.raises(TokenInvalid):  # a user that does not exist
        await token_kit.orders.take_with_token(other, ids[2])
    assert (await token_kit.wallets.balance(SYSTEM, ann.id)).balance == 1000 - 2
    for oid, takers in zip(ids, (1, 0, 0), strict=True):
        assert (await token_kit.orders.get(None, oid)).order.takers == takers
    await assert_conserved(token_kit)
