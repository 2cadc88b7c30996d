"""Prices over HTTP (docs/prices.md): the routes.

- public: ``GET /prices`` (every configured symbol's latest price and whether it is fresh),
  ``GET /prices/{symbol}`` (the latest tick; 404 ``price_not_found`` before any),
  ``GET /prices/{symbol}/ticks?since&limit`` (recent ticks, newest first);
- staff: ``POST /prices/{symbol}`` ``{"price": "97000.12", "reason": …}`` sets a price
  observed now (audited; 403 for players).
"""

from __future__ import annotations

from sanic import Blueprint, HTTPResponse
from sanic.response import json
from sanic_ext import openapi

from wagerkit import PriceNotFound, parse_symbol

from ...auth import authenticated
from ...context import WagerkitRequest
from ...models import component
from ...validation import parse_body, parse_query
from .._common import problems, secured
from .models import PriceIn, PriceList, TickList, TickOut, TicksQuery, current_out, tick_out

__all__ = ["prices_blueprint"]

_SYMBOL = openapi.parameter(
    "symbol", str, "path", description="market symbol: 1-20 of A-Z 0-9 . _ - (e.g. BTC-USD)"
)


@openapi.operation("listPrices")
@openapi.tag("prices")
@openapi.response(200, {"application/json": component(PriceList)}, "Configured symbols")
async def list_prices(request: WagerkitRequest) -> HTTPResponse:
    """The latest price of every configured symbol (WAGERKIT_PRICE_SYMBOLS). Public."""
    current = await request.app.ctx.kit.prices.current()
    return json(PriceList(prices=[current_out(c) for c in current]).model_dump())


@openapi.operation("getPrice")
@openapi.tag("prices")
@_SYMBOL
@openapi.response(200, {"application/json": component(TickOut)}, "The latest tick")
@problems(404, 422)
async def get_price(request: WagerkitRequest, symbol: str) -> HTTPResponse:
    """The latest recorded price of one symbol. Public."""
    tick = await request.app.ctx.kit.prices.latest(symbol)
    if tick is None:
        raise PriceNotFound(f"no price recorded for {parse_symbol(symbol)}")
    return json(tick_out(tick).model_dump())


@openapi.operation("listTicks")
@openapi.tag("prices")
@_SYMBOL
@openapi.parameter("since", str, "query", description="ISO 8601 time with a zone")
@openapi.parameter("limit", int, "query", description="1-1000, default 100")
@openapi.response(200, {"application/json": component(TickList)}, "Newest first")
@problems(422)
async def list_ticks(request: WagerkitRequest, symbol: str) -> HTTPResponse:
    """A symbol's recorded ticks, newest first (those observed at or after ``since``).
    Public."""
    q = parse_query(request, TicksQuery)
    ticks = await request.app.ctx.kit.prices.history(symbol, since=q.since, limit=q.limit)
    out = TickList(symbol=parse_symbol(symbol), ticks=[tick_out(t) for t in ticks])
    return json(out.model_dump())


@openapi.operation("setPrice")
@openapi.tag("admin")
@secured
@_SYMBOL
@openapi.body({"application/json": component(PriceIn)}, required=True)
@openapi.response(201, {"application/json": component(TickOut)}, "The tick stored")
@problems(400, 401, 403, 409, 415, 422)
async def set_price(request: WagerkitRequest, symbol: str) -> HTTPResponse:
    """Staff: store a price for the symbol, observed now (audited as ``price.set``). Two
    prices for one symbol at the same instant are 409 ``already_exists``."""
    actor = await authenticated(request)
    body = parse_body(request, PriceIn)
    tick = await request.app.ctx.kit.prices.set_price(actor, symbol, body.price, body.reason)
    return json(tick_out(tick).model_dump(), status=201)


def prices_blueprint() -> Blueprint:
    bp = Blueprint("prices", url_prefix="/prices")
    bp.add_route(list_prices, "", methods=["GET"], name="list")
    bp.add_route(get_price, "/<symbol:str>", methods=["GET"], name="get")
    bp.add_route(set_price, "/<symbol:str>", methods=["POST"], name="set")
    bp.add_route(list_ticks, "/<symbol:str>/ticks", methods=["GET"], name="ticks")
    return bp
