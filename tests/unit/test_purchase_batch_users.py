"""The purchase batch reads its access-token buyers in the batch's own read
(``read_purchase_batch``'s ``users``; a statement of its own before): every store returns them
exactly as ``users.get`` does, and a token purchase is admitted or refused from that read (a
ban refuses it, moving nothing)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from builders import assert_conserved, users_with_every_field

from wagerkit import Actor, PrizeMode, RaffleCategoryDraft, RaffleDraft, Role, WagerKit
from wagerkit.domain.errors import AccountBanned, TokenInvalid
from wagerkit.services.identity import password_version
from wagerkit.testing import FixedClock

OPERATOR = Actor(None, Role.OPERATOR, "op")


async def test_the_batch_read_returns_users_as_users_get_does(token_kit: WagerKit) -> None:
    ann, bob = await users_with_every_field(token_kit)
    async with token_kit.deps.uow() as uow:
        view = await uow.raffles.read_purchase_batch([], [], [], [], {}, 0, [ann.id, bob.id, 999])
        assert view.users == {
            ann.id: await uow.users.get(ann.id),
            bob.id: await uow.users.get(bob.id),
        }
        assert (await uow.raffles.read_purchase_batch([], [], [], [], {}, 0)).users == {}


async def test_a_token_purchase_is_admitted_from_the_batch_read(
    token_kit: WagerKit, clock: FixedClock
) -> None:
    system = Actor.system()
    ann = await token_kit.users.add(system, "Ann")
    c = await token_kit.raffles.create_category(
        OPERATOR, RaffleCategoryDraft("Tokens", 10, 100, 1, 0, (), PrizeMode.PROPORTIONAL)
    )
    now = clock.now()
    r = await token_kit.raffles.create(
        OPERATOR, RaffleDraft("tokens", c.id, now, now + timedelta(1))
    )
    assert token_kit.deps.tokens is not None
    token = token_kit.deps.tokens.issue(ann.id, now=clock.now(), version=password_version(ann))
    bought = await token_kit.raffles.buy_with_token(token, r.id, numbers=[7], idempotency_key="k1")
    assert [t.number for t in bought.tickets] == [7]
    await token_kit.identity.ban(system, ann.id, "spam")
    with pytest.raises(AccountBanned):
        await token_kit.raffles.buy_with_token(token, r.id, numbers=[8], idempotency_key="k2")
    other = token_kit.deps.tokens.issue(999_999, now=clock.now(), version="x")
    with pytest.raises(TokenInvalid):  # a user that does not exist
        await token_kit.raffles.buy_with_token(other, r.id, numbers=[9], idempotency_key="k3")
    assert (await token_kit.raffles.get(r.id)).sold == 1  # the refused purchases moved nothing
    await assert_conserved(token_kit)
