"""The bet batch reads its access-token bettors in the batch's own read (``read_bet_batch``'s
``users``): every store returns them exactly as ``users.get`` does, and a token bet is admitted
or refused from that read (a ban or a password change refuses it, moving nothing)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from builders import assert_conserved, users_with_every_field

from wagerkit import Actor, WagerKit
from wagerkit.domain.errors import AccountBanned, TokenInvalid
from wagerkit.domain.events import EventDraft, EventStatus
from wagerkit.services.identity import password_version
from wagerkit.testing import FixedClock


async def test_the_batch_read_returns_users_as_users_get_does(token_kit: WagerKit) -> None:
    ann, bob = await users_with_every_field(token_kit)
    async with token_kit.deps.uow() as uow:
        view = await uow.events.read_bet_batch([], [], [], [], [ann.id, bob.id, 999_999])
        assert view.users == {
            ann.id: await uow.users.get(ann.id),
            bob.id: await uow.users.get(bob.id),
        }
        assert (await uow.events.read_bet_batch([], [], [])).users == {}


async def test_a_token_bet_is_admitted_from_the_batch_read(
    token_kit: WagerKit, clock: FixedClock
) -> None:
    system = Actor.system()
    ann = await token_kit.users.add(system, "Ann")
    ev = await token_kit.events.create(
        system,
        EventDraft(
            title="Batch users",
            outcomes=("a", "b"),
            start_time=clock.now() + timedelta(days=1),
            allow_topup=True,
            status=EventStatus.OPEN,
        ),
    )
    assert token_kit.deps.tokens is not None
    token = token_kit.deps.tokens.issue(ann.id, now=clock.now(), version=password_version(ann))
    outcome = ev.outcomes[0].id
    receipt = await token_kit.events.place_bet_with_token(
        token, ev.id, outcome, 10, idempotency_key="k1"
    )
    assert receipt.bet.amount == 10
    await token_kit.identity.ban(system, ann.id, "spam")
    with pytest.raises(AccountBanned):
        await token_kit.events.place_bet_with_token(token, ev.id, outcome, 10, idempotency_key="k2")
    other = token_kit.deps.tokens.issue(999_999, now=clock.now(), version="x")
    with pytest.raises(TokenInvalid):  # a user that does not exist
        await token_kit.events.place_bet_with_token(other, ev.id, outcome, 10, idempotency_key="k3")
    mine = await token_kit.events.bets(system, user_id=ann.id)
    assert [b.amount for b in mine] == [10]  # the refused bets moved nothing
    await assert_conserved(token_kit)
