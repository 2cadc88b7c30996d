"""The draw module's API (wagerkit.domain.draw): listing, commitment, both draws, the record.

Small worked examples and every refusal; the known-answer vectors are in test_draw_vectors.py
and the hypothesis properties in test_draw_props.py.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from wagerkit.domain.draw import (
    ALGORITHM,
    BeaconRound,
    DrawError,
    Verdict,
    beacon_seed,
    beacon_winners,
    build_record,
    check_beacon_round,
    commitment,
    listing,
    lottery_winners,
    parse_listing,
    round_after,
    round_time,
    ticket_width,
    verify_record,
)
from wagerkit.domain.errors import BeaconInvalid, InvalidInput

TICKETS = [(5, 1), (0, 2), (9, 3), (3, 4)]


def record(**overrides: object) -> dict[str, object]:
    tickets = TICKETS
    data = listing(tickets, 10)
    chosen = beacon_winners(7, commitment(data), "hello", [n for n, _ in tickets], 2)
    owners = dict(tickets)
    args: dict[str, object] = {
        "raffle_id": 7,
        "capacity": 10,
        "tickets": tickets,
        "mode": "beacon",
        "public_value": "hello",
        "drawn_numbers": None,
        "provenance": {"source": "text"},
        "winners": [(n, owners[n], p) for n, p in zip(chosen, (30, 6), strict=False)],
        "rake": 4,
        "extra": {"name": "Test", "sales": 40, "prize_fund": 36, "prize_mode": "proportional"},
    }
    args.update(overrides)
    return build_record(**args)  # type: ignore[arg-type]


def test_draw_error_is_invalid_input() -> None:
    assert issubclass(DrawError, InvalidInput)
    assert DrawError.code == "invalid_draw"
    assert issubclass(BeaconInvalid, DrawError)
    assert ALGORITHM == "wagerkit/raffle-draw/v1"


@pytest.mark.parametrize(
    ("capacity", "width"), [(1, 1), (2, 1), (10, 1), (11, 2), (100, 2), (101, 3), (1000, 3)]
)
def test_ticket_width(capacity: int, width: int) -> None:
    assert ticket_width(capacity) == width


@pytest.mark.parametrize("capacity", [0, -1, True, 2.0, "10"])
def test_ticket_width_refuses_bad_capacity(capacity: object) -> None:
    with pytest.raises(DrawError):
        ticket_width(capacity)  # type: ignore[arg-type]


def test_listing_is_sorted_padded_lines() -> None:
    assert listing(TICKETS, 10) == b"0:2\n3:4\n5:1\n9:3\n"
    assert listing([(7, 12), (42, 3)], 1000) == b"007:12\n042:3\n"
    assert listing([], 10) == b""
    assert commitment(b"") == hashlib.sha256(b"").hexdigest()


@pytest.mark.parametrize(
    "tickets", [[(1, 1), (1, 2)], [(10, 1)], [(-1, 1)], [(1.0, 1)], [(1, "u")], [(True, 1)]]
)
def test_listing_refuses_bad_tickets(tickets: list[tuple[int, int]]) -> None:
    with pytest.raises(DrawError):
        listing(tickets, 10)


def test_parse_listing_round_trips_and_refuses_non_canonical() -> None:
    assert parse_listing(listing(TICKETS, 10), 10) == sorted(TICKETS)
    assert parse_listing(b"", 10) == []
    for bad in (b"3:4\n0:2\n", b"00:2\n", b"0:2", b"0-2\n", b"0:x\n", b"\xff\n", b"0:2\n0:3\n"):
        with pytest.raises(DrawError):
            parse_listing(bad, 10)


def test_beacon_seed_layout() -> None:
    c = "ab" * 32
    expected = hashlib.sha256(
        b"wagerkit/raffle-draw/v1" + (7).to_bytes(8, "big") + bytes.fromhex(c) + "é".encode()
    ).digest()
    assert beacon_seed(7, c, "é") == expected


@pytest.mark.parametrize(
    ("raffle_id", "commit", "value"),
    [(-1, "ab" * 32, "v"), (2**64, "ab" * 32, "v"), (1, "AB" * 32, "v"), (1, "ab" * 31, "v")],
)
def test_beacon_seed_refuses(raffle_id: int, commit: str, value: str) -> None:
    with pytest.raises(DrawError):
        beacon_seed(raffle_id, commit, value)


def test_beacon_winners_basics() -> None:
    c = commitment(listing(TICKETS, 10))
    first = beacon_winners(7, c, "hello", [5, 0, 9, 3], 2)
    assert len(first) == 2
    assert set(first) <= {0, 3, 5, 9}
    assert beacon_winners(7, c, "hello", [9, 3, 0, 5], 2) == first
    assert beacon_winners(7, c, "hello", [5, 0, 9, 3], 9) == beacon_winners(
        7, c, "hello", [0, 3, 5, 9], 4
    )
    assert beacon_winners(7, c, "hello", [], 3) == []
    assert beacon_winners(7, c, "hello", [5], 0) == []
    with pytest.raises(DrawError):
        beacon_winners(7, c, "hello", [5, 5], 1)
    with pytest.raises(DrawError):
        beacon_winners(7, c, "hello", [5], -1)


def test_lottery_winners_wraps_and_skips() -> None:
    sold = [0, 3, 5, 9]
    assert lottery_winners([13, 15], 10, sold, 2) == [3, 5]
    assert lottery_winners([4, 4, 4], 10, sold, 3) == [5, 9, 0]  # skip earlier winners, wrap
    assert lottery_winners([10, 1234567], 10, sold, 2) == [0, 9]
    assert lottery_winners([1, 2, 3, 4, 5], 10, sold, 2) == [3, 5]  # only the first k used
    assert lottery_winners([], 10, [], 3) == []
    with pytest.raises(DrawError):
        lottery_winners([1], 10, sold, 2)
    with pytest.raises(DrawError):
        lottery_winners([-1], 10, sold, 1)
    with pytest.raises(DrawError):
        lottery_winners([1], 10, [10], 1)


def test_rounds_and_their_times() -> None:
    genesis = datetime(2023, 8, 23, 15, 9, 27, tzinfo=UTC)
    period = timedelta(seconds=3)
    assert round_time(genesis, period, 1) == genesis
    assert round_time(genesis, period, 11) == genesis + timedelta(seconds=30)
    assert round_after(genesis, period, genesis - timedelta(days=1)) == 1
    assert round_after(genesis, period, genesis) == 2
    assert round_after(genesis, period, genesis + timedelta(seconds=2.9)) == 2
    assert round_after(genesis, period, genesis + timedelta(seconds=3)) == 3
    for seconds in (0, 1, 5, 6, 100):
        close = genesis + timedelta(seconds=seconds)
        r = round_after(genesis, period, close)
        assert round_time(genesis, period, r) > close >= round_time(genesis, period, r - 1)
    with pytest.raises(DrawError):
        round_time(genesis, period, 0)


def test_check_beacon_round() -> None:
    signature = "ab" * 48
    randomness = hashlib.sha256(bytes.fromhex(signature)).hexdigest()
    close = datetime(2026, 1, 1, tzinfo=UTC)
    good = BeaconRound("cc" * 32, 5, signature, randomness, close + timedelta(seconds=1))
    check_beacon_round(good, not_before=close, expected_round=5)
    with pytest.raises(BeaconInvalid, match="requested"):
        check_beacon_round(good, not_before=close, expected_round=6)
    with pytest.raises(BeaconInvalid, match="not after the close"):
        check_beacon_round(good, not_before=close + timedelta(seconds=1))
    bad = BeaconRound("cc" * 32, 5, "ac" + signature[2:], randomness, good.time)
    with pytest.raises(BeaconInvalid, match="SHA-256"):
        check_beacon_round(bad, not_before=close)


def test_build_record_shape() -> None:
    r = record()
    assert list(r)[:11] == [
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
    ]
    assert r["listing"] == "0:2\n3:4\n5:1\n9:3\n"
    assert r["commitment"] == hashlib.sha256(b"0:2\n3:4\n5:1\n9:3\n").hexdigest()
    assert r["name"] == "Test"
    winners = r["winners"]
    assert isinstance(winners, list)
    assert [w["place"] for w in winners] == [1, 2]
    with pytest.raises(DrawError):
        record(extra={"commitment": "x"})
    with pytest.raises(DrawError):
        record(mode="dice")


def test_verify_record_match() -> None:
    verdict = verify_record(record())
    assert verdict.match, verdict.reason
    assert verdict.winners == beacon_winners(
        7, commitment(listing(TICKETS, 10)), "hello", [0, 3, 5, 9], 2
    )


def test_verify_lottery_record() -> None:
    r = record(
        mode="lottery",
        public_value=None,
        drawn_numbers=[4, 4],
        provenance={"source": "lottery", "lottery": "Quiniela"},
        winners=[(5, 1, 30), (9, 3, 6)],
    )
    assert verify_record(r) == Verdict(True, "match: 2 winners recomputed", [5, 9])
    r["drawn_numbers"] = [4, 0]
    assert not verify_record(r).match


def test_verify_drand_provenance() -> None:
    signature = "ab" * 48
    randomness = hashlib.sha256(bytes.fromhex(signature)).hexdigest()
    data = listing(TICKETS, 10)
    chosen = beacon_winners(7, commitment(data), randomness, [0, 3, 5, 9], 1)
    prov = {"source": "drand", "chain_hash": "c", "round": 9, "signature": signature}
    good = record(
        public_value=randomness,
        provenance={**prov, "randomness": randomness},
        winners=[(chosen[0], dict(TICKETS)[chosen[0]], 36)],
    )
    assert verify_record(good).match
    tampered = dict(good, provenance={**prov, "signature": "ac" * 48, "randomness": randomness})
    assert "SHA-256 of its signature" in verify_record(tampered).reason
    for bad_round in (0, "9", None, True):
        bad = dict(good, provenance={**prov, "round": bad_round, "randomness": randomness})
        assert "round" in verify_record(bad).reason
    other = dict(good, public_value="00" * 32)
    assert "randomness" in verify_record(other).reason


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"listing": "0:2\n3:4\n5:1\n9:4\n"}, "commitment"),
        ({"listing": "0:2\n3:4\n9:3\n5:1\n"}, "out of order"),
        ({"commitment": "00" * 32}, "commitment"),
        ({"algorithm": "v0"}, "algorithm"),
        ({"mode": "dice"}, "mode"),
        ({"public_value": "other"}, "winner"),
        ({"rake": 5}, "sales"),
        ({"prize_fund": 35}, "prize fund"),
        ({"capacity": 0}, "capacity"),
        ({"capacity": "10"}, "capacity"),
        ({"winners": "x"}, "winners"),
        ({"winners": [1, 2]}, "not an object"),
        ({"provenance": {"source": "dice"}}, "provenance"),
        ({"raffle_id": -1}, "raffle id"),
    ],
)
def test_verify_record_mismatches(change: dict[str, object], reason: str) -> None:
    verdict = verify_record({**record(), **change})
    assert not verdict.match
    assert reason in verdict.reason
    assert verdict.winners == []


def test_verify_record_tampered_winners() -> None:
    r = record()
    winners = r["winners"]
    assert isinstance(winners, list)
    swapped = [dict(winners[1], place=1), dict(winners[0], place=2)]
    assert "the draw gives" in verify_record(dict(r, winners=swapped)).reason
    owner = [dict(winners[0], user_id=99), winners[1]]
    assert "the listing gives" in verify_record(dict(r, winners=owner)).reason
    dropped = winners[:1]
    assert not verify_record(dict(r, winners=dropped)).match  # the prizes no longer add up


@pytest.mark.parametrize("junk", [None, 1, "x", [], {}, {"algorithm": ALGORITHM}])
def test_verify_record_never_raises(junk: object) -> None:
    verdict = verify_record(junk)  # type: ignore[arg-type]
    assert not verdict.match
    assert verdict.reason
