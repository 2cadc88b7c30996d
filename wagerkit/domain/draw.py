"""Raffle draw v1: the byte-exact, publicly re-runnable draw of SPEC section 5.

Anyone holding a drawn raffle's public record can recompute its winners with this module (or
with ``examples/verify_raffle.py``, a standard-library copy of it):

* **Listing** — for each sold ticket in ascending number order the UTF-8 line
  ``f"{number:0{w}d}:{user_id}\\n"`` where ``w`` is the number of decimal digits of
  ``capacity - 1``; **commitment** = lowercase hex SHA-256 of the listing, published at close,
  before any randomness exists.
* **lottery** mode — for each drawn number ``n`` in order: ``t = n mod capacity``; the winner is
  the first sold number at or above ``t`` (wrapping to 0) that is not already a winner.
* **beacon** mode — ``seed = SHA-256(b"wagerkit/raffle-draw/v1" ‖ raffle_id (8 bytes BE) ‖
  commitment (32 raw bytes) ‖ V (UTF-8))``; block ``b = SHA-256(seed ‖ b (8 bytes BE))``, each
  block four 8-byte big-endian words; ``uniform(n)`` rejects ``x ≥ 2⁶⁴ − (2⁶⁴ mod n)`` and
  returns ``x mod n``; a partial Fisher–Yates shuffle of the ascending sold numbers picks
  ``k = min(winners, m)`` winners, first prize first.

``verify_record`` never raises: a malformed or tampered record is a ``Verdict`` with
``match=False`` and the reason. Pure functions of their arguments; standard library only.
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from .errors import BeaconInvalid, DrawError

__all__ = [
    "ALGORITHM",
    "MAX_RAFFLE_ID",
    "BeaconRound",
    "DrawError",
    "Verdict",
    "beacon_seed",
    "beacon_winners",
    "build_record",
    "check_beacon_round",
    "commitment",
    "listing",
    "lottery_winners",
    "parse_listing",
    "round_after",
    "round_time",
    "ticket_width",
    "uniform",
    "verify_record",
    "word_stream",
]

ALGORITHM = "wagerkit/raffle-draw/v1"
MAX_RAFFLE_ID = 2**64 - 1
_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX = re.compile(r"(?:[0-9a-f]{2})+")
_CORE_KEYS = frozenset(
    {
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
    }
)
MODES = ("beacon", "lottery")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_capacity(capacity: object) -> int:
    if not _is_int(capacity) or capacity < 1:  # type: ignore[operator]
        raise DrawError(f"capacity must be a positive integer, not {capacity!r}")
    return capacity  # type: ignore[return-value]


def ticket_width(capacity: int) -> int:
    """Decimal digits of ``capacity - 1`` (at least 1): the zero-padded width of a number."""
    return len(str(_check_capacity(capacity) - 1))


def listing(tickets: Iterable[tuple[int, int]], capacity: int) -> bytes:
    """The frozen ticket list: ``number:user_id`` lines in ascending number order, UTF-8.

    ``tickets`` are ``(number, user_id)`` pairs in any order; a number outside
    ``0 … capacity-1``, a number sold twice or a non-integer is a ``DrawError``.
    """
    width = ticket_width(capacity)
    pairs = list(tickets)
    try:
        owners = dict(pairs)
    except (TypeError, ValueError):
        raise DrawError("tickets must be (number, user_id) pairs") from None
    if len(owners) != len(pairs):
        seen: set[object] = set()
        twice = next(n for n, _ in pairs if n in seen or seen.add(n))  # type: ignore[func-returns-value]
        raise DrawError(f"ticket number {twice!r} is sold twice")
    if not (all(type(n) is int for n in owners) and all(type(u) is int for u in owners.values())):
        bad = next((n, u) for n, u in owners.items() if type(n) is not int or type(u) is not int)
        raise DrawError(f"ticket {bad!r} is not a pair of integers")
    if owners and (min(owners) < 0 or max(owners) >= capacity):
        bad_number = min(owners) if min(owners) < 0 else max(owners)
        raise DrawError(f"ticket number {bad_number} is outside 0 … {capacity - 1}")
    line = f"%0{width}d:%d\n"
    if capacity <= 4 * len(owners):  # dense (the usual raffle): a bucket pass, no sort
        slots: list[int | None] = [None] * capacity
        for n, u in owners.items():
            slots[n] = u
        return "".join([line % (n, u) for n, u in enumerate(slots) if u is not None]).encode()
    return "".join([line % (n, owners[n]) for n in sorted(owners)]).encode()


def parse_listing(data: bytes, capacity: int) -> list[tuple[int, int]]:
    """The ``(number, user_id)`` pairs of a listing; ``DrawError`` unless it is canonical.

    Canonical means exactly what ``listing`` produces for those pairs (so the commitment of a
    listing identifies one ticket list): numbers strictly ascending, below ``capacity``,
    zero-padded to ``ticket_width``; user ids in plain decimal; every line ends with ``\n``.
    """
    width = ticket_width(capacity)
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise DrawError("the listing is not ASCII digits, ':' and newlines") from None
    if not text:
        return []
    if not text.endswith("\n"):
        raise DrawError("the listing does not end with a newline")
    pairs: list[tuple[int, int]] = []
    previous = -1
    for index, row in enumerate(text[:-1].split("\n"), start=1):
        number_text, sep, user_text = row.partition(":")
        if not (sep and len(number_text) == width and number_text.isdigit()):
            raise DrawError(f"listing line {index} is not a {width}-digit number, ':', a user id")
        try:
            number, user = int(number_text), int(user_text)
        except ValueError:
            raise DrawError(f"listing line {index} has a malformed user id") from None
        if str(user) != user_text:
            raise DrawError(f"listing line {index} has a malformed user id")
        if number <= previous or number >= capacity:
            raise DrawError(f"listing line {index}: number {number} is out of order or range")
        previous = number
        pairs.append((number, user))
    return pairs


def commitment(listing: bytes) -> str:
    """Lowercase hex SHA-256 of the listing, published at close."""
    return hashlib.sha256(listing).hexdigest()


def _check_commitment(value: object) -> str:
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise DrawError("a commitment is 64 lowercase hexadecimal digits")
    return value


def beacon_seed(raffle_id: int, commitment: str, public_value: str) -> bytes:
    """``SHA-256(ALGORITHM ‖ raffle_id as 8 bytes BE ‖ 32 commitment bytes ‖ V as UTF-8)``."""
    if not _is_int(raffle_id) or not 0 <= raffle_id <= MAX_RAFFLE_ID:
        raise DrawError(f"raffle id {raffle_id!r} does not fit 8 unsigned bytes")
    digest = bytes.fromhex(_check_commitment(commitment))
    if not isinstance(public_value, str):
        raise DrawError("the public value must be text")
    try:
        value = public_value.encode("utf-8")
    except UnicodeEncodeError:
        raise DrawError("the public value is not valid Unicode text") from None
    return hashlib.sha256(
        ALGORITHM.encode() + raffle_id.to_bytes(8, "big") + digest + value
    ).digest()


def word_stream(seed: bytes) -> Iterator[int]:
    """Unsigned 64-bit words: blocks ``SHA-256(seed ‖ b as 8 bytes BE)``, four words each."""
    block = 0
    while True:
        digest = hashlib.sha256(seed + block.to_bytes(8, "big")).digest()
        for offset in range(0, 32, 8):
            yield int.from_bytes(digest[offset : offset + 8], "big")
        block += 1


def uniform(words: Iterator[int], n: int, *, word_bits: int = 64) -> int:
    """An unbiased draw from ``0 … n-1``: reject ``x ≥ 2^bits − (2^bits mod n)``, then ``x mod n``.

    ``word_bits`` exists so that tests can show the rejection removing modulo bias on narrow
    words; the draw always uses 64.
    """
    span = 1 << word_bits
    limit = span - (span % n)
    x = next(words)
    while x >= limit:
        x = next(words)
    return x % n


def _sorted_sold(sold: Sequence[int]) -> list[int]:
    try:
        numbers = sorted(sold)
    except TypeError:
        raise DrawError("sold numbers must be integers") from None
    if not all(type(n) is int for n in numbers) or (numbers and numbers[0] < 0):
        bad = next(n for n in numbers if type(n) is not int or n < 0)
        raise DrawError(f"sold number {bad!r} is not a non-negative integer")
    if len(set(numbers)) != len(numbers):
        twice = next(a for a, b in pairwise(numbers) if a == b)
        raise DrawError(f"sold number {twice} appears twice")
    return numbers


def _check_winners(winners: object) -> int:
    if not _is_int(winners) or winners < 0:  # type: ignore[operator]
        raise DrawError(f"the number of winners must be a non-negative integer, not {winners!r}")
    return winners  # type: ignore[return-value]


def beacon_winners(
    raffle_id: int, commitment: str, public_value: str, sold: Sequence[int], winners: int
) -> list[int]:
    """The beacon draw: ``k = min(winners, len(sold))`` winning numbers, first prize first."""
    k = _check_winners(winners)
    numbers = _sorted_sold(sold)
    words = word_stream(beacon_seed(raffle_id, commitment, public_value))
    m = len(numbers)
    k = min(k, m)
    for i in range(k):
        j = i + uniform(words, m - i)
        numbers[i], numbers[j] = numbers[j], numbers[i]
    return numbers[:k]


def lottery_winners(
    drawn: Sequence[int], capacity: int, sold: Sequence[int], winners: int
) -> list[int]:
    """The lottery draw: each drawn ``n`` maps to the first free sold number ≥ ``n mod capacity``.

    Uses the first ``k = min(winners, len(sold))`` drawn numbers; fewer is a ``DrawError``.
    """
    _check_capacity(capacity)
    k = min(_check_winners(winners), len(sold))
    numbers = _sorted_sold(sold)
    if numbers and numbers[-1] >= capacity:
        raise DrawError(f"sold number {numbers[-1]} is outside 0 … {capacity - 1}")
    if len(drawn) < k:
        raise DrawError(f"{k} drawn numbers are needed, {len(drawn)} were given")
    m = len(numbers)
    taken: set[int] = set()
    out: list[int] = []
    for n in drawn[:k]:
        if not _is_int(n) or n < 0:
            raise DrawError(f"drawn number {n!r} is not a non-negative integer")
        index = bisect_left(numbers, n % capacity) % m
        while index in taken:  # k ≤ m, so a free one exists
            index = (index + 1) % m
        taken.add(index)
        out.append(numbers[index])
    return out


# -- beacons (drand) ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BeaconRound:
    """One round of a randomness beacon (drand): what a draw record keeps as provenance."""

    chain_hash: str
    round: int
    signature: str  # hex
    randomness: str  # lowercase hex, SHA-256 of the signature bytes
    time: datetime  # UTC, genesis + (round - 1) × period


def round_time(genesis: datetime, period: timedelta, round: int) -> datetime:
    """When drand round ``round`` is produced: ``genesis + (round - 1) × period``."""
    if not _is_int(round) or round < 1:
        raise BeaconInvalid(f"a beacon round is a positive integer, not {round!r}")
    try:
        return genesis + (round - 1) * period
    except OverflowError:
        raise BeaconInvalid(f"beacon round {round} is beyond any date") from None


def round_after(genesis: datetime, period: timedelta, moment: datetime) -> int:
    """The first round produced strictly after ``moment`` (the round to use after a close)."""
    if moment < genesis:
        return 1
    return (moment - genesis) // period + 2


def check_beacon_round(
    beacon: BeaconRound, *, not_before: datetime, expected_round: int | None = None
) -> None:
    """The checks that need no BLS: randomness = SHA-256(signature), the round, its time.

    ``not_before`` is the close: the round must be produced strictly after it. The signature
    itself is checked by the beacon adapter.
    """
    if expected_round is not None and beacon.round != expected_round:
        raise BeaconInvalid(f"beacon round {beacon.round} is not the requested {expected_round}")
    if not (_HEX.fullmatch(beacon.signature.lower()) and _HEX64.fullmatch(beacon.randomness)):
        raise BeaconInvalid("beacon signature or randomness is not lowercase hexadecimal")
    expected = hashlib.sha256(bytes.fromhex(beacon.signature)).hexdigest()
    if beacon.randomness != expected:
        raise BeaconInvalid("beacon randomness is not SHA-256 of its signature")
    if beacon.time <= not_before:
        raise BeaconInvalid(
            f"beacon round {beacon.round} was produced at {beacon.time.isoformat()}, "
            f"not after the close at {not_before.astimezone(UTC).isoformat()}"
        )


# -- the public record --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Verdict:
    """What ``verify_record`` found: ``match``, why not, and the recomputed winners."""

    match: bool
    reason: str
    winners: list[int] = field(default_factory=list)


def build_record(
    *,
    raffle_id: int,
    capacity: int,
    tickets: Iterable[tuple[int, int]],
    mode: str,
    public_value: str | None,
    drawn_numbers: Sequence[int] | None,
    provenance: Mapping[str, object],
    winners: Sequence[tuple[int, int, int]],
    rake: int,
    extra: Mapping[str, object],
) -> dict[str, object]:
    """The public JSON record of a drawn raffle (docs/draw.md gives every field).

    ``winners`` are ``(number, user_id, prize)`` first prize first; ``extra`` adds descriptive
    fields (name, currency, ticket_price, sales, prize_fund, prize_mode, closed_at) and may not
    replace a core field.
    """
    if mode not in MODES:
        raise DrawError(f"draw mode must be one of {', '.join(MODES)}, not {mode!r}")
    clash = _CORE_KEYS.intersection(extra)
    if clash:
        raise DrawError(f"extra fields may not replace {', '.join(sorted(clash))}")
    data = listing(tickets, capacity)
    return {
        "algorithm": ALGORITHM,
        "raffle_id": raffle_id,
        "capacity": capacity,
        "listing": data.decode(),
        "commitment": commitment(data),
        "mode": mode,
        "public_value": public_value,
        "drawn_numbers": None if drawn_numbers is None else list(drawn_numbers),
        "provenance": dict(provenance),
        "winners": [
            {"place": place, "number": number, "user_id": user_id, "prize": prize}
            for place, (number, user_id, prize) in enumerate(winners, start=1)
        ],
        "rake": rake,
        **extra,
    }


class _Mismatch(Exception):
    pass


def _field(record: Mapping[str, object], name: str, kind: type | tuple[type, ...]) -> object:
    if name not in record:
        raise _Mismatch(f"the record has no {name!r}")
    value = record[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _Mismatch(f"{name!r} has the wrong type")
    return value


def _recompute(record: Mapping[str, object]) -> list[int]:
    """The winners the record's own inputs give; raises ``_Mismatch``/``DrawError`` if not."""
    if not isinstance(record, Mapping):
        raise _Mismatch("the record is not a JSON object")
    if record.get("algorithm") != ALGORITHM:
        raise _Mismatch(f"unknown algorithm {record.get('algorithm')!r}, expected {ALGORITHM}")
    raffle_id = _field(record, "raffle_id", int)
    capacity = _check_capacity(_field(record, "capacity", int))
    text = _field(record, "listing", str)
    assert isinstance(text, str)
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        raise _Mismatch("the listing is not valid Unicode text") from None
    pairs = parse_listing(data, capacity)
    if commitment(data) != record.get("commitment"):
        raise _Mismatch("the commitment is not SHA-256 of the listing")
    sold = [number for number, _ in pairs]
    owners = dict(pairs)
    placed = _field(record, "winners", list)
    assert isinstance(placed, list)
    mode = record.get("mode")
    provenance = _field(record, "provenance", dict)
    assert isinstance(provenance, dict)
    if mode == "beacon":
        value = _field(record, "public_value", str)
        assert isinstance(value, str)
        if provenance.get("source") == "drand":
            _check_drand_provenance(provenance, value)
        elif provenance.get("source") != "text":
            raise _Mismatch("a beacon draw's provenance source is 'drand' or 'text'")
        assert isinstance(raffle_id, int)
        winners = beacon_winners(raffle_id, str(record["commitment"]), value, sold, len(placed))
    elif mode == "lottery":
        if provenance.get("source") != "lottery":
            raise _Mismatch("a lottery draw's provenance source is 'lottery'")
        drawn = _field(record, "drawn_numbers", list)
        assert isinstance(drawn, list)
        winners = lottery_winners(drawn, capacity, sold, len(placed))
    else:
        raise _Mismatch(f"unknown draw mode {mode!r}")
    _check_placed(placed, winners, owners)
    _check_money(record, placed)
    return winners


