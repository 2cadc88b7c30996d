"""The raffle money rule (SPEC section 5): prizes + rake = sales (proportional) or the
advertised fund + rake (guaranteed), to the unit; prizes non-increasing for a non-increasing
table; the leftover units go to the higher prizes; the SPEC's worked example."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wagerkit.domain.errors import InvalidInput
from wagerkit.domain.raffles import (
    PrizeMode,
    RaffleCategory,
    RaffleCategoryDraft,
    check_category,
    parse_split,
    prize_plan,
    split_fund,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def category(
    price: int, capacity: int, winners: int, rake: int, split: tuple[int, ...], mode: PrizeMode
) -> RaffleCategory:
    d = check_category(RaffleCategoryDraft("c", price, capacity, winners, rake, split, mode))
    return RaffleCategory(
        1, d.name, d.ticket_price, d.capacity, d.winners, d.rake_bps, d.split, d.prize_mode,
        d.colour, d.currency, T0,
    )  # fmt: skip


@st.composite
def tables(draw: st.DrawFn) -> tuple[int, ...]:
    """A non-increasing percentage table summing to 100 (or () for equal)."""
    k = draw(st.integers(1, 8))
    if draw(st.booleans()) or k > 100:
        return ()
    cuts = sorted(draw(st.lists(st.integers(1, 99), min_size=k - 1, max_size=k - 1, unique=True)))
    parts = [b - a for a, b in zip([0, *cuts], [*cuts, 100], strict=True)]
    return tuple(sorted(parts, reverse=True))


@st.composite
def categories(draw: st.DrawFn) -> RaffleCategory:
    split = draw(tables())
    winners = len(split) if split else draw(st.integers(1, 8))
    capacity = draw(st.integers(winners, 5000))
    return category(
        draw(st.integers(1, 10**6)),
        capacity,
        winners,
        draw(st.integers(0, 10_000)),
        split,
        draw(st.sampled_from(list(PrizeMode))),
    )


def test_spec_example() -> None:
    c = category(10, 100, 3, 1000, (50, 30, 20), PrizeMode.PROPORTIONAL)
    plan = prize_plan(c, 10)
    assert (plan.sales, plan.rake, plan.prizes, plan.house) == (100, 10, (45, 27, 18), 10)


def test_leftover_units_go_to_the_higher_prizes() -> None:
    assert split_fund(100, 3) == [34, 33, 33]
    assert split_fund(101, 3) == [34, 34, 33]
    assert split_fund(7, 3, (50, 30, 20)) == [4, 2, 1]


def test_guaranteed_house_pays_the_difference() -> None:
    c = category(10, 100, 2, 500, (), PrizeMode.GUARANTEED)
    assert (c.collection, c.prize_fund, c.prizes) == (1000, 950, [475, 475])
    plan = prize_plan(c, 10)
    assert (plan.sales, plan.fund, plan.house) == (100, 950, -850)


@given(categories(), st.data())
def test_prizes_and_rake_add_up_to_the_unit(c: RaffleCategory, data: st.DataObject) -> None:
    sold = data.draw(st.integers(c.winners, c.capacity))
    plan = prize_plan(c, sold)
    assert all(p >= 0 for p in plan.prizes)
    assert len(plan.prizes) == c.winners
    if c.prize_mode is PrizeMode.PROPORTIONAL:
        assert sum(plan.prizes) + plan.rake == plan.sales == c.ticket_price * sold
        assert plan.house == plan.rake
    else:
        assert sum(plan.prizes) + plan.rake == c.prize_fund + plan.rake == c.collection
        assert sum(plan.prizes) + plan.house == plan.sales  # the escrow ends at zero


@given(categories(), st.data())
def test_prizes_non_increasing_for_a_non_increasing_table(
    c: RaffleCategory, data: st.DataObject
) -> None:
    plan = prize_plan(c, data.draw(st.integers(c.winners, c.capacity)))
    assert list(plan.prizes) == sorted(plan.prizes, reverse=True)
    assert max(plan.prizes) - min(plan.prizes) <= (1 if not c.split else max(plan.prizes))


@given(st.integers(0, 10**12), st.integers(1, 50))
def test_equal_split_differs_by_at_most_one(fund: int, k: int) -> None:
    prizes = split_fund(fund, k)
    assert sum(prizes) == fund
    assert max(prizes) - min(prizes) <= 1


@pytest.mark.parametrize(
    ("split", "winners"), [((50, 30), 3), ((50, 40), 2), ((0, 100), 2), ((101,), 1)]
)
def test_bad_tables_are_refused(split: tuple[int, ...], winners: int) -> None:
    with pytest.raises(InvalidInput):
        category(10, 100, winners, 0, split, PrizeMode.PROPORTIONAL)


def test_parse_split() -> None:
    assert parse_split("50,30,20") == (50, 30, 20)
    assert parse_split("equal") == ()
    with pytest.raises(InvalidInput):
        parse_split("50;50")
