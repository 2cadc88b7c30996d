"""Price rooms over Socket.IO, against a real uvicorn server with real python-socketio
clients: join/leave ``price:<symbol>``, ``price_tick`` pushes coalesced to a few a second
(the newest tick always goes out last), and the server's own job loop recording a
random-walk symbol that the room hears."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from test_realtime_events import Client, Live, _settings, _start, connected

from wagerkit import Actor, Tick
from wagerkit_http.realtime import MAX_PRICE_ROOMS

STAFF = Actor.system("tests")


class PriceClient(Client):
    def __init__(self) -> None:
        super().__init__()
        q: asyncio.Queue[tuple[float, Any]] = asyncio.Queue()
        self.got["price_tick"] = q
        self.sio.on("price_tick", self._put(q))


@pytest.fixture(scope="module")
def live(server: Callable[[Any], AbstractContextManager[str]]) -> Iterator[Live]:
    """No automatic prices: the tests store the ticks."""
    yield from _start(server, _settings(price_feed="manual", price_symbols="BTC-USD"))


@pytest.fixture(scope="module")
def recording(server: Callable[[Any], AbstractContextManager[str]]) -> Iterator[Live]:
    """The server's job loop records DEMO-USD from the seeded random walk."""
    yield from _start(
        server,
        _settings(price_feed="random", price_symbols="DEMO-USD", jobs_interval_seconds=0.2),
    )


async def price_client(live: Live) -> Any:
    _, token = await live.user()
    c = PriceClient()
    await c.sio.connect(live.url, transports=["websocket"], wait_timeout=5, auth={"token": token})
    return c


async def test_join_price_answers_the_latest_tick_and_refuses_bad_input(live: Live) -> None:
    _, token = await live.user()
    async with connected(live, token) as c:
        assert await c.call("join_price", {"symbol": "NONE-USD"}) == {
            "symbol": "NONE-USD",
            "tick": None,
        }
        for bad in (None, {}, {"symbol": "btc"}, {"symbol": 5}, {"symbol": "A" * 21}, ["BTC"]):
            ack = await c.call("join_price", bad)
            assert ack["error"]["code"] == "invalid_input", bad
        assert (await c.call("leave_price", {}))["error"]["code"] == "invalid_input"
        for i in range(MAX_PRICE_ROOMS - 1):
            assert "error" not in await c.call("join_price", {"symbol": f"S{i}"})
        assert (await c.call("join_price", {"symbol": "ONE-MORE"}))["error"]["code"] == (
            "invalid_input"
        )
        assert "error" not in await c.call("join_price", {"symbol": "S0"})  # already in it
    tick = await live.call(live.kit.prices.set_price(STAFF, "ETH-USD", "3500.5"))
    async with connected(live, token) as c:
        ack = await c.call("join_price", {"symbol": "ETH-USD"})
        assert ack["tick"] == {
            "symbol": "ETH-USD",
            "price": "3500.5",
            "observed_at": tick.observed_at.isoformat(),
            "source": "operator",
        }


async def test_ticks_are_pushed_coalesced_and_the_newest_goes_last(live: Live) -> None:
    c = await price_client(live)
    other = await price_client(live)
    try:
        await c.call("join_price", {"symbol": "BTC-USD"})
        await other.call("join_price", {"symbol": "XRP-USD"})
        first = await live.call(live.kit.prices.set_price(STAFF, "BTC-USD", "97000.12"))
        push = await c.next("price_tick")
        assert push == {
            "symbol": "BTC-USD",
            "price": "97000.12",
            "observed_at": first.observed_at.isoformat(),
            "source": "operator",
        }
        # a burst of 60 ticks within a moment: a few pushes, the last one the newest tick
        base = datetime.now(UTC) + timedelta(seconds=1)
        burst = [
            Tick("BTC-USD", base + timedelta(milliseconds=i), Decimal(97000 + i), "random")
            for i in range(60)
        ]
        start = time.monotonic()
        for t in burst:
            await live.call(live.kit.prices.store([t]))
        prices = []
        while not prices or prices[-1] != "97059":
            prices.append((await c.next("price_tick"))["price"])
        elapsed = time.monotonic() - start
        assert len(prices) <= 2 + elapsed / 0.25, (prices, elapsed)  # 250 ms apart at most
        assert len(prices) < 30
        assert [Decimal(p) for p in prices] == sorted(Decimal(p) for p in prices)
        assert await c.quiet("price_tick", 0.4)  # nothing after the newest
        assert await other.quiet("price_tick")  # another symbol's room heard nothing
        await c.call("leave_price", {"symbol": "BTC-USD"})
        await live.call(live.kit.prices.set_price(STAFF, "BTC-USD", "1"))
        assert await c.quiet("price_tick")
    finally:
        await c.sio.disconnect()
        await other.sio.disconnect()


async def test_the_job_loop_records_and_the_room_hears(recording: Live) -> None:
    c = await price_client(recording)
    try:
        await c.call("join_price", {"symbol": "DEMO-USD"})
        seen = [await c.next("price_tick", wait=5) for _ in range(2)]  # a tick a second
        assert [s["symbol"] for s in seen] == ["DEMO-USD", "DEMO-USD"]
        assert all(s["source"] == "random" for s in seen)
        assert seen[0]["observed_at"] < seen[1]["observed_at"]
        stored = await recording.call(recording.kit.prices.latest("DEMO-USD"))
        assert stored is not None
        assert stored.observed_at.isoformat() >= seen[1]["observed_at"]
    finally:
        await c.sio.disconnect()
