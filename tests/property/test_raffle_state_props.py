"""The raffle state machine under random operation sequences (memory store): buys (chosen
or random, some over the limit or of sold numbers), closes, draws (lottery, corrected or not;
beacon), voids and job ticks in any order. Whatever happens: money is conserved, no wallet is
negative, every number is sold at most once, the escrow holds exactly the unpaid sales
(zero once paid or refunded), a drawn raffle's record verifies, and a raffle never leaves
``drawn`` or ``voided``."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from wagerkit import (
    Actor,
    DrawMode,
    PrizeMode,
    RaffleCategoryDraft,
    RaffleDraft,
    RaffleStatus,
    Role,
    StoreError,
    WagerKit,
    WagerkitError,
)
from wagerkit.testing import FixedClock, InMemoryStore, SequentialIds

OP = Actor(None, Role.OPERATOR, "op")

_buy = st.tuples(st.just("buy"), st.integers(0, 3), st.lists(st.integers(0, 11), max_size=3))
_rand = st.tuples(st.just("rand"), st.integers(0, 3), st.integers(1, 4))
_draw = st.tuples(st.just("draw"), st.lists(st.integers(0, 10**6), min_size=2, max_size=3))
_fix = st.tuples(st.just("correct"), st.lists(st.integers(0, 10**6), min_size=2, max_size=3))
# sales first (so that draws happen), then anything in any order; voids are rarer
ops = st.tuples(
    st.lists(_rand, min_size=1, max_size=4),
    st.lists(
        st.one_of(
            _buy,
            _rand,
            _draw,
            _draw,
            _fix,
            st.tuples(st.just("close")),
            st.tuples(st.just("close")),
            st.tuples(st.just("tick"), st.integers(0, 7200)),
            st.tuples(st.just("void")),
        ),
        max_size=10,
    ),
).map(lambda p: [*p[0], *p[1]])


async def _scenario(
    steps: list[tuple[object, ...]], mode: DrawMode, prize_mode: PrizeMode, minimum: int
) -> None:
    clock = FixedClock()
    kit = WagerKit(InMemoryStore(), clock=clock, ids=SequentialIds())
    users = [Actor.of(await kit.users.add(Actor.system(), f"u{i}")) for i in range(4)]
    c = await kit.raffles.create_category(
        OP, RaffleCategoryDraft("c", 7, 12, 2, 750, (60, 40), prize_mode)
    )
    now = clock.now()
    r = await kit.raffles.create(
        OP,
        RaffleDraft(
            "r",
            c.id,
            now,
            now + timedelta(hours=1),
            min_tickets=minimum,
            max_per_user=5,
            draw_mode=mode,
        ),
    )
    seen = {RaffleStatus.OPEN}
    for step in steps:
        try:
            match step:
                case ("buy", u, numbers):
                    await kit.raffles.buy(users[u], r.id, numbers=numbers)  # type: ignore[index]
                case ("rand", u, count):
                    await kit.raffles.buy(users[u], r.id, count=count)  # type: ignore[index,arg-type]
                case ("close",):
                    await kit.raffles.close(OP, r.id)
                case ("draw", numbers):
                    if mode is DrawMode.LOTTERY:
                        await kit.raffles.draw(OP, r.id, numbers=numbers)  # type: ignore[arg-type]
                    else:
                        await kit.raffles.draw(OP, r.id, public_value=str(numbers))
                case ("correct", numbers):
                    await kit.raffles.correct(OP, r.id, numbers, reason="fix")  # type: ignore[arg-type]
                case ("void",):
                    await kit.raffles.void(OP, r.id, reason="off")
                case ("tick", seconds):
                    clock.advance(seconds=seconds)  # type: ignore[arg-type]
                    await kit.jobs.tick()
        except StoreError:  # a broken invariant (a refused payout), never a refusal
            raise
        except WagerkitError:
            pass
        cur = await kit.raffles.get(r.id)
        if RaffleStatus.DRAWN in seen or RaffleStatus.VOIDED in seen:
            assert cur.status in seen - {RaffleStatus.OPEN, RaffleStatus.CLOSED}
        seen.add(cur.status)
        tickets = await kit.raffles.tickets(OP, raffle_id=r.id, limit=500)
        assert len({t.number for t in tickets}) == len(tickets) == cur.sold
        async with kit.deps.uow() as uow:
            escrow = await uow.ledger.get_account(cur.escrow_account_id)
        assert escrow is not None
        if cur.paid_at is not None:
            assert escrow.balance == 0
        else:
            assert escrow.balance == 7 * cur.sold
        if cur.status is RaffleStatus.DRAWN:
            assert (await kit.raffles.verify(r.id)).match
        for t in await kit.wallets.totals(Actor.system()):
            assert t.conserved
        for u in users:
            assert u.user_id is not None
            assert (await kit.wallets.balance(u, u.user_id)).balance >= 0
    event(f"ended {max(seen, key=list(RaffleStatus).index).value}")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ops,
    st.sampled_from(list(DrawMode)),
    st.sampled_from(list(PrizeMode)),
    st.integers(2, 6),
)
def test_any_sequence_keeps_the_books(
    steps: list[tuple[object, ...]], mode: DrawMode, prize_mode: PrizeMode, minimum: int
) -> None:
    asyncio.run(_scenario(steps, mode, prize_mode, minimum))
