#!/usr/bin/env python3
"""Check a wagerkit raffle draw yourself, without installing wagerkit.

Usage::

    python3 verify_raffle.py RECORD.json        # exit 0: match, 1: mismatch, 2: unreadable

RECORD.json is the public record of a drawn raffle (``wagerkit raffles record ID --json`` or
``GET /api/v1/raffles/{id}/record``). This script re-implements draw v1 from the text of the
specification with the standard library only (docs/draw.md):

1. the listing is canonical (ascending numbers, zero-padded to the digits of capacity - 1);
2. the commitment is the SHA-256 of the listing;
3. for a drand round, the randomness is the SHA-256 of the signature and is the public value,
   and — when ``py-arkworks-bls12381`` (or ``drand-verify``) is installed — the BLS signature
   verifies against the quicknet public key for that round;
4. the winners recomputed from the listing and the public value (beacon) or the drawn numbers
   (lottery) are the recorded ones, in order, with the listing's owners;
5. the prizes add up to the prize fund, and fund + rake = sales in proportional mode.
"""

from __future__ import annotations

import hashlib
import json
import sys

ALGORITHM = "wagerkit/raffle-draw/v1"
QUICKNET_CHAIN_HASH = "52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971"
QUICKNET_PUBLIC_KEY = (
    "83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c8c4b450b6a0a6c3ac6a5776a2d"
    "1064510d1fec758c921cc22b0e17e63aaf4bcb5ed66304de9cf809bd274ca73bab4af5a6e9c76a4bc09e76eae89"
    "91ef5ece45a"
)
BLS_DST = b"BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_"
TWO64 = 2**64


class Mismatch(Exception):
    """The record does not hold up; the message says why."""


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def make_listing(pairs: list[tuple[int, int]], capacity: int) -> bytes:
    width = len(str(capacity - 1))
    return "".join(f"{n:0{width}d}:{u}\n" for n, u in sorted(pairs)).encode()


def read_listing(text: str, capacity: int) -> list[tuple[int, int]]:
    pairs = []
    for index, row in enumerate(text.split("\n")[:-1], start=1):
        number, sep, user = row.partition(":")
        if not (sep and number.isdigit() and user.lstrip("-").isdigit()):
            raise Mismatch(f"listing line {index} is not number:user_id")
        pairs.append((int(number), int(user)))
    numbers = [n for n, _ in pairs]
    if len(set(numbers)) != len(numbers) or any(n >= capacity for n in numbers):
        raise Mismatch("the listing repeats a number or goes past the capacity")
    if make_listing(pairs, capacity) != text.encode():
        raise Mismatch("the listing is not canonical (order, padding or format)")
    return pairs


def words(seed: bytes):
    block = 0
    while True:
        digest = hashlib.sha256(seed + block.to_bytes(8, "big")).digest()
        for offset in (0, 8, 16, 24):
            yield int.from_bytes(digest[offset : offset + 8], "big")
        block += 1


def beacon_draw(raffle_id: int, commit: str, value: str, sold: list[int], k: int) -> list[int]:
    seed = hashlib.sha256(
        ALGORITHM.encode() + raffle_id.to_bytes(8, "big") + bytes.fromhex(commit) + value.encode()
    ).digest()
    stream = words(seed)
    s = sorted(sold)
    for i in range(k):
        n = len(s) - i
        x = next(stream)
        while x >= TWO64 - TWO64 % n:
            x = next(stream)
        j = i + x % n
        s[i], s[j] = s[j], s[i]
    return s[:k]


def lottery_draw(drawn: list[object], capacity: int, sold: list[int], k: int) -> list[int]:
    if len(drawn) < k or not all(is_int(n) and n >= 0 for n in drawn[:k]):
        raise Mismatch(f"the lottery draw needs {k} non-negative drawn numbers")
    owned, chosen = set(sold), []
    for n in drawn[:k]:
        t = n % capacity
        while t not in owned or t in chosen:
            t = (t + 1) % capacity
        chosen.append(t)
    return chosen


def check_bls(round_: int, signature: str) -> str:
    """'verified', or why the signature was not checked; raises Mismatch if it fails."""
    message = hashlib.sha256(round_.to_bytes(8, "big")).digest()
    try:
        from py_arkworks_bls12381 import GT, G1Point, G2Point
    except ImportError:
        pass
    else:
        try:
            sig = G1Point.from_compressed_bytes(bytes.fromhex(signature))
            key = G2Point.from_compressed_bytes(bytes.fromhex(QUICKNET_PUBLIC_KEY))
            point = G1Point.hash_to_curve(message, BLS_DST)
            ok = GT.pairing_check([sig, point], [-G2Point(), key])
        except Exception:
            ok = False
        if not ok:
            raise Mismatch(f"the BLS signature does not verify for quicknet round {round_}")
        return "BLS signature verified (py-arkworks-bls12381)"
    try:
        import drand_verify
    except ImportError:
        return "BLS signature not checked (pip install py-arkworks-bls12381 to check it)"
    try:
        drand_verify.verify_quicknet(round_, signature, QUICKNET_PUBLIC_KEY)
    except Exception:
        raise Mismatch(f"the BLS signature does not verify for quicknet round {round_}") from None
    return "BLS signature verified (drand-verify)"


