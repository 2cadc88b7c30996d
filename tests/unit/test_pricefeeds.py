"""The price feed adapters: the seeded random walk (pinned values), CSV replay, the factory,
and the HTTP ticker against a local stub server answering well, slowly, with a 500,
malformed and stale."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st

from wagerkit.adapters.pricefeeds import CsvReplayFeed, ManualFeed, RandomWalkFeed, build_feed
from wagerkit.adapters.pricefeeds.http import HttpTickerFeed
from wagerkit.config import Settings
from wagerkit.domain.errors import InvalidInput
from wagerkit.domain.prices import Tick

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


# -- the random walk ------------------------------------------------------------------------


async def test_the_random_walk_gives_the_pinned_series() -> None:
    """The same seed gives these exact prices on every machine and Python version."""
    feed = RandomWalkFeed("wagerkit")
    assert [feed.change("DEMO-USD", i) for i in range(3)] == [-11943, 91024, -4671]
    got = {
        s: (await feed.quote("DEMO-USD", T0 + timedelta(seconds=s))) for s in (0, 1, 2, 60, 3600)
    }
    assert {s: str(t.price) for s, t in got.items() if t} == {
        0: "101",
        1: "100.93",
        2: "100.98",
        60: "101.73",
        3600: "98.12",
    }
    assert got[60] == Tick("DEMO-USD", T0 + timedelta(seconds=60), Decimal("101.73"), "random")
    assert RandomWalkFeed("other").tick_at("DEMO-USD", T0).price == Decimal("101.95")
    assert feed.tick_at("BTC-USD", T0).price == Decimal("101.13")


def test_the_walk_is_the_same_whatever_order_it_is_asked_in() -> None:
    a, b = RandomWalkFeed("s"), RandomWalkFeed("s")
    times = [T0 + timedelta(seconds=s) for s in (0, 1, 500, 2, 5000, 4999, 3)]
    forward = {t: a.tick_at("X", t) for t in sorted(times)}
    assert all(b.tick_at("X", t) == forward[t] for t in times)


def test_the_walk_observes_at_the_step_start() -> None:
    feed = RandomWalkFeed("s", step_seconds=5)
    tick = feed.tick_at("X", T0 + timedelta(seconds=7, milliseconds=300))
    assert tick.observed_at == T0 + timedelta(seconds=5)
    assert tick == feed.tick_at("X", T0 + timedelta(seconds=5))


@settings(max_examples=60)
@given(st.integers(-(10**7), 10**7), st.sampled_from(["A", "BTC-USD"]))
def test_the_walk_stays_in_its_band(second: int, symbol: str) -> None:
    feed = RandomWalkFeed("band", start="50000", volatility_bps=10, window=600, decimals=2)
    price = feed.tick_at(symbol, T0 + timedelta(seconds=second)).price
    assert Decimal("50000") * Decimal("0.4") <= price <= Decimal("50000") * Decimal("1.6")
    assert price == price.quantize(Decimal("0.01"))


def test_bad_walk_settings() -> None:
    for kwargs in ({"window": 1000, "volatility_bps": 10}, {"step_seconds": 0}, {"decimals": 19}):
        with pytest.raises(InvalidInput):
            RandomWalkFeed("s", **kwargs)  # type: ignore[arg-type]


# -- CSV replay -----------------------------------------------------------------------------

CSV = """observed_at,symbol,price
2026-01-01T12:00:10Z,BTC-USD,97000.50
2026-01-01T12:00:00Z,BTC-USD,97000.12
2026-01-01T13:00:05+01:00,ETH-USD,3500
"""


async def test_csv_replay_quotes_the_latest_row_at_or_before(tmp_path: Path) -> None:
    path = tmp_path / "prices.csv"
    path.write_text(CSV)
    feed = CsvReplayFeed.from_path(path)
    assert feed.symbols() == ["BTC-USD", "ETH-USD"]
    assert await feed.quote("BTC-USD", T0 - timedelta(seconds=1)) is None
    assert await feed.quote("BTC-USD", T0) == Tick("BTC-USD", T0, Decimal("97000.12"), "csv")
    at9 = await feed.quote("BTC-USD", T0 + timedelta(seconds=9))
    assert at9 is not None
    assert at9.price == Decimal("97000.12")
    later = await feed.quote("BTC-USD", T0 + timedelta(hours=5))
    assert later is not None
    assert later.price == Decimal("97000.5")
    eth = await feed.quote("ETH-USD", T0 + timedelta(seconds=5))
    assert eth == Tick("ETH-USD", T0 + timedelta(seconds=5), Decimal(3500), "csv")
    assert await feed.quote("XRP-USD", T0) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "header"),
        ("time,symbol,price\n", "header"),
        ("observed_at,symbol,price\n2026-01-01T12:00:00,BTC,1\n", "line 2: a time needs a zone"),
        ("observed_at,symbol,price\n2026-01-01T12:00:00Z,btc,1\n", "line 2: a symbol"),
        ("observed_at,symbol,price\n2026-01-01T12:00:00Z,BTC,1.5e3\n", "line 2: a price"),
        ("observed_at,symbol,price\n\nx,BTC,1\n", "line 3: not an ISO 8601 time"),
        ("observed_at,symbol,price\n2026-01-01T12:00:00Z,BTC\n", "line 2: expected"),
    ],
)
def test_a_bad_csv_names_its_line(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        CsvReplayFeed.from_text(text)


def test_a_missing_csv_is_invalid_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="cannot read"):
        CsvReplayFeed.from_path(tmp_path / "nope.csv")


# -- the factory and the settings -----------------------------------------------------------


async def test_the_factory_builds_each_feed(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text(CSV)
    assert isinstance(build_feed("manual"), ManualFeed)
    assert await build_feed("manual").quote("BTC-USD", T0) is None
    assert isinstance(build_feed("random"), RandomWalkFeed)
    assert isinstance(build_feed(f"csv:{path}"), CsvReplayFeed)
    http = build_feed("http", url="http://127.0.0.1:9/{symbol}")
    assert isinstance(http, HttpTickerFeed)
    await http.aclose()
    for bad in ("", "csv", "random:x", "ftp"):
        with pytest.raises(InvalidInput):
            build_feed(bad)


def test_price_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("WAGERKIT_PRICE_SYMBOLS", "BTC-USD, ETH-USD")
    monkeypatch.setenv("WAGERKIT_PRICE_MAX_AGE", "30s")
    monkeypatch.setenv("WAGERKIT_PRICE_BUFFER", "1m")
    monkeypatch.setenv("WAGERKIT_PRICE_FEED", "random")
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert s.price_symbol_list() == ("BTC-USD", "ETH-USD")
    assert (s.price_max_age, s.price_buffer) == (30, 60)
    assert isinstance(s.build_price_feed(), RandomWalkFeed)
    for name in ("SYMBOLS", "MAX_AGE", "BUFFER", "FEED"):
        monkeypatch.delenv(f"WAGERKIT_PRICE_{name}")
    d = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (d.price_max_age, d.price_buffer, d.price_symbol_list()) == (10, 15, ("DEMO-USD",))
    for name, value in (
        ("price_symbols", "btc"),
        ("price_symbols", "A,A"),
        ("price_feed", "csv"),
        ("price_feed", "kraken"),
        ("price_max_age", "1d"),
    ):
        with pytest.raises(ValueError, match=name):
            Settings(_env_file=None, **{name: value})  # type: ignore[call-arg]


# -- the HTTP ticker against a local stub ---------------------------------------------------

NOW = datetime.now(UTC).replace(microsecond=0)


def _ticker(price: object, time: object) -> bytes:
    return json.dumps({"trade_id": 1, "price": price, "size": "0.1", "time": time}).encode()


@pytest.fixture
async def stub() -> AsyncIterator[str]:
    """A local ticker server on a free port: the product id picks the behaviour."""
    fresh = NOW.isoformat().replace("+00:00", "Z")

    async def ticker(request: web.Request) -> web.Response:
        product = request.match_info["product"]
        if product == "SLOW-USD":
            await asyncio.sleep(1.0)
        bodies = {
            "GOOD-USD": _ticker("97000.12000000", fresh),
            "NANO-USD": _ticker("1.5", NOW.strftime("%Y-%m-%dT%H:%M:%S.123456789Z")),
            "SLOW-USD": _ticker("1", fresh),
            "OLD-USD": _ticker("1", (NOW - timedelta(minutes=5)).isoformat()),
            "AHEAD-USD": _ticker("1", (NOW + timedelta(minutes=5)).isoformat()),
            "FLOAT-USD": b'{"price": 97000.12, "time": "' + fresh.encode() + b'"}',
            "NAN-USD": _ticker("NaN", fresh),
            "NEG-USD": _ticker("-1", fresh),
            "NOTIME-USD": b'{"price": "1"}',
            "NAIVE-USD": _ticker("1", NOW.replace(tzinfo=None).isoformat()),
            "LIST-USD": b"[1, 2]",
            "TEXT-USD": b"<html>maintenance</html>",
            "DEEP-USD": b"[" * 100_000 + b"]" * 100_000,
            "BIG-USD": b'{"price": "1", "pad": "' + b"x" * 100_000 + b'"}',
        }
        if product == "FAIL-USD":
            return web.Response(status=500, text="oops")
        if product not in bodies:
            return web.Response(status=404, text='{"message":"NotFound"}')
        return web.Response(body=bodies[product], content_type="application/json")

    app = web.Application()
    app.router.add_get("/products/{product}/ticker", ticker)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/products/{{symbol}}/ticker"
    finally:
        await runner.cleanup()


async def test_the_http_feed_reads_a_good_answer(stub: str) -> None:
    feed = HttpTickerFeed(stub, timeout=0.3)
    try:
        assert await feed.quote("GOOD-USD", NOW) == Tick(
            "GOOD-USD", NOW, Decimal("97000.12"), "http"
        )
        nano = await feed.quote("NANO-USD", NOW + timedelta(seconds=1))
        assert nano is not None
        assert nano.observed_at == NOW + timedelta(microseconds=123456)
        # observed a little after `at` (clock skew within max_skew): stamped at `at`
        early = NOW - timedelta(seconds=2)
        got = await feed.quote("GOOD-USD", early)
        assert got is not None
        assert got.observed_at == early
    finally:
        await feed.aclose()


@pytest.mark.parametrize(
    "product",
    [
        "SLOW-USD",
        "FAIL-USD",
        "MISSING-USD",
        "OLD-USD",
        "AHEAD-USD",
        "FLOAT-USD",
        "NAN-USD",
        "NEG-USD",
        "NOTIME-USD",
        "NAIVE-USD",
        "LIST-USD",
        "TEXT-USD",
        "DEEP-USD",
        "BIG-USD",
        "bad symbol",
    ],
)
async def test_every_failure_is_no_price(stub: str, product: str) -> None:
    feed = HttpTickerFeed(stub, timeout=0.3)
    try:
        assert await feed.quote(product, NOW) is None
    finally:
        await feed.aclose()


async def test_an_unreachable_server_is_no_price() -> None:
    feed = HttpTickerFeed("http://127.0.0.1:9/{symbol}", timeout=0.3)
    try:
        assert await feed.quote("GOOD-USD", NOW) is None
    finally:
        await feed.aclose()


def test_the_http_feed_url_is_checked() -> None:
    for bad in ("ftp://x/{symbol}", "http://x/ticker"):
        with pytest.raises(InvalidInput):
            HttpTickerFeed(bad)
