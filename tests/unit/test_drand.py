"""drand quicknet verification (wagerkit.adapters.drand) against real published beacons.

The rounds below are real quicknet beacons published by the League of Entropy, as quoted in
public drand client test suites and READMEs (drand-verify's README gives 657413; others give
1000, 12040883, 32281667, 32285085 and 32285086). Each verifies against the chain's public key;
the same signature for another round, a tampered signature and a round of another chain do not.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from wagerkit.adapters.drand import (
    QUICKNET_CHAIN_HASH,
    QUICKNET_GENESIS,
    QUICKNET_PUBLIC_KEY,
    DrandBeacon,
    verify_signature,
)
from wagerkit.domain.draw import BeaconRound
from wagerkit.domain.errors import BeaconInvalid

REAL = {
    657413: "b713718a38ae728dfd477991af2822e08d2f305e47718cef9f7848ce4050e7be41076862b98fad56e91a6b85b89cd97b",
    1000: "b44679b9a59af2ec876b1a6b1ad52ea9b1615fc3982b19576350f93447cb1125e342b73a8dd2bacbe47e4b6b63ed5e39",
    12040883: "929906c959032ab363c9f26570d215d66f5c06cb0c44fe508c12bb5839f04ec895bb6868e5b9ff13ab289bdb5266b394",
    32281667: "b0f5ae301358ff87a9d3dd539ed4a07c0148b1ab4f7b61a8ca43c7e9ca7ca9553e4faae9188deb30b2cd1a7f447e3e5b",
    32285085: "81dbce51d584d90d618547f4b50391d53ace6f6b9aeb8fb67e1879427af9d0310ac0ec6f519271d9a313ee84b378d416",
    32285086: "a64d99fd7fa3e48912be7209c7b69c72c88fc5224be2516949b6f29f3a4b7e3fa069dd58b2bbb4bf2c34ae61ef631a44",
}
# published with their signatures: randomness = SHA-256(signature)
RANDOMNESS = {
    657413: "fc1873a13f3545aeade8401532ef5519920652eee6b0d2b19ca12643b87b3587",
    32281667: "4fd2fc55983dbfa3f446d8a0bd56f16cc8c5e76afd1ec154b60d477cbabed13b",
}
# round 1000 of another chain (quoted beside quicknet's as a "foreign" beacon)
FOREIGN_1000 = "b09eacd45767c4d58306b98901ad0d6086e2663766f3a4ec71d00cf26f0f49eaf248abc7151c60cf419c4e8b37e80412"

beacon = DrandBeacon()


@pytest.mark.parametrize("round_", list(REAL))
def test_real_quicknet_beacons_verify(round_: int) -> None:
    assert verify_signature(round_, REAL[round_], QUICKNET_PUBLIC_KEY)
    entered = beacon.entered(round_, REAL[round_])
    assert entered.randomness == hashlib.sha256(bytes.fromhex(REAL[round_])).hexdigest()
    if round_ in RANDOMNESS:
        assert entered.randomness == RANDOMNESS[round_]
    assert entered.chain_hash == QUICKNET_CHAIN_HASH
    assert entered.time == QUICKNET_GENESIS + (round_ - 1) * timedelta(seconds=3)


def test_round_times_match_published_ones() -> None:
    assert datetime(2023, 8, 23, 15, 9, 27, tzinfo=UTC) == QUICKNET_GENESIS
    assert beacon.round_time(1) == QUICKNET_GENESIS
    close = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)
    r = beacon.round_after(close)
    assert beacon.round_time(r - 1) <= close < beacon.round_time(r)
    assert beacon.round_after(beacon.round_time(r)) == r + 1  # strictly after


@pytest.mark.parametrize("round_", [657412, 657414, 1, 2**33])
def test_a_signature_for_another_round_is_refused(round_: int) -> None:
    assert not verify_signature(round_, REAL[657413], QUICKNET_PUBLIC_KEY)
    with pytest.raises(BeaconInvalid, match="BLS signature does not verify"):
        beacon.entered(round_, REAL[657413])


def tampered(signature: str, position: int) -> str:
    raw = bytearray(bytes.fromhex(signature))
    raw[position] ^= 0x01
    return raw.hex()


@pytest.mark.parametrize("position", [0, 1, 20, 47])
def test_a_tampered_signature_is_refused(position: int) -> None:
    bad = tampered(REAL[657413], position)
    assert not verify_signature(657413, bad, QUICKNET_PUBLIC_KEY)
    with pytest.raises(BeaconInvalid):
        beacon.entered(657413, bad)


@pytest.mark.parametrize(
    "signature",
    [FOREIGN_1000, "", "zz", "ab" * 47, "ab" * 49, "c0" + "00" * 47, "ff" * 48, "00" * 48],
)
def test_foreign_or_malformed_signatures_are_refused_without_a_crash(signature: str) -> None:
    assert not verify_signature(1000, signature, QUICKNET_PUBLIC_KEY)
    with pytest.raises(BeaconInvalid):
        beacon.entered(1000, signature)


@pytest.mark.parametrize("round_", [0, -1, 2**64, True, "657413"])
def test_bad_round_numbers(round_: object) -> None:
    with pytest.raises(BeaconInvalid):
        beacon.entered(round_, REAL[657413])  # type: ignore[arg-type]


def test_check_refuses_early_wrong_chain_or_inconsistent_rounds() -> None:
    good = beacon.entered(657413, REAL[657413])
    beacon.check(good, good.time - timedelta(seconds=1))
    with pytest.raises(BeaconInvalid, match="not after the close"):
        beacon.check(good, good.time)
    with pytest.raises(BeaconInvalid, match="chain"):
        beacon.check(
            BeaconRound("00" * 32, 657413, good.signature, good.randomness, good.time),
            good.time - timedelta(days=1),
        )
    with pytest.raises(BeaconInvalid, match="time"):
        beacon.check(
            BeaconRound(
                good.chain_hash,
                657413,
                good.signature,
                good.randomness,
                good.time + timedelta(seconds=3),
            ),
            good.time - timedelta(days=1),
        )
    with pytest.raises(BeaconInvalid, match="SHA-256"):
        beacon.check(
            BeaconRound(good.chain_hash, 657413, good.signature, "00" * 32, good.time),
            good.time - timedelta(days=1),
        )
    other = beacon.entered(1000, REAL[1000])
    moved = BeaconRound(good.chain_hash, 1000, good.signature, good.randomness, other.time)
    with pytest.raises(BeaconInvalid, match="BLS"):
        beacon.check(moved, other.time - timedelta(days=1))


def test_verification_is_fast() -> None:
    import time

    start = time.perf_counter()
    for round_, signature in REAL.items():
        assert verify_signature(round_, signature, beacon._key)
    assert (time.perf_counter() - start) / len(REAL) < 0.25
