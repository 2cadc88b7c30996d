"""DrandBeacon.fetch against a local stub relay (aiohttp on a free port, started by the test).

A good answer gives a verified round; 404/500, malformed JSON, a wrong shape, a timeout or a
closed port give ``BeaconUnavailable`` (never a crash); a second relay is tried when the first
fails; a relay answering another round or a bad signature gives ``BeaconInvalid``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from aiohttp import web

from wagerkit.adapters.drand import QUICKNET_CHAIN_HASH, DrandBeacon
from wagerkit.domain.errors import BeaconInvalid, BeaconUnavailable

ROUND = 657413
SIGNATURE = "b713718a38ae728dfd477991af2822e08d2f305e47718cef9f7848ce4050e7be41076862b98fad56e91a6b85b89cd97b"
RANDOMNESS = "fc1873a13f3545aeade8401532ef5519920652eee6b0d2b19ca12643b87b3587"
GOOD = {"round": ROUND, "randomness": RANDOMNESS, "signature": SIGNATURE}


@dataclass
class Relay:
    """A stub drand relay: ``answer`` decides what each request gets."""

    url: str
    answer: Callable[[str], web.StreamResponse | None] = lambda _path: None
    seen: list[str] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)


async def start(
    relay_answer: Callable[[str], web.StreamResponse | None],
) -> tuple[Relay, web.AppRunner]:
    relay = Relay(url="", answer=relay_answer)

    async def handle(request: web.Request) -> web.StreamResponse:
        relay.seen.append(request.path)
        response = relay.answer(request.path)
        if response is None:  # hang until the test ends (the client times out first)
            await relay.release.wait()
            return web.Response(status=503)
        return response

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    relay.url = f"http://127.0.0.1:{port}"
    return relay, runner


@pytest.fixture
async def relays() -> AsyncIterator[Callable[..., object]]:
    runners: list[tuple[Relay, web.AppRunner]] = []

    async def make(answer: Callable[[str], web.StreamResponse | None]) -> Relay:
        pair = await start(answer)
        runners.append(pair)
        return pair[0]

    yield make
    for relay, runner in runners:
        relay.release.set()
        await runner.cleanup()


def json_answer(body: object, status: int = 200) -> Callable[[str], web.StreamResponse]:
    return lambda _path: web.json_response(body, status=status)


async def test_a_good_answer_is_a_verified_round(relays) -> None:  # type: ignore[no-untyped-def]
    relay = await relays(json_answer(GOOD))
    beacon = DrandBeacon(relays=[relay.url], timeout=2)
    got = await beacon.fetch(ROUND)
    assert (got.round, got.signature, got.randomness) == (ROUND, SIGNATURE, RANDOMNESS)
    assert got.chain_hash == QUICKNET_CHAIN_HASH
    assert relay.seen == [f"/{QUICKNET_CHAIN_HASH}/public/{ROUND}"]
    latest = await beacon.fetch()
    assert latest.round == ROUND
    assert relay.seen[-1] == f"/{QUICKNET_CHAIN_HASH}/public/latest"


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (json_answer({"error": "not found"}, 404), "HTTP 404"),
        (json_answer({"error": "boom"}, 500), "HTTP 500"),
        (lambda _p: web.Response(text="{not json", content_type="application/json"), "not JSON"),
        (lambda _p: web.Response(text="<html>relay</html>", content_type="text/html"), "not JSON"),
        (json_answer([GOOD]), "not a JSON object"),
        (json_answer({"round": ROUND}), "lacks"),
        (json_answer({**GOOD, "round": "657413"}), "lacks"),
        (json_answer({**GOOD, "signature": 5}), "lacks"),
        (lambda _p: web.Response(body=b"x" * 70_000), "too large"),
    ],
    ids=[
        "404",
        "500",
        "bad-json",
        "html",
        "list",
        "no-signature",
        "string-round",
        "int-signature",
        "huge",
    ],
)
async def test_bad_answers_are_beacon_unavailable(relays, answer, reason: str) -> None:  # type: ignore[no-untyped-def]
    relay = await relays(answer)
    with pytest.raises(BeaconUnavailable, match=reason):
        await DrandBeacon(relays=[relay.url], timeout=2).fetch(ROUND)


async def test_a_timeout_is_beacon_unavailable(relays) -> None:  # type: ignore[no-untyped-def]
    relay = await relays(lambda _p: None)
    with pytest.raises(BeaconUnavailable, match="timed out"):
        await DrandBeacon(relays=[relay.url], timeout=0.2).fetch(ROUND)


async def test_an_unreachable_relay_is_beacon_unavailable() -> None:
    relay, runner = await start(json_answer(GOOD))
    await runner.cleanup()  # the port now refuses connections
    with pytest.raises(BeaconUnavailable, match="unreachable"):
        await DrandBeacon(relays=[relay.url], timeout=2).fetch(ROUND)


async def test_the_next_relay_is_tried(relays) -> None:  # type: ignore[no-untyped-def]
    down = await relays(json_answer({"error": "boom"}, 500))
    up = await relays(json_answer(GOOD))
    got = await DrandBeacon(relays=[down.url, up.url], timeout=2).fetch(ROUND)
    assert got.randomness == RANDOMNESS
    assert len(down.seen) == len(up.seen) == 1


async def test_every_relay_failing_says_so(relays) -> None:  # type: ignore[no-untyped-def]
    a = await relays(json_answer({}, 404))
    b = await relays(lambda _p: web.Response(text="nope"))
    with pytest.raises(BeaconUnavailable) as info:
        await DrandBeacon(relays=[a.url, b.url], timeout=2).fetch(ROUND)
    assert a.url in info.value.detail
    assert b.url in info.value.detail


async def test_another_round_or_a_bad_signature_is_beacon_invalid(relays) -> None:  # type: ignore[no-untyped-def]
    relay = await relays(json_answer(GOOD))
    with pytest.raises(BeaconInvalid, match="not 657414"):
        await DrandBeacon(relays=[relay.url], timeout=2).fetch(ROUND + 1)
    bad = {**GOOD, "signature": "a" + SIGNATURE[1:]}
    relay.answer = json_answer(bad)
    with pytest.raises(BeaconInvalid, match="SHA-256"):
        await DrandBeacon(relays=[relay.url], timeout=2).fetch(ROUND)
    forged = {**GOOD, "signature": "a" + SIGNATURE[1:], "randomness": _sha("a" + SIGNATURE[1:])}
    relay.answer = json_answer(forged)
    with pytest.raises(BeaconInvalid, match="BLS"):
        await DrandBeacon(relays=[relay.url], timeout=2).fetch(ROUND)


def _sha(signature: str) -> str:
    import hashlib

    return hashlib.sha256(bytes.fromhex(signature)).hexdigest()


async def test_bad_requested_rounds_never_reach_the_network(relays) -> None:  # type: ignore[no-untyped-def]
    relay = await relays(json_answer(GOOD))
    for bad in (0, -5, 2**64):
        with pytest.raises(BeaconInvalid):
            await DrandBeacon(relays=[relay.url]).fetch(bad)
    assert relay.seen == []


async def test_round_fetches_or_takes_the_entered_signature_and_checks_the_close(relays) -> None:  # type: ignore[no-untyped-def]
    relay = await relays(json_answer(GOOD))
    beacon = DrandBeacon(relays=[relay.url], timeout=2)
    produced = beacon.round_time(ROUND)
    close = produced - timedelta(seconds=2)
    fetched = await beacon.round(ROUND, not_before=close)
    assert fetched.randomness == RANDOMNESS
    assert len(relay.seen) == 1
    entered = await beacon.round(ROUND, signature=SIGNATURE.upper(), not_before=close)
    assert entered == fetched
    assert len(relay.seen) == 1  # an entered round needs no relay
    with pytest.raises(BeaconInvalid, match="not after the close"):
        await beacon.round(ROUND, not_before=produced)
    with pytest.raises(BeaconInvalid, match="BLS"):
        await beacon.round(ROUND + 1, signature=SIGNATURE, not_before=close)
    assert beacon.round_after(close) == ROUND


async def test_round_without_a_relay_is_unavailable_but_an_entered_round_works() -> None:
    relay, runner = await start(json_answer(GOOD))
    await runner.cleanup()
    beacon = DrandBeacon(relays=[relay.url], timeout=1)
    close = beacon.round_time(ROUND) - timedelta(seconds=1)
    with pytest.raises(BeaconUnavailable):
        await beacon.round(ROUND, not_before=close)
    assert (await beacon.round(ROUND, signature=SIGNATURE, not_before=close)).round == ROUND
