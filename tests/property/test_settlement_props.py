"""The pari-mutuel settlement rule (SPEC section 3) and the live pool view, as properties of the
pure functions ``settle`` and ``pool_view``.

Each property is stated from the specification, with exact fractions where it speaks of
proportions: nothing here re-runs the implementation's own arithmetic to get an expected value.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from wagerkit.domain.errors import InvalidInput
from wagerkit.domain.events import (
    MAX_RAKE_BPS,
    BetStake,
    Event,
    EventStatus,
    Outcome,
    StreamType,
    pool_view,
    settle,
)
from wagerkit.domain.money import MAX_AMOUNT

OUTCOMES = [11, 12, 13, 14]  # outcome ids; the first few may get no bet at all

amounts = st.one_of(
    st.integers(1, 50),  # small stakes: many equal remainders, many ties
    st.integers(1, 10**6),
    st.integers(10**12, 10**15),  # large pools: no overflow, still exact
)
rakes = st.one_of(st.just(0), st.integers(0, MAX_RAKE_BPS), st.just(MAX_RAKE_BPS))


@st.composite
def bet_lists(draw: st.DrawFn, min_size: int = 0, max_size: int = 30) -> list[BetStake]:
    """Bets with distinct ids and distinct tie-break orders (neither sorted nor equal to the
    ids, so a rule that used the list position or the id instead of ``order`` shows)."""
    n = draw(st.integers(min_size, max_size))
    outs = draw(st.lists(st.sampled_from(OUTCOMES), min_size=n, max_size=n))
    stakes = draw(st.lists(amounts, min_size=n, max_size=n))
    ids = draw(st.lists(st.integers(1, 10**6), min_size=n, max_size=n, unique=True))
    orders = draw(st.permutations(range(n)))
    return [
        BetStake(bet_id, o, a, order)
        for bet_id, o, a, order in zip(ids, outs, stakes, orders, strict=True)
    ]


def _sides(bets: list[BetStake], winner: int) -> tuple[list[BetStake], int, int]:
    winners = [b for b in bets if b.outcome_id == winner]
    w = sum(b.amount for b in winners)
    return winners, w, sum(b.amount for b in bets) - w


def _exact(b: BetStake, w: int, lose: int, rake: int) -> Fraction:
    """The exact proportional payout: stake + stake × (L − rake) / W."""
    return b.amount + Fraction(b.amount * (lose - rake), w)


# -- settle ---------------------------------------------------------------------------------


def test_the_seed_worked_example() -> None:
    bets = [BetStake(1, 1, 100, 1), BetStake(2, 1, 300, 2), BetStake(3, 2, 200, 3)]
    s = settle(bets, 1, 0)
    assert s.payouts == {1: 150, 2: 450, 3: 0}
    assert (s.rake, s.refund, s.paid) == (0, False, 600)


@given(bets=bet_lists(), winner=st.sampled_from(OUTCOMES), rake_bps=rakes)
@example(
    bets=[BetStake(1, 11, 1, 0), BetStake(2, 11, 1, 1), BetStake(3, 12, 1, 2)],
    winner=11,
    rake_bps=0,
)
@settings(max_examples=400)
def test_payouts_and_rake_make_up_the_pool_exactly(
    bets: list[BetStake], winner: int, rake_bps: int
) -> None:
    s = settle(bets, winner, rake_bps)
    pool = sum(b.amount for b in bets)
    assert set(s.payouts) == {b.bet_id for b in bets}  # every bet gets a result
    assert all(isinstance(p, int) and p >= 0 for p in s.payouts.values())
    assert sum(s.payouts.values()) + s.rake == pool
    assert s.paid == sum(s.payouts.values())


@given(bets=bet_lists(min_size=1), winner=st.sampled_from(OUTCOMES), rake_bps=rakes)
@settings(max_examples=400)
def test_winners_share_the_losing_side_in_proportion(
    bets: list[BetStake], winner: int, rake_bps: int
) -> None:
    winners, w, lose = _sides(bets, winner)
    assume(w > 0)
    s = settle(bets, winner, rake_bps)
    assert not s.refund
    # the rake is floor(L × bps / 10000), taken from the losing side only
    assert s.rake == Fraction(lose * rake_bps, 10000).__floor__()
    assert 0 <= s.rake <= lose
    for b in bets:
        if b.outcome_id != winner:
            assert s.payouts[b.bet_id] == 0, b  # losers get nothing
            continue
        paid = s.payouts[b.bet_id]
        exact = _exact(b, w, lose, s.rake)
        assert paid >= b.amount, b  # winners never get back less than their stake
        assert abs(paid - exact) < 1, (b, paid, exact)
        assert exact.__floor__() <= paid <= exact.__ceil__()
    # winners together get their stakes plus the losing side less the rake
    assert sum(s.payouts[b.bet_id] for b in winners) == w + lose - s.rake


@given(bets=bet_lists(min_size=1), winner=st.sampled_from(OUTCOMES), rake_bps=rakes)
@settings(max_examples=400)
def test_leftover_units_go_to_largest_remainders_then_earliest(
    bets: list[BetStake], winner: int, rake_bps: int
) -> None:
    winners, w, lose = _sides(bets, winner)
    assume(w > 0)
    s = settle(bets, winner, rake_bps)
    exact = {b.bet_id: _exact(b, w, lose, s.rake) for b in winners}
    extra = {b.bet_id: s.payouts[b.bet_id] - exact[b.bet_id].__floor__() for b in winners}
    assert set(extra.values()) <= {0, 1}
    # the units handed out beyond the floors are exactly the fractional parts, summed
    leftover = sum(exact.values()) - sum(e.__floor__() for e in exact.values())
    assert leftover.denominator == 1
    assert sum(extra.values()) == leftover < max(len(winners), 1)
    rem = {i: e - e.__floor__() for i, e in exact.items()}
    # whoever got a unit ranks before whoever did not: larger remainder, then earlier order
    for a in winners:
        for b in winners:
            if extra[a.bet_id] == 1 and extra[b.bet_id] == 0:
                assert rem[a.bet_id] >= rem[b.bet_id], (a, b)
                if rem[a.bet_id] == rem[b.bet_id]:
                    assert a.order < b.order, (a, b)


@given(bets=bet_lists(), winner=st.sampled_from(OUTCOMES), rake_bps=rakes)
def test_no_stake_on_the_winner_refunds_everyone_without_rake(
    bets: list[BetStake], winner: int, rake_bps: int
) -> None:
    bets = [b for b in bets if b.outcome_id != winner]
    s = settle(bets, winner, rake_bps)
    assert s.refund
    assert s.rake == 0
    assert s.payouts == {b.bet_id: b.amount for b in bets}


@given(bets=bet_lists(min_size=1), rake_bps=rakes)
def test_a_pool_with_only_winning_stakes_returns_each_stake(
    bets: list[BetStake], rake_bps: int
) -> None:
    bets = [BetStake(b.bet_id, OUTCOMES[0], b.amount, b.order) for b in bets]
    s = settle(bets, OUTCOMES[0], rake_bps)
    assert not s.refund
    assert s.rake == 0  # L = 0: nothing to rake
    assert s.payouts == {b.bet_id: b.amount for b in bets}


@given(
    bets=bet_lists(min_size=1),
    winner=st.sampled_from(OUTCOMES),
    rake_bps=rakes,
    seed=st.integers(0, 2**32),
)
@settings(max_examples=300)
def test_the_result_does_not_depend_on_the_order_of_the_input(
    bets: list[BetStake], winner: int, rake_bps: int, seed: int
) -> None:
    shuffled = list(bets)
    random.Random(seed).shuffle(shuffled)
    assert settle(shuffled, winner, rake_bps) == settle(bets, winner, rake_bps)
    assert settle(list(reversed(bets)), winner, rake_bps) == settle(bets, winner, rake_bps)


@given(n=st.integers(2, 12), lose=st.integers(1, 60), stake=st.integers(1, 40), data=st.data())
@settings(max_examples=300)
def test_ties_go_to_the_earliest_bet_by_order_not_by_id_or_position(
    n: int, lose: int, stake: int, data: st.DataObject
) -> None:
    """Equal stakes on the winner have equal remainders: the leftover units go to the bets
    with the smallest ``order``, whatever their ids and their place in the list."""
    orders = data.draw(st.permutations(range(100, 100 + n)))
    ids = data.draw(st.lists(st.integers(1, 1000), min_size=n, max_size=n, unique=True))
    winners = [BetStake(i, 1, stake, o) for i, o in zip(ids, orders, strict=True)]
    loser = BetStake(5000, 2, lose, 0)
    bets = data.draw(st.permutations([*winners, loser]))
    s = settle(bets, 1, 0)
    base = stake + lose // n  # every winner's floored share is the same
    leftover = lose % n
    earliest = {b.bet_id for b in sorted(winners, key=lambda b: b.order)[:leftover]}
    for b in winners:
        assert s.payouts[b.bet_id] == base + (1 if b.bet_id in earliest else 0), b
    assert s.payouts[loser.bet_id] == 0


@given(bets=bet_lists(min_size=2), winner=st.sampled_from(OUTCOMES), rake_bps=rakes)
def test_a_larger_winning_stake_is_never_paid_less(
    bets: list[BetStake], winner: int, rake_bps: int
) -> None:
    s = settle(bets, winner, rake_bps)
    winners = [b for b in bets if b.outcome_id == winner]
    for a in winners:
        for b in winners:
            if a.amount > b.amount:
                assert s.payouts[a.bet_id] > s.payouts[b.bet_id], (a, b)
            elif a.amount == b.amount:
                assert abs(s.payouts[a.bet_id] - s.payouts[b.bet_id]) <= 1


@given(bets=bet_lists(min_size=1), winner=st.sampled_from(OUTCOMES))
def test_more_rake_never_pays_a_winner_more(bets: list[BetStake], winner: int) -> None:
    _, w, lose = _sides(bets, winner)
    assume(w > 0 and lose > 0)
    low, high = settle(bets, winner, 0), settle(bets, winner, MAX_RAKE_BPS)
    assert high.rake >= low.rake == 0
    assert sum(high.payouts.values()) <= sum(low.payouts.values())


@pytest.mark.parametrize("bps", [-1, MAX_RAKE_BPS + 1, 10000])
def test_a_rake_out_of_range_is_refused(bps: int) -> None:
    with pytest.raises(InvalidInput):
        settle([BetStake(1, 1, 10, 1), BetStake(2, 2, 10, 2)], 1, bps)


# -- pool_view ------------------------------------------------------------------------------

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
MULTIPLIER = re.compile(r"^[0-9]+\.[0-9]{4}$")


def _event(bets: list[BetStake], rake_bps: int) -> Event:
    totals = Counter[int]()
    bettors = Counter[int]()
    for b in bets:
        totals[b.outcome_id] += b.amount
        bettors[b.outcome_id] += 1
    return Event(
        id=7,
        title="t",
        description="",
        stream_type=StreamType.CUSTOM,
        stream_url="",
        currency="COIN",
        outcomes=tuple(
            Outcome(o, f"o{o}", i, totals[o], bettors[o]) for i, o in enumerate(OUTCOMES)
        ),
        min_stake=1,
        max_stake=MAX_AMOUNT,
        rake_bps=rake_bps,
        start_time=NOW + timedelta(hours=1),
        betting_locked_at=NOW + timedelta(hours=1),
        settle_deadline=NOW + timedelta(hours=25),
        allow_topup=False,
        status=EventStatus.OPEN,
        escrow_account_id=1,
        created_at=NOW,
        updated_at=NOW,
        bet_count=len(bets),
    )


@given(bets=bet_lists(), rake_bps=rakes)
@settings(max_examples=300)
def test_pool_view_totals_and_multipliers(bets: list[BetStake], rake_bps: int) -> None:
    view = pool_view(_event(bets, rake_bps))
    pool = sum(b.amount for b in bets)
    assert (view.event_id, view.currency, view.rake_bps) == (7, "COIN", rake_bps)
    assert view.total == pool
    assert view.bettors == len(bets)
    assert [o.outcome_id for o in view.outcomes] == OUTCOMES
    step = Decimal("0.0001")
    for row in view.outcomes:
        mine = [b for b in bets if b.outcome_id == row.outcome_id]
        assert row.total == sum(b.amount for b in mine)
        assert row.bettors == len(mine)
        if not mine:
            assert row.multiplier is None  # nothing staked: no price to show
            continue
        assert row.multiplier is not None
        assert MULTIPLIER.match(row.multiplier), row
        mult = Decimal(row.multiplier)
        others = pool - row.total
        payable = pool - Fraction(others * rake_bps, 10000).__floor__()
        # rounded down to four places: never promises more than the pool less the rake
        assert mult * row.total <= payable
        assert (mult + step) * row.total > payable
        assert mult >= 1  # a winner never gets back less than its stake


@given(bets=bet_lists(min_size=1), winner=st.sampled_from(OUTCOMES), rake_bps=rakes)
@settings(max_examples=300)
def test_the_multiplier_matches_what_settlement_pays(
    bets: list[BetStake], winner: int, rake_bps: int
) -> None:
    """What the view promises per unit, times the winning stakes, is what settle() pays the
    winners together, to within the rounding of the multiplier."""
    winners, w, _ = _sides(bets, winner)
    assume(w > 0)
    row = next(o for o in pool_view(_event(bets, rake_bps)).outcomes if o.outcome_id == winner)
    assert row.multiplier is not None
    paid = sum(settle(bets, winner, rake_bps).payouts[b.bet_id] for b in winners)
    mult = Decimal(row.multiplier)
    assert mult * w <= paid < (mult + Decimal("0.0001")) * w