def _check_drand_provenance(provenance: Mapping[str, object], value: str) -> None:
    for name in ("chain_hash", "round", "signature", "randomness"):
        if name not in provenance:
            raise _Mismatch(f"the drand provenance has no {name!r}")
    if not (_is_int(provenance["round"]) and provenance["round"] >= 1):  # type: ignore[operator]
        raise _Mismatch("the drand round is not a positive integer")
    if not isinstance(provenance["chain_hash"], str):
        raise _Mismatch("the drand chain hash is not text")
    signature, randomness = provenance["signature"], provenance["randomness"]
    if not (isinstance(signature, str) and _HEX.fullmatch(signature.lower())):
        raise _Mismatch("the drand signature is not hexadecimal")
    if hashlib.sha256(bytes.fromhex(signature)).hexdigest() != randomness:
        raise _Mismatch("the drand randomness is not SHA-256 of its signature")
    if value != randomness:
        raise _Mismatch("the public value is not the drand round's randomness")


def _check_placed(placed: list[object], winners: list[int], owners: Mapping[int, int]) -> None:
    if len(winners) != len(placed):
        raise _Mismatch(f"the record lists {len(placed)} winners, the draw gives {len(winners)}")
    for place, (entry, number) in enumerate(zip(placed, winners, strict=True), start=1):
        if not isinstance(entry, Mapping):
            raise _Mismatch(f"winner {place} is not an object")
        if entry.get("place") != place:
            raise _Mismatch(f"winner {place} has place {entry.get('place')!r}")
        if entry.get("number") != number or isinstance(entry.get("number"), bool):
            raise _Mismatch(
                f"winner {place} is ticket {entry.get('number')!r}; the draw gives {number}"
            )
        if entry.get("user_id") != owners[number]:
            raise _Mismatch(
                f"winner {place} (ticket {number}) is user {entry.get('user_id')!r}; "
                f"the listing gives {owners[number]}"
            )
        if not _is_int(entry.get("prize")) or entry["prize"] < 0:
            raise _Mismatch(f"winner {place} has no valid prize")