def check_drand(prov: dict[str, object], value: object) -> str:
    signature, randomness, round_ = prov.get("signature"), prov.get("randomness"), prov.get("round")
    if not (isinstance(signature, str) and is_int(round_) and round_ >= 1):
        raise Mismatch("the drand provenance needs a positive round and a hex signature")
    if not isinstance(prov.get("chain_hash"), str):
        raise Mismatch("the drand provenance needs the chain hash")
    try:
        digest = hashlib.sha256(bytes.fromhex(signature)).hexdigest()
    except ValueError:
        raise Mismatch("the drand signature is not hexadecimal") from None
    if digest != randomness:
        raise Mismatch("the drand randomness is not SHA-256 of its signature")
    if value != randomness:
        raise Mismatch("the public value is not the drand round's randomness")
    if prov.get("chain_hash") != QUICKNET_CHAIN_HASH:
        return "BLS signature not checked (not the quicknet chain)"
    return check_bls(round_, signature)


def verify(record: object) -> tuple[list[int], str]:
    """The recomputed winners and a note on the beacon; raises Mismatch."""
    if not isinstance(record, dict):
        raise Mismatch("the record is not a JSON object")
    if record.get("algorithm") != ALGORITHM:
        raise Mismatch(f"unknown algorithm {record.get('algorithm')!r}")
    raffle_id, capacity = record.get("raffle_id"), record.get("capacity")
    text, commit, placed = record.get("listing"), record.get("commitment"), record.get("winners")
    if not (is_int(raffle_id) and 0 <= raffle_id < TWO64 and is_int(capacity) and capacity >= 1):
        raise Mismatch("raffle_id or capacity is not a valid integer")
    if not (isinstance(text, str) and isinstance(placed, list)):
        raise Mismatch("the record needs a listing text and a winners list")
    pairs = read_listing(text, capacity)
    if hashlib.sha256(text.encode()).hexdigest() != commit:
        raise Mismatch("the commitment is not SHA-256 of the listing")
    owners = dict(pairs)
    sold, k = list(owners), min(len(placed), len(owners))
    prov, note = record.get("provenance"), "no beacon"
    if not isinstance(prov, dict):
        raise Mismatch("the record has no provenance object")
    if record.get("mode") == "beacon":
        value = record.get("public_value")
        if not isinstance(value, str):
            raise Mismatch("a beacon draw needs a public value")
        if prov.get("source") == "drand":
            note = check_drand(prov, value)
        elif prov.get("source") == "text":
            note = "public value entered as text"
        else:
            raise Mismatch("a beacon draw's provenance source is 'drand' or 'text'")
        winners = beacon_draw(raffle_id, commit, value, sold, k)
    elif record.get("mode") == "lottery":
        if prov.get("source") != "lottery":
            raise Mismatch("a lottery draw's provenance source is 'lottery'")
        drawn = record.get("drawn_numbers")
        if not isinstance(drawn, list):
            raise Mismatch("a lottery draw needs its drawn numbers")
        winners, note = lottery_draw(drawn, capacity, sold, k), "lottery numbers as entered"
    else:
        raise Mismatch(f"unknown draw mode {record.get('mode')!r}")
    if len(placed) != len(winners):
        raise Mismatch(f"the record lists {len(placed)} winners, the draw gives {len(winners)}")
    for place, (entry, number) in enumerate(zip(placed, winners, strict=True), start=1):
        if not isinstance(entry, dict) or entry.get("place") != place:
            raise Mismatch(f"winner {place} is malformed")
        if entry.get("number") != number:
            raise Mismatch(
                f"winner {place} is ticket {entry.get('number')!r}; the draw gives {number}"
            )
        if entry.get("user_id") != owners[number]:
            raise Mismatch(
                f"winner {place} is user {entry.get('user_id')!r}; the listing gives {owners[number]}"
            )
        if not (is_int(entry.get("prize")) and entry["prize"] >= 0):
            raise Mismatch(f"winner {place} has no valid prize")
    check_money(record, [entry["prize"] for entry in placed])
    return winners, note


def check_money(record: dict[str, object], prizes: list[int]) -> None:
    rake, fund, sales = record.get("rake"), record.get("prize_fund"), record.get("sales")
    if not (is_int(rake) and rake >= 0):
        raise Mismatch("the rake is not a non-negative integer")
    if fund is not None and (not is_int(fund) or sum(prizes) != fund):
        raise Mismatch(f"the prizes add up to {sum(prizes)}, the prize fund is {fund!r}")
    proportional = record.get("prize_mode") == "proportional" and sales is not None
    if proportional and (not (is_int(fund) and is_int(sales)) or fund + rake != sales):
        raise Mismatch(f"prize fund {fund!r} + rake {rake} is not the sales {sales!r}")


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: verify_raffle.py RECORD.json", file=sys.stderr)
        return 2
    try:
        with open(argv[1], encoding="utf-8") as handle:
            record = json.load(handle)
    except (OSError, ValueError) as exc:
        print(f"cannot read {argv[1]}: {exc}", file=sys.stderr)
        return 2
    try:
        winners, note = verify(record)
    except Mismatch as exc:
        print(f"mismatch: {exc}")
        return 1
    except Exception as exc:  # a malformed record is a mismatch, never a traceback
        print(f"mismatch: malformed record ({type(exc).__name__})")
        return 1
    print(f"match: raffle {record['raffle_id']}, winners {winners}; {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
