"""The contract placement batch reads what it decides on in one read
(``read_placement_batch``): every store returns exactly what the separate reads return
(exposure rows, replays, latest ticks, account ids, users), and a token placement is admitted
or refused from that read (a ban or an unknown user refuses it, moving nothing)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from builders import assert_conserved

from wagerkit import Actor, PredictionPolicy, Role, WagerKit
from wagerkit.adapters.tokens import JwtTokenService
from wagerkit.domain.errors import AccountBanned, TokenInvalid
from wagerkit.domain.ledger import AccountKind
from wagerkit.domain.prices import Tick
from wagerkit.domain.refs import user_ref
from wagerkit.ports import UnitOfWorkFactory
from wagerkit.services.identity import password_version
from wagerkit.testing import FixedClock, SequentialIds

SECRET = "p" * 48
SYSTEM = Actor.system()


@pytest.fixture
def kit(store: UnitOfWorkFactory, clock: FixedClock) -> WagerKit:
    tokens = JwtTokenService(SECRET, lifetime=timedelta(hours=1))
    policy = PredictionPolicy(durations=(60,), max_age=timedelta(hours=1))
    return WagerKit(store, clock=clock, ids=SequentialIds(), tokens=tokens, predictions=policy)


async def _tick(kit: WagerKit, symbol: str, at_offset: int, price: str) -> None:
    at = kit.deps.clock.now() + timedelta(seconds=at_offset)
    async with kit.deps.uow() as uow:
        await uow.prices.add_ticks([Tick(symbol, at, Decimal(price), "operator")])
        await uow.commit()


async def test_the_batch_read_returns_what_the_separate_reads_return(
    kit: WagerKit, clock: FixedClock
) -> None:
    ann = await kit.users.add(SYSTEM, "Ann")
    bob = await kit.users.add(SYSTEM, "Bob")
    await _tick(kit, "BTC-USD", -20, "100.5")
    await _tick(kit, "BTC-USD", -10, "101.25")
    await _tick(kit, "BTC-USD", 10, "999")  # after now: not the latest at now
    placed = await kit.predictions.place(
        Actor(ann.id, Role.PLAYER), "BTC-USD", "up", 10, duration=60, idempotency_key="k"
    )
    cur = kit.predictions.policy.currency
    now = clock.now()
    wanted = [
        (AccountKind.USER.value, user_ref(ann.id)),
        (AccountKind.USER.value, user_ref(bob.id)),
        (AccountKind.USER.value, user_ref(999_999)),  # no such wallet
        (AccountKind.HOUSE.value, "system"),
    ]
    stake = placed.contract.stake_transfer_id
    async with kit.deps.uow() as uow:
        view = await uow.predictions.read_placement_batch(
            cur, ["BTC-USD", "ETH-USD"], [stake, "no-such"], wanted, [ann.id, 999_999], now, 3
        )
        wallet = await uow.ledger.find_account(AccountKind.USER, user_ref(ann.id), cur)
        bobs = await uow.ledger.find_account(AccountKind.USER, user_ref(bob.id), cur)
        house = await uow.ledger.find_account(AccountKind.HOUSE, "system", cur)
        assert wallet is not None
        assert bobs is not None
        assert house is not None
        assert view.exposure == {"*": placed.contract.max_payout, "BTC-USD": 18}
        assert view.contracts == await uow.predictions.by_stake_ids([stake])
        assert view.contracts[stake] == placed.contract
        assert view.ticks == {"BTC-USD": await uow.prices.latest("BTC-USD", now)}
        assert view.ticks["BTC-USD"].price == Decimal("101.25")
        assert view.accounts == {wanted[0]: wallet.id, wanted[1]: bobs.id, wanted[3]: house.id}
        assert view.users == {ann.id: await uow.users.get(ann.id)}
        assert len(view.contract_ids) in (0, 3)  # reserved on PostgreSQL only
        assert len(set(view.contract_ids)) == len(view.contract_ids)
        assert placed.contract.id not in view.contract_ids
        # the missing ETH-USD row is not created by the read
        assert len(await uow.predictions.exposure()) == 2


async def test_a_token_placement_is_admitted_from_the_batch_read(
    kit: WagerKit, clock: FixedClock
) -> None:
    ann = await kit.users.add(SYSTEM, "Ann")
    await _tick(kit, "BTC-USD", -1, "100")
    assert kit.deps.tokens is not None
    token = kit.deps.tokens.issue(ann.id, now=clock.now(), version=password_version(ann))
    first = await kit.predictions.place_with_token(
        token, "BTC-USD", "up", 10, duration=60, idempotency_key="k1"
    )
    assert first.contract.user_id == ann.id
    again = await kit.predictions.place_with_token(
        token, "BTC-USD", "up", 10, duration=60, idempotency_key="k1"
    )
    assert again.replayed
    assert again.contract == first.contract
    await kit.identity.ban(SYSTEM, ann.id, "spam")
    with pytest.raises(AccountBanned):
        await kit.predictions.place_with_token(
            token, "BTC-USD", "up", 10, duration=60, idempotency_key="k2"
        )
    other = kit.deps.tokens.issue(999_999, now=clock.now(), version="x")
    with pytest.raises(TokenInvalid):  # a user that does not exist
        await kit.predictions.place_with_token(
            other, "BTC-USD", "up", 10, duration=60, idempotency_key="k3"
        )
    mine = await kit.predictions.list_contracts(SYSTEM, user_id=ann.id)
    assert [c.id for c in mine] == [first.contract.id]  # the refused ones moved nothing
    rows = await kit.predictions.exposure(SYSTEM)
    assert {r.symbol: r.exposure for r in rows} == {"*": 18, "BTC-USD": 18}
    await assert_conserved(kit)