def _check_money(record: Mapping[str, object], placed: list[object]) -> None:
    """Prizes add up to the fund, and (proportional) fund + rake = sales, when recorded."""
    rake = _field(record, "rake", int)
    assert isinstance(rake, int)
    if rake < 0:
        raise _Mismatch("the rake is negative")
    prizes = sum(entry["prize"] for entry in placed)  # type: ignore[index]
    fund = record.get("prize_fund")
    if fund is not None and (not _is_int(fund) or prizes != fund):
        raise _Mismatch(f"the prizes add up to {prizes}, the prize fund is {fund!r}")
    sales = record.get("sales")
    proportional = record.get("prize_mode") == "proportional" and sales is not None
    if proportional and (not (_is_int(fund) and _is_int(sales)) or fund + rake != sales):  # type: ignore[operator]
        raise _Mismatch(f"prize fund {fund!r} + rake {rake} is not the sales {sales!r}")


def verify_record(record: Mapping[str, object]) -> Verdict:
    """Recompute a record's draw: listing → commitment → winners → owners. Never raises."""
    try:
        winners = _recompute(record)
    except (_Mismatch, DrawError) as exc:
        return Verdict(False, str(exc))
    except Exception as exc:  # a malformed record must never crash a verifier
        return Verdict(False, f"malformed record ({type(exc).__name__})")
    return Verdict(True, f"match: {len(winners)} winners recomputed", winners)
