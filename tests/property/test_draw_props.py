"""Properties of raffle draw v1 (wagerkit.domain.draw), and a chi-square check of uniformity.

Uniformity is checked on the real ``uniform`` and ``beacon_winners``. Modulo bias on 64-bit
words is about n/2⁶⁴, far below what any sample can show, so the bias test runs the same
``uniform`` on 8-bit words (``word_bits=8``), where ``x % n`` is visibly biased: the test shows
the chi-square statistic catching that variant and passing the rejection sampler.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections import Counter
from collections.abc import Callable, Iterator

from hypothesis import given, settings
from hypothesis import strategies as st

from wagerkit.domain.draw import (
    beacon_seed,
    beacon_winners,
    build_record,
    commitment,
    listing,
    lottery_winners,
    parse_listing,
    uniform,
    verify_record,
    word_stream,
)

COMMIT = commitment(b"")


@st.composite
def raffles(draw: st.DrawFn) -> tuple[int, list[tuple[int, int]]]:
    capacity = draw(st.integers(1, 300))
    numbers = draw(st.sets(st.integers(0, capacity - 1), max_size=min(capacity, 60)))
    users = draw(st.lists(st.integers(1, 10**6), min_size=len(numbers), max_size=len(numbers)))
    return capacity, list(zip(sorted(numbers), users, strict=True))


@settings(max_examples=200)
@given(
    raffles(),
    st.integers(0, 2**64 - 1),
    st.text(max_size=20),
    st.integers(0, 70),
    st.randoms(use_true_random=False),
)
def test_beacon_winners_are_distinct_sold_and_order_free(
    raffle: tuple[int, list[tuple[int, int]]],
    raffle_id: int,
    value: str,
    winners: int,
    rnd: object,
) -> None:
    capacity, tickets = raffle
    sold = [n for n, _ in tickets]
    c = commitment(listing(tickets, capacity))
    chosen = beacon_winners(raffle_id, c, value, sold, winners)
    assert len(chosen) == min(winners, len(sold))
    assert len(set(chosen)) == len(chosen)
    assert set(chosen) <= set(sold)
    shuffled = list(tickets)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert listing(shuffled, capacity) == listing(tickets, capacity)
    assert beacon_winners(raffle_id, c, value, [n for n, _ in shuffled], winners) == chosen
    # fewer prizes give the first places of the same draw (a partial shuffle)
    if winners:
        assert beacon_winners(raffle_id, c, value, sold, winners - 1) == chosen[: winners - 1]


def model_lottery(drawn: list[int], capacity: int, sold: set[int], k: int) -> list[int]:
    """Walk the numbers t, t+1, … round the capacity; take the first sold, not-won one."""
    out: list[int] = []
    for n in drawn[:k]:
        start = n % capacity
        for step in range(capacity):
            t = (start + step) % capacity
            if t in sold and t not in out:
                out.append(t)
                break
    return out


@settings(max_examples=200)
@given(raffles(), st.lists(st.integers(0, 10**9), max_size=70), st.integers(0, 70), st.randoms())
def test_lottery_wraps_and_skips_unsold_and_earlier_winners(
    raffle: tuple[int, list[tuple[int, int]]], drawn: list[int], winners: int, rnd: object
) -> None:
    capacity, tickets = raffle
    sold = [n for n, _ in tickets]
    k = min(winners, len(sold))
    if len(drawn) < k:
        drawn = drawn + [0] * (k - len(drawn))
    chosen = lottery_winners(drawn, capacity, sold, winners)
    assert chosen == model_lottery(drawn, capacity, set(sold), k)
    assert len(set(chosen)) == len(chosen) == k
    assert set(chosen) <= set(sold)
    rnd.shuffle(sold)  # type: ignore[attr-defined]
    assert lottery_winners(drawn, capacity, sold, winners) == chosen


@settings(max_examples=100)
@given(raffles(), st.integers(0, 2**32), st.text(max_size=10), st.integers(1, 5), st.data())
def test_a_built_record_verifies_and_any_other_winner_does_not(
    raffle: tuple[int, list[tuple[int, int]]],
    raffle_id: int,
    value: str,
    winners: int,
    data: st.DataObject,
) -> None:
    capacity, tickets = raffle
    owners = dict(tickets)
    c = commitment(listing(tickets, capacity))
    chosen = beacon_winners(raffle_id, c, value, list(owners), winners)
    record = build_record(
        raffle_id=raffle_id,
        capacity=capacity,
        tickets=tickets,
        mode="beacon",
        public_value=value,
        drawn_numbers=None,
        provenance={"source": "text"},
        winners=[(n, owners[n], 10) for n in chosen],
        rake=0,
        extra={},
    )
    assert parse_listing(str(record["listing"]).encode(), capacity) == sorted(tickets)
    verdict = verify_record(record)
    assert verdict.match, verdict.reason
    assert verdict.winners == chosen
    others = sorted(set(owners) - set(chosen))
    if chosen and others:
        place = data.draw(st.integers(0, len(chosen) - 1))
        other = data.draw(st.sampled_from(others))
        entries = list(record["winners"])  # type: ignore[call-overload]
        entries[place] = dict(entries[place], number=other, user_id=owners[other])
        assert not verify_record(dict(record, winners=entries)).match


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
FIELDS = [
    "algorithm",
    "raffle_id",
    "capacity",
    "listing",
    "commitment",
    "mode",
    "public_value",
    "drawn_numbers",
    "provenance",
    "winners",
    "rake",
    "prize_fund",
    "sales",
    "prize_mode",
]


@settings(max_examples=300)
@given(
    st.sampled_from(["beacon", "lottery"]),
    st.dictionaries(st.sampled_from(FIELDS), JSON, min_size=1, max_size=3),
)
def test_verify_record_never_raises_on_any_json(mode: str, changes: dict[str, object]) -> None:
    """Whatever a record's fields hold, verify_record answers and never raises."""
    tickets = [(0, 2), (3, 4), (5, 1), (9, 3)]
    owners = dict(tickets)
    c = commitment(listing(tickets, 10))
    chosen = beacon_winners(7, c, "v", list(owners), 2) if mode == "beacon" else [5, 9]
    base = build_record(
        raffle_id=7,
        capacity=10,
        tickets=tickets,
        mode=mode,
        public_value="v" if mode == "beacon" else None,
        drawn_numbers=[4, 4] if mode == "lottery" else None,
        provenance={"source": "text" if mode == "beacon" else "lottery"},
        winners=[(n, owners[n], 5) for n in chosen],
        rake=0,
        extra={},
    )
    assert verify_record(base).match
    verdict = verify_record({**base, **changes})
    assert isinstance(verdict.match, bool)
    assert verdict.reason


