"""The price-prediction formulas (SPEC section 4) as properties, stated from the
specification with exact fractions, never by re-running the implementation's arithmetic."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from hypothesis import example, given
from hypothesis import strategies as st

from wagerkit.domain.predictions import (
    ContractStatus,
    Direction,
    RoundBet,
    TieRule,
    fixed_result,
    multiplier_profit,
    multiplier_result,
    round_settlement,
    round_start,
)

stakes = st.integers(1, 10**9)
leverages = st.sampled_from([1, 2, 5, 10, 50, 100])
caps = st.integers(1, 20)
directions = st.sampled_from(list(Direction))
# prices with many decimals (up to 18 places, as the store keeps them)
prices = st.decimals(
    min_value=Decimal("0.000000000000000001"),
    max_value=Decimal("99999999999999999999"),
    places=18,
    allow_nan=False,
    allow_infinity=False,
).filter(lambda d: d > 0)


@given(stakes, leverages, caps, directions, prices, prices)
@example(100, 5, 10, Direction.UP, Decimal(50000), Decimal(50500))
@example(100, 5, 10, Direction.UP, Decimal(50000), Decimal(37500))
def test_multiplier_profit_is_the_floored_clamped_exact_value(
    stake: int, lev: int, cap: int, d: Direction, e: Decimal, x: Decimal
) -> None:
    profit = multiplier_profit(stake, lev, cap, d, e, x)
    assert -stake <= profit <= cap * stake
    sign = 1 if d is Direction.UP else -1
    raw = Fraction(stake * lev) * sign * (Fraction(x) - Fraction(e)) / Fraction(e)
    if -stake <= raw <= cap * stake:  # inside the clamp: the floor of the exact value
        assert profit <= raw < profit + 1
    elif raw < -stake:
        assert profit == -stake
    else:
        assert profit == cap * stake
    status, payout = multiplier_result(stake, lev, cap, d, e, x)
    assert payout == stake + profit >= 0
    assert status is (
        ContractStatus.WON
        if profit > 0
        else ContractStatus.LOST
        if profit < 0
        else ContractStatus.PUSH
    )


@given(stakes, leverages, caps, prices, prices)
def test_up_and_down_are_mirror_images(
    stake: int, lev: int, cap: int, e: Decimal, x: Decimal
) -> None:
    up = multiplier_profit(stake, lev, cap, Direction.UP, e, x)
    down = multiplier_profit(stake, lev, cap, Direction.DOWN, e, x)
    # the exact raw values are negatives of each other; floors differ by one unless exact
    raw = Fraction(stake * lev) * (Fraction(x) - Fraction(e)) / Fraction(e)
    if -stake <= raw <= cap * stake and -stake <= -raw <= cap * stake:
        assert up + down == (0 if raw.denominator == 1 else -1)
    for bps in (1, 8000, 10000):
        u, _ = fixed_result(stake, bps, Direction.UP, e, x)
        dn, _ = fixed_result(stake, bps, Direction.DOWN, e, x)
        if e == x:
            assert u is dn is ContractStatus.PUSH
        else:
            assert {u, dn} == {ContractStatus.WON, ContractStatus.LOST}


@given(stakes, st.integers(1, 100_000), directions, prices, prices, st.sampled_from(list(TieRule)))
def test_fixed_odds_payouts(
    stake: int, bps: int, d: Direction, e: Decimal, x: Decimal, tie: TieRule
) -> None:
    status, payout = fixed_result(stake, bps, d, e, x, tie)
    right = (x > e) if d is Direction.UP else (x < e)
    if right:
        assert status is ContractStatus.WON
        assert payout == stake + math.floor(Fraction(stake * bps, 10000))
    elif x == e and tie is TieRule.PUSH:
        assert (status, payout) == (ContractStatus.PUSH, stake)
    else:
        assert (status, payout) == (ContractStatus.LOST, 0)


def test_spec_examples() -> None:
    e = Decimal(50000)
    assert multiplier_result(100, 5, 10, Direction.UP, e, Decimal(50500)) == (
        ContractStatus.WON,
        105,
    )
    assert multiplier_result(100, 5, 10, Direction.UP, e, Decimal(37500)) == (
        ContractStatus.LOST,
        0,
    )
    assert multiplier_profit(100, 5, 10, Direction.DOWN, e, Decimal(50500)) == -5
    # floored towards −∞: −0.5 is −1, not 0
    assert multiplier_profit(1, 1, 10, Direction.UP, Decimal(2), Decimal(1)) == -1
    assert fixed_result(100, 8000, Direction.UP, e, Decimal("50000.01")) == (
        ContractStatus.WON,
        180,
    )
    assert fixed_result(100, 8000, Direction.UP, e, e, TieRule.LOSE) == (ContractStatus.LOST, 0)


def _bet(i: int, d: Direction, amount: int) -> RoundBet:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return RoundBet(i, 1, i, d, amount, i, now, f"t{i}")


bets_st = st.lists(st.tuples(directions, st.integers(1, 10**6)), min_size=0, max_size=12).map(
    lambda xs: [_bet(i + 1, d, a) for i, (d, a) in enumerate(xs)]
)


@given(bets_st, st.one_of(st.none(), prices), st.one_of(st.none(), prices), st.integers(0, 1000))
def test_round_settlement_has_the_section_3_properties(
    bets: list[RoundBet], lock: Decimal | None, close: Decimal | None, rake_bps: int
) -> None:
    winner, s, reason = round_settlement(bets, lock, close, rake_bps)
    pool = sum(b.amount for b in bets)
    assert s.paid + s.rake == pool  # nothing stays in escrow
    sides = {b.direction for b in bets}
    if lock is None or close is None or lock == close or len(sides) < 2:
        assert winner is None
        assert s.refund
        assert s.rake == 0
        assert reason
        assert s.payouts == {b.id: b.amount for b in bets}
        return
    assert winner is (Direction.UP if close > lock else Direction.DOWN)
    losing = sum(b.amount for b in bets if b.direction is not winner)
    assert s.rake == losing * rake_bps // 10000
    for b in bets:
        if b.direction is winner:
            assert s.payouts[b.id] >= b.amount  # winners never get back less than their stake
        else:
            assert s.payouts[b.id] == 0


@given(st.datetimes(timezones=st.just(UTC)), st.integers(1, 7200))
def test_round_grid(now: datetime, interval: int) -> None:
    start = round_start(now, interval)
    assert start <= now < start + timedelta(seconds=interval)
    assert round_start(start, interval) == start
