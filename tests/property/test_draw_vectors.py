"""Known-answer vectors for raffle draw v1 (SPEC section 5), the same as in docs/draw.md.

The vectors were computed once with ``Reference`` below, a direct transcription of the SPEC
text written without looking at ``wagerkit.domain.draw``, and pinned as literals: the module
and the transcription must both give them, so a change to either is caught.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pytest

from wagerkit.domain.draw import (
    beacon_seed,
    beacon_winners,
    commitment,
    listing,
    lottery_winners,
    uniform,
    word_stream,
)

# -- the transcription of the SPEC ---------------------------------------------------------------


def ref_listing(tickets: list[tuple[int, int]], capacity: int) -> bytes:
    w = len(str(capacity - 1))
    out = ""
    for number, user in sorted(tickets, key=lambda t: t[0]):
        out += str(number).rjust(w, "0") + ":" + str(user) + "\n"
    return out.encode("utf-8")


def ref_seed(raffle_id: int, commitment: str, value: str) -> bytes:
    h = hashlib.sha256()
    h.update(b"wagerkit/raffle-draw/v1")
    h.update(raffle_id.to_bytes(8, "big"))
    h.update(bytes.fromhex(commitment))
    h.update(value.encode("utf-8"))
    return h.digest()


class Words:
    """Block b = SHA-256(seed ‖ b as 8 bytes BE), each split into four 8-byte BE words."""

    def __init__(self, seed: bytes) -> None:
        self.seed, self.block, self.buf = seed, 0, list[int]()

    def next(self) -> int:
        if not self.buf:
            d = hashlib.sha256(self.seed + self.block.to_bytes(8, "big")).digest()
            self.block += 1
            self.buf = [int.from_bytes(d[i : i + 8], "big") for i in (0, 8, 16, 24)]
        return self.buf.pop(0)


def ref_uniform(words: Words, n: int) -> int:
    x = words.next()
    while x >= 2**64 - (2**64 % n):
        x = words.next()
    return x % n


def ref_beacon(raffle_id: int, c: str, value: str, sold: list[int], winners: int) -> list[int]:
    s = sorted(sold)
    m = len(s)
    words = Words(ref_seed(raffle_id, c, value))
    for i in range(min(winners, m)):
        j = i + ref_uniform(words, m - i)
        s[i], s[j] = s[j], s[i]
    return s[: min(winners, m)]


def ref_lottery(drawn: list[int], capacity: int, sold: list[int], winners: int) -> list[int]:
    owned = set(sold)
    chosen: list[int] = []
    for n in drawn[: min(winners, len(owned))]:
        t = n % capacity
        while t not in owned or t in chosen:
            t = (t + 1) % capacity
        chosen.append(t)
    return chosen


# -- the vectors ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Vector:
    name: str
    raffle_id: int
    capacity: int
    tickets: list[tuple[int, int]]
    value: str
    winners: int
    drawn: list[int]
    listing_head: bytes
    listing_length: int
    commitment: str
    seed: str
    beacon: list[int]
    lottery: list[int]


VECTORS = [
    Vector(
        name="small",
        raffle_id=7,
        capacity=10,
        tickets=[(5, 1), (0, 2), (9, 3), (3, 4)],
        value="hello",
        winners=2,
        drawn=[13, 15],
        listing_head=b"0:2\n3:4\n5:1\n9:3\n",
        listing_length=16,
        commitment="7bd42e29d1146feafc39d69b656278c4503c81a475465a12e5120c6dd5918b2a",
        seed="472debf764d2c832a32ee78cb903b14fbbebbe71cacfcfbb92ecd77d6053ed4f",
        beacon=[0, 9],
        lottery=[3, 5],
    ),
    Vector(
        # V is the randomness of the real drand quicknet round 657413
        name="thousand",
        raffle_id=42,
        capacity=1000,
        tickets=[((i * 37 + 11) % 1000, 100 + i % 7) for i in range(50)],
        value="fc1873a13f3545aeade8401532ef5519920652eee6b0d2b19ca12643b87b3587",
        winners=5,
        drawn=[123456, 99, 5000, 250, 999],
        listing_head=b"010:106\n011:100\n047:100\n048:101\n084:101\n",
        listing_length=400,
        commitment="20cf08e629035fdb7e7e68458603f5faaaca3d1bc7bb30123ad55f217c065d8a",
        seed="3a2b6f7ca9527a44944c8034e2af53844be96a20377345e551a91b71520de9a4",
        beacon=[936, 307, 47, 48, 529],
        lottery=[491, 121, 10, 269, 11],
    ),
    Vector(
        name="unicode",
        raffle_id=2**64 - 1,
        capacity=100,
        tickets=[(n, 9000 + n) for n in range(0, 100, 3)],
        value="Quiniela 2026-12-01: 4521 ñ",
        winners=3,
        drawn=[99, 98, 97],
        listing_head=b"00:9000\n03:9003\n06:9006\n09:9009\n12:9012\n",
        listing_length=272,
        commitment="01e81bc9a336ebb6a67fd24d9b98a464f4dd35e56274a26cdc34d4e7b241b194",
        seed="691b1548ec10e4e45e3f7ba9edfb6cd0c7d988c75a6c514d93c62f3af1a32b54",
        beacon=[54, 30, 90],
        lottery=[99, 0, 3],
    ),
]


@pytest.mark.parametrize("v", VECTORS, ids=lambda v: v.name)
def test_vector(v: Vector) -> None:
    sold = [n for n, _ in v.tickets]
    for data in (listing(v.tickets, v.capacity), ref_listing(v.tickets, v.capacity)):
        assert data.startswith(v.listing_head)
        assert len(data) == v.listing_length
        assert commitment(data) == v.commitment
    assert beacon_seed(v.raffle_id, v.commitment, v.value).hex() == v.seed
    assert ref_seed(v.raffle_id, v.commitment, v.value).hex() == v.seed
    assert beacon_winners(v.raffle_id, v.commitment, v.value, sold, v.winners) == v.beacon
    assert ref_beacon(v.raffle_id, v.commitment, v.value, sold, v.winners) == v.beacon
    assert lottery_winners(v.drawn, v.capacity, sold, v.winners) == v.lottery
    assert ref_lottery(v.drawn, v.capacity, sold, v.winners) == v.lottery


def test_word_stream_vector() -> None:
    expected = [
        3185397464471143308,
        6538991910595841187,
        15205980645323908593,
        2159107802372198891,
        639513788490492620,
    ]
    stream = word_stream(bytes(32))
    assert [next(stream) for _ in range(5)] == expected
    words = Words(bytes(32))
    assert [words.next() for _ in range(5)] == expected


def test_uniform_rejection_vector() -> None:
    """n = 2⁶³ + 1 rejects about half the words: 6 draws here consume 11 words."""
    expected = [
        929455479638424873,
        1555854846868849969,
        1600840731730305734,
        7734579515625672290,
        6910028152649803129,
        454626998184768113,
    ]
    seed = beacon_seed(1, "00" * 32, "v")
    stream = word_stream(seed)
    assert [uniform(stream, 2**63 + 1) for _ in range(6)] == expected
    rest = next(stream)
    words = Words(seed)
    assert [ref_uniform(words, 2**63 + 1) for _ in range(6)] == expected
    assert (words.block, len(words.buf)) == (3, 1)
    assert words.next() == rest


def test_docs_give_the_same_vectors() -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "draw.md").read_text()
    for v in VECTORS:
        row = next(line for line in doc.splitlines() if line.startswith(f"| {v.name} | `"))
        assert f"`{v.commitment}`" in row
        assert f"`{v.seed}`" in row
        assert f"| {v.beacon} | {v.lottery} |" in row
        assert f"| {v.listing_length} |" in row
    for word in (3185397464471143308, 929455479638424873, 454626998184768113):
        assert str(word) in doc