# -- uniformity ----------------------------------------------------------------------------------


def chi_square(counts: Counter[object], cells: int, samples: int) -> float:
    expected = samples / cells
    return sum((counts.get(cell, 0) - expected) ** 2 / expected for cell in range(cells))


def chi_square_limit(df: int, z: float = 4.75) -> float:
    """Wilson–Hilferty upper quantile of chi-square with ``df`` degrees (z = 4.75: p ≈ 1e-6)."""
    a = 2 / (9 * df)
    return df * (1 - a + z * math.sqrt(a)) ** 3


def byte_words(seed: bytes) -> Iterator[int]:
    """8-bit words from a SHA-256 counter stream: narrow enough to make modulo bias visible."""
    for block in itertools.count():
        yield from hashlib.sha256(seed + block.to_bytes(8, "big")).digest()


def biased_uniform(words: Iterator[int], n: int, *, word_bits: int = 64) -> int:
    return next(words) % n  # the mistake the rejection step exists to avoid


def sample(draw: Callable[..., int], n: int, samples: int) -> Counter[object]:
    words = byte_words(b"chi-square")
    return Counter(draw(words, n, word_bits=8) for _ in range(samples))


def test_rejection_removes_modulo_bias_that_the_chi_square_catches() -> None:
    n, samples = 96, 30_000  # 256 mod 96 = 64: x % 96 favours 0 … 63 by 3:2
    limit = chi_square_limit(n - 1)
    fair = chi_square(sample(uniform, n, samples), n, samples)
    biased = chi_square(sample(biased_uniform, n, samples), n, samples)
    assert fair < limit, (fair, limit)
    assert biased > 5 * limit, (biased, limit)


def test_uniform_on_64_bit_words_passes_the_chi_square() -> None:
    n, samples = 7, 20_000
    words = byte_words(b"64")
    wide = (int.from_bytes(bytes(next(words) for _ in range(8)), "big") for _ in range(samples * 2))
    counts = Counter(uniform(wide, n) for _ in range(samples))
    assert chi_square(counts, n, samples) < chi_square_limit(n - 1)


def test_beacon_draw_gives_every_ticket_and_every_order_the_same_chance() -> None:
    """Over many seeds: each ticket wins first prize equally often, and every ordering of four
    tickets (a full draw) is equally likely, which a naive shuffle (j = uniform(m)) fails.
    """
    sold = [3, 11, 12, 40]
    firsts: Counter[object] = Counter()
    orders: Counter[object] = Counter()
    naive: Counter[object] = Counter()
    perms = {p: i for i, p in enumerate(itertools.permutations(sold))}
    samples = 12_000
    for raffle_id in range(samples):
        chosen = beacon_winners(raffle_id, COMMIT, "chi", sold, 4)
        firsts[sold.index(chosen[0])] += 1
        orders[perms[tuple(chosen)]] += 1
        naive[perms[naive_shuffle(raffle_id, sold)]] += 1
    assert chi_square(firsts, 4, samples) < chi_square_limit(3)
    assert chi_square(orders, 24, samples) < chi_square_limit(23)
    assert chi_square(naive, 24, samples) > chi_square_limit(23)


def naive_shuffle(raffle_id: int, sold: list[int]) -> tuple[int, ...]:
    """The classic mistake: swap each place with any place (4⁴ paths onto 24 orders)."""
    s = list(sold)
    words = word_stream(beacon_seed(raffle_id, COMMIT, "chi"))
    for i in range(len(s)):
        j = uniform(words, len(s))
        s[i], s[j] = s[j], s[i]
    return tuple(s)
