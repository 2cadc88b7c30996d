"""``/api/v1/currencies``: the configured currencies (code and exponent)."""

from __future__ import annotations

from sanic import Blueprint, HTTPResponse
from sanic.response import json
from sanic_ext import openapi

from ..context import WagerkitRequest
from ..models import Currency, CurrencyList, component

__all__ = ["currencies_blueprint"]


@openapi.operation("listCurrencies")
@openapi.tag("currencies")
@openapi.response(200, {"application/json": component(CurrencyList)}, "The configured currencies")
async def list_currencies(request: WagerkitRequest) -> HTTPResponse:
    """The currencies this server is configured with; the first is the default."""
    registry = request.app.ctx.kit.deps.currencies
    items = [
        Currency(code=c.code, exponent=c.exponent, default=c.code == registry.default.code)
        for c in registry.values()
    ]
    return json(CurrencyList(currencies=items).model_dump())


def currencies_blueprint() -> Blueprint:
    bp = Blueprint("currencies", url_prefix="/currencies")
    bp.add_route(list_currencies, "", methods=["GET"], name="list")
    return bp
