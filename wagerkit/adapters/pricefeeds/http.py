"""A public market-data API over HTTP: Coinbase Exchange's ticker,
``GET https://api.exchange.coinbase.com/products/{symbol}/ticker``, which answers
``{"trade_id": …, "price": "97000.12", "size": …, "time": "2026-01-01T12:00:00.283Z", …}``.

Why this one: it needs no key, its product ids (``BTC-USD``) are valid wagerkit symbols as
they are, prices come as decimal *text* (never a JSON float), and every answer carries the
time of the trade, so a stale answer can be told from a live one (Binance's
``/api/v3/ticker/price`` gives no time, and refuses some regions with 451). Why not ccxt: it
wraps hundreds of exchanges in a large dependency with its own float handling, for one read
of one endpoint; a small httpx client is easier to audit and to test against a local stub.

Every failure is "no price" (``None``), logged, never raised: a connection error, a timeout,
a status other than 200, a body over 64 KiB, JSON that is not an object with a decimal
``price`` and a zoned ``time``, a trade time older than ``stale_after`` or more than
``max_skew`` ahead of ``at``. The tick is observed at the trade's time (at most ``at``).
"""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime, timedelta
from typing import Any

import httpx

from ...domain.errors import InvalidInput
from ...domain.prices import Tick, parse_price, parse_symbol
from .csvreplay import parse_time

__all__ = ["COINBASE_TICKER_URL", "HttpTickerFeed"]

COINBASE_TICKER_URL = "https://api.exchange.coinbase.com/products/{symbol}/ticker"
MAX_BODY = 64 * 1024
_FRACTION = re.compile(r"(\.\d{6})\d+")  # fromisoformat takes at most microseconds

log = logging.getLogger("wagerkit.prices.http")


class HttpTickerFeed:
    source = "http"

    def __init__(
        self,
        url: str = COINBASE_TICKER_URL,
        *,
        timeout: float = 2.0,
        stale_after: timedelta = timedelta(seconds=60),
        max_skew: timedelta = timedelta(seconds=5),
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if "{symbol}" not in url or not url.startswith(("http://", "https://")):
            raise InvalidInput("the price feed URL is http(s) with a {symbol} placeholder")
        self.url = url
        self.stale_after = stale_after
        self.max_skew = max_skew
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            headers={"User-Agent": "wagerkit-price-recorder", "Accept": "application/json"},
            follow_redirects=False,
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def quote(self, symbol: str, at: datetime) -> Tick | None:
        try:
            symbol = parse_symbol(symbol)
            url = self.url.replace("{symbol}", symbol)
            async with self._client.stream("GET", url) as response:
                if response.status_code != 200:
                    log.warning("price feed %s: HTTP %s", symbol, response.status_code)
                    return None
                body = b""
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_BODY:
                        log.warning("price feed %s: answer larger than %s bytes", symbol, MAX_BODY)
                        return None
        except httpx.HTTPError as exc:
            log.warning("price feed %s: %s", symbol, type(exc).__name__)
            return None
        except InvalidInput:
            return None
        return self._read(symbol, body, at)

    def _read(self, symbol: str, body: bytes, at: datetime) -> Tick | None:
        try:
            data: Any = json.loads(body, parse_float=lambda _: None, parse_constant=lambda _: None)
            if not isinstance(data, dict) or not isinstance(data.get("price"), str):
                raise InvalidInput("no decimal price in the answer")
            time = data.get("time")
            if not isinstance(time, str):
                raise InvalidInput("no time in the answer")
            observed = parse_time(_FRACTION.sub(r"\1", time.replace("Z", "+00:00")))
            price = parse_price(data["price"])
        except (ValueError, InvalidInput, RecursionError) as exc:
            log.warning("price feed %s: malformed answer (%s)", symbol, exc)
            return None
        if observed > at + self.max_skew:
            log.warning("price feed %s: trade time %s is ahead of %s", symbol, observed, at)
            return None
        if at - observed > self.stale_after:
            log.warning("price feed %s: stale answer from %s", symbol, observed)
            return None
        return Tick(symbol, min(observed, at), price, self.source)
