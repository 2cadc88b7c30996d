"""The drand beacon (the ``RandomnessBeacon`` port; docs/draw.md): quicknet by default.

drand's League of Entropy publishes a round every ``period`` seconds from ``genesis``; round
``r`` is produced at ``genesis + (r - 1) × period``. Quicknet is ``bls-unchained-g1-rfc9380``:
the signature is a compressed G1 point (48 bytes), the chain's public key a G2 point (96 bytes),
the signed message is ``SHA-256(r as 8 bytes big-endian)`` hashed to G1 with the RFC 9380 suite
``BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_``, and the randomness is ``SHA-256(signature)``.
A signature verifies when ``e(signature, −g2) · e(H(m), public key) = 1``.

``DrandBeacon`` fetches ``GET {relay}/{chain_hash}/public/{round|latest}`` from the first relay
that answers (httpx, the ``net`` extra), and checks every round, fetched or typed in by an
operator, with py-arkworks-bls12381 (the ``drand`` extra). A relay that is down, slow, answers
an error status or malformed JSON is ``BeaconUnavailable``; a round that does not verify, of
another number than asked, or produced before the close is ``BeaconInvalid``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING

import httpx

from ..domain.draw import BeaconRound, check_beacon_round, round_after, round_time
from ..domain.errors import BeaconInvalid, BeaconUnavailable

if TYPE_CHECKING:
    from py_arkworks_bls12381 import G2Point

__all__ = [
    "DEFAULT_RELAYS",
    "QUICKNET_CHAIN_HASH",
    "QUICKNET_GENESIS",
    "QUICKNET_PERIOD",
    "QUICKNET_PUBLIC_KEY",
    "DrandBeacon",
    "verify_signature",
]

#: drand mainnet quicknet (``/info`` of the chain; docs/draw.md).
QUICKNET_CHAIN_HASH = "52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971"
QUICKNET_PUBLIC_KEY = (
    "83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c8c4b450b6a0a6c3ac6a5776a2d"
    "1064510d1fec758c921cc22b0e17e63aaf4bcb5ed66304de9cf809bd274ca73bab4af5a6e9c76a4bc09e76eae89"
    "91ef5ece45a"
)
QUICKNET_GENESIS = datetime.fromtimestamp(1692803367, tz=UTC)  # 2023-08-23T15:09:27Z
QUICKNET_PERIOD = timedelta(seconds=3)
#: The League of Entropy's public HTTP relays, tried in order.
DEFAULT_RELAYS = ("https://api.drand.sh", "https://api2.drand.sh", "https://api3.drand.sh")
BLS_DST = b"BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_"
_MAX_ANSWER = 64 * 1024


def _public_key_point(public_key: str) -> G2Point:
    try:
        from py_arkworks_bls12381 import G2Point
    except ImportError:  # pragma: no cover - the drand extra is part of `all`
        raise BeaconUnavailable(
            "BLS verification needs py-arkworks-bls12381: pip install 'wagerkit[drand]'"
        ) from None
    return G2Point.from_compressed_bytes(bytes.fromhex(public_key))


def verify_signature(round: int, signature: str, public_key: G2Point | str) -> bool:
    """Whether ``signature`` (hex, compressed G1) is the chain's BLS signature of ``round``.

    False for anything that is not a valid point of the right subgroup; never raises for a
    malformed signature.
    """
    from py_arkworks_bls12381 import GT, G1Point, G2Point

    key = _public_key_point(public_key) if isinstance(public_key, str) else public_key
    try:
        point = G1Point.from_compressed_bytes(bytes.fromhex(signature))
    except (ValueError, TypeError):  # not hex, wrong length, not on the curve or subgroup
        return False
    message = hashlib.sha256(round.to_bytes(8, "big")).digest()
    return GT.pairing_check([point, G1Point.hash_to_curve(message, BLS_DST)], [-G2Point(), key])


def _check_round(round: object) -> None:
    if not isinstance(round, int) or isinstance(round, bool) or not 1 <= round < 2**64:
        raise BeaconInvalid(f"a drand round is an integer from 1 to 2^64 - 1, not {round!r}")


class DrandBeacon:
    """A drand chain reached over HTTP relays; every round it returns has been verified."""

    def __init__(
        self,
        *,
        relays: Sequence[str] = DEFAULT_RELAYS,
        chain_hash: str = QUICKNET_CHAIN_HASH,
        public_key: str = QUICKNET_PUBLIC_KEY,
        genesis: datetime = QUICKNET_GENESIS,
        period: timedelta = QUICKNET_PERIOD,
        timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not relays:
            raise ValueError("at least one drand relay URL is needed")
        self._relays = tuple(url.rstrip("/") for url in relays)
        self._chain_hash = chain_hash
        self._public_key = public_key
        self._genesis = genesis
        self._period = period
        self._timeout = timeout
        self._transport = transport

    def __repr__(self) -> str:
        return f"DrandBeacon(chain_hash={self._chain_hash[:12]}…, relays={self._relays})"

    @property
    def chain_hash(self) -> str:
        return self._chain_hash

    @cached_property
    def _key(self) -> G2Point:
        return _public_key_point(self._public_key)

    def round_after(self, moment: datetime) -> int:
        return round_after(self._genesis, self._period, moment)

    def round_time(self, round: int) -> datetime:
        return round_time(self._genesis, self._period, round)

    def entered(self, round: int, signature: str) -> BeaconRound:
        _check_round(round)
        signature = signature.strip().lower() if isinstance(signature, str) else ""
        try:
            raw = bytes.fromhex(signature)
        except ValueError:
            raise BeaconInvalid("the drand signature is not hexadecimal") from None
        beacon = BeaconRound(
            chain_hash=self._chain_hash,
            round=round,
            signature=signature,
            randomness=hashlib.sha256(raw).hexdigest(),
            time=self.round_time(round),
        )
        self._verify(beacon)
        return beacon

    def check(self, beacon: BeaconRound, not_before: datetime) -> None:
        self._verify(beacon)
        check_beacon_round(beacon, not_before=not_before)

    async def round(
        self, round: int, *, signature: str | None = None, not_before: datetime
    ) -> BeaconRound:
        _check_round(round)
        beacon = self.entered(round, signature) if signature else await self.fetch(round)
        check_beacon_round(beacon, not_before=not_before, expected_round=round)
        return beacon

    def _verify(self, beacon: BeaconRound) -> None:
        _check_round(beacon.round)
        if beacon.chain_hash != self._chain_hash:
            raise BeaconInvalid(f"round of chain {beacon.chain_hash!r}, not {self._chain_hash}")
        if beacon.time != self.round_time(beacon.round):
            raise BeaconInvalid(f"round {beacon.round} has the wrong time")
        try:
            expected = hashlib.sha256(bytes.fromhex(beacon.signature)).hexdigest()
        except ValueError:
            raise BeaconInvalid("the drand signature is not hexadecimal") from None
        if beacon.randomness != expected:
            raise BeaconInvalid("the drand randomness is not SHA-256 of its signature")
        if not verify_signature(beacon.round, beacon.signature, self._key):
            raise BeaconInvalid(f"the BLS signature does not verify for round {beacon.round}")

    async def fetch(self, round: int | None = None) -> BeaconRound:
        if round is not None:
            _check_round(round)
        path = f"/{self._chain_hash}/public/{'latest' if round is None else round}"
        failures: list[str] = []
        async with httpx.AsyncClient(
            timeout=self._timeout, transport=self._transport, follow_redirects=False
        ) as client:
            for relay in self._relays:
                try:
                    beacon = self._parse(await self._get(client, relay + path))
                except BeaconUnavailable as exc:
                    failures.append(f"{relay}: {exc.detail}")
                    continue
                if round is not None and beacon.round != round:
                    raise BeaconInvalid(f"the relay answered round {beacon.round}, not {round}")
                self._verify(beacon)
                return beacon
        raise BeaconUnavailable("no drand relay answered: " + "; ".join(failures))

    async def _get(self, client: httpx.AsyncClient, url: str) -> dict[str, object]:
        try:
            response = await client.get(url, headers={"Accept": "application/json"})
        except httpx.TimeoutException:
            raise BeaconUnavailable(f"timed out after {self._timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise BeaconUnavailable(f"unreachable ({type(exc).__name__})") from None
        if response.status_code != 200:
            raise BeaconUnavailable(f"HTTP {response.status_code}")
        if len(response.content) > _MAX_ANSWER:
            raise BeaconUnavailable("answer too large")
        try:
            data = json.loads(response.content)
        except ValueError:
            raise BeaconUnavailable("the answer is not JSON") from None
        if not isinstance(data, dict):
            raise BeaconUnavailable("the answer is not a JSON object")
        return data

    def _parse(self, data: dict[str, object]) -> BeaconRound:
        number, signature, randomness = (
            data.get("round"),
            data.get("signature"),
            data.get("randomness"),
        )
        if not (
            isinstance(number, int)
            and not isinstance(number, bool)
            and 1 <= number < 2**64
            and isinstance(signature, str)
            and isinstance(randomness, str)
        ):
            raise BeaconUnavailable("the relay's answer lacks round, signature or randomness")
        return BeaconRound(
            chain_hash=self._chain_hash,
            round=number,
            signature=signature.lower(),
            randomness=randomness.lower(),
            time=self.round_time(number),
        )
