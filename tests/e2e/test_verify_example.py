"""examples/verify_raffle.py, the standalone verifier, run as a participant would run it.

It runs under ``python -I -S`` (no site-packages: the standard library only) on records made
by ``wagerkit.domain.draw.build_record``, and says match (exit 0) or mismatch with the reason
(exit 1). It is also loaded as a module and must agree with ``verify_record`` on every record
the tests make, tampered or not.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from types import ModuleType

import pytest

from wagerkit.domain.draw import (
    beacon_winners,
    build_record,
    commitment,
    listing,
    lottery_winners,
    verify_record,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "verify_raffle.py"
TICKETS = [((i * 37 + 11) % 1000, 100 + i % 7) for i in range(50)]
OWNERS = dict(TICKETS)
PRIZES = (50, 30, 20)
# real drand quicknet round 657413 (published beacon; also in tests/unit/test_drand*.py)
ROUND = 657413
SIGNATURE = (
    "b713718a38ae728dfd477991af2822e08d2f305e47718cef9f7848ce4050e7be"
    "41076862b98fad56e91a6b85b89cd97b"
)
RANDOMNESS = "fc1873a13f3545aeade8401532ef5519920652eee6b0d2b19ca12643b87b3587"
QUICKNET = "52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971"


def make(mode: str, value: str | None, provenance: dict[str, object]) -> dict[str, object]:
    sold = list(OWNERS)
    if mode == "lottery":
        drawn = [123456, 99, 5000]
        chosen = lottery_winners(drawn, 1000, sold, 3)
    else:
        assert value is not None
        drawn = None
        chosen = beacon_winners(9, commitment(listing(TICKETS, 1000)), value, sold, 3)
    return build_record(
        raffle_id=9,
        capacity=1000,
        tickets=TICKETS,
        mode=mode,
        public_value=value,
        drawn_numbers=drawn,
        provenance=provenance,
        winners=[(n, OWNERS[n], p) for n, p in zip(chosen, PRIZES, strict=True)],
        rake=11,
        extra={
            "name": "Friday raffle",
            "currency": "COIN",
            "ticket_price": 2,
            "sales": 111,
            "prize_fund": 100,
            "prize_mode": "proportional",
            "closed_at": "2026-12-01T20:00:00+00:00",
        },
    )


DRAND = {
    "source": "drand",
    "chain_hash": QUICKNET,
    "round": ROUND,
    "signature": SIGNATURE,
    "randomness": RANDOMNESS,
}
GOOD = {
    "text": make("beacon", "Quiniela 2026-12-01: 4521", {"source": "text"}),
    "lottery": make("lottery", None, {"source": "lottery", "lottery": "Quiniela"}),
    "drand": make("beacon", RANDOMNESS, DRAND),
}


def tamper(record: dict[str, object], **change: object) -> dict[str, object]:
    return json.loads(json.dumps({**record, **change}))  # type: ignore[no-any-return]


def winners_of(record: dict[str, object]) -> list[dict[str, object]]:
    return json.loads(json.dumps(record["winners"]))  # type: ignore[no-any-return]


def swapped(record: dict[str, object]) -> list[dict[str, object]]:
    """The first prize handed to a user who does not own that ticket."""
    w = winners_of(record)
    w[0]["user_id"] = 999
    return w


BAD = {
    "listing": (
        tamper(GOOD["text"], listing=str(GOOD["text"]["listing"]).replace(":100\n", ":101\n", 1)),
        "commitment",
    ),
    "commitment": (tamper(GOOD["text"], commitment="0" * 64), "commitment"),
    "owner": (tamper(GOOD["text"], winners=swapped(GOOD["text"])), "the listing gives"),
    "value": (tamper(GOOD["text"], public_value="Quiniela 2026-12-01: 4522"), "the draw gives"),
    "drawn": (tamper(GOOD["lottery"], drawn_numbers=[1, 2, 3]), "the draw gives"),
    "randomness": (tamper(GOOD["drand"], public_value="ab" * 32), "randomness"),
    "signature": (
        tamper(GOOD["drand"], provenance={**DRAND, "signature": "a" + SIGNATURE[1:]}),
        "SHA-256 of its signature",
    ),
    "fund": (tamper(GOOD["text"], rake=12), "sales"),
    "round": (tamper(GOOD["drand"], provenance={**DRAND, "round": 0}), "round"),
    "lottery-source": (tamper(GOOD["lottery"], provenance={"source": "text"}), "'lottery'"),
    "algorithm": (tamper(GOOD["text"], algorithm="wagerkit/raffle-draw/v0"), "algorithm"),
}


def run(record: object, tmp_path: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record))
    return subprocess.run(
        [sys.executable, *flags, str(EXAMPLE), str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("verify_raffle", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", list(GOOD))
def test_match_with_the_standard_library_only(name: str, tmp_path: Path) -> None:
    done = run(GOOD[name], tmp_path, "-I", "-S")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("match: raffle 9, winners [")
    assert verify_record(GOOD[name]).match
    if name == "drand":
        assert "BLS signature not checked" in done.stdout


@pytest.mark.parametrize("name", list(BAD))
def test_mismatch_says_why(name: str, tmp_path: Path) -> None:
    record, reason = BAD[name]
    done = run(record, tmp_path, "-I", "-S")
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.startswith("mismatch: ")
    assert reason in done.stdout
    assert not verify_record(record).match
    assert done.stderr == ""


def test_bls_is_checked_when_the_library_is_installed(tmp_path: Path) -> None:
    pytest.importorskip("py_arkworks_bls12381")
    done = run(GOOD["drand"], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "BLS signature verified" in done.stdout
    # the right signature presented for another round: randomness still SHA-256(signature),
    # so only the BLS check can tell
    wrong = tamper(GOOD["drand"], provenance={**DRAND, "round": ROUND + 1})
    assert verify_record(wrong).match  # the pure module leaves BLS to the beacon adapter
    done = run(wrong, tmp_path)
    assert done.returncode == 1
    assert "BLS signature does not verify for quicknet round 657414" in done.stdout


@pytest.mark.parametrize("junk", ["[]", "{}", '{"algorithm": "wagerkit/raffle-draw/v1"}', "1"])
def test_malformed_json_is_a_mismatch(junk: str, tmp_path: Path) -> None:
    path = tmp_path / "junk.json"
    path.write_text(junk)
    done = subprocess.run(
        [sys.executable, "-I", "-S", str(EXAMPLE), str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stdout.startswith("mismatch: ")
    assert done.stderr == ""


def test_unreadable_file_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    done = subprocess.run(
        [sys.executable, "-I", "-S", str(EXAMPLE), str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "cannot read" in done.stderr


def test_the_example_agrees_with_the_module(example: ModuleType) -> None:
    records = [*GOOD.values(), *(record for record, _ in BAD.values())]
    for record in records:
        try:
            example.verify(record)
            standalone = True
        except example.Mismatch:
            standalone = False
        assert standalone == verify_record(record).match, record
    assert example.beacon_draw(
        9, str(GOOD["text"]["commitment"]), "x", list(OWNERS), 3
    ) == beacon_winners(9, str(GOOD["text"]["commitment"]), "x", list(OWNERS), 3)
    assert hashlib.sha256(bytes.fromhex(SIGNATURE)).hexdigest() == RANDOMNESS


def test_the_record_in_the_docs_verifies(tmp_path: Path) -> None:
    import re

    doc = (EXAMPLE.parents[1] / "docs" / "draw.md").read_text()
    record = json.loads(re.findall(r"```json\n(.*?)```", doc, re.S)[0])
    verdict = verify_record(record)
    assert verdict.match, verdict.reason
    assert verdict.winners == [9, 5]
    done = run(record, tmp_path, "-I", "-S")
    assert done.returncode == 0, done.stdout
    assert "winners [9, 5]" in done.stdout
    pytest.importorskip("py_arkworks_bls12381")
    from wagerkit.adapters.drand import DrandBeacon

    provenance = record["provenance"]
    beacon = DrandBeacon().entered(provenance["round"], provenance["signature"])
    assert beacon.randomness == record["public_value"]
    assert DrandBeacon().round_after(datetime.fromisoformat(record["closed_at"])) == 657413
    assert run(record, tmp_path).stdout.endswith("BLS signature verified (py-arkworks-bls12381)\n")
