"""The versioned JSON API: one blueprint per area, grouped under ``/api/v1``."""

from __future__ import annotations

from sanic import Blueprint
from sanic.blueprint_group import BlueprintGroup

from .admin import admin_blueprint
from .auth import auth_blueprint
from .chat import admin_chat_blueprint, chat_blueprint
from .currencies import currencies_blueprint
from .events import (
    admin_bets_blueprint,
    admin_events_blueprint,
    bets_blueprint,
    events_blueprint,
)
from .orders import orders_blueprints
from .payments import admin_payments_blueprint, payments_blueprint
from .predictions import (
    admin_predictions_blueprint,
    predictions_blueprint,
    rounds_blueprint,
)
from .prices import prices_blueprint
from .raffles import admin_raffles_blueprint, raffles_blueprint
from .wallet import me_blueprint, wallet_blueprint

__all__ = ["API_PREFIX", "api_v1"]

API_PREFIX = "/api/v1"


def api_v1() -> BlueprintGroup:
    """A fresh group of the v1 blueprints (fresh per app, so apps never share blueprints)."""
    areas: list[Blueprint] = [
        currencies_blueprint(),
        auth_blueprint(),
        me_blueprint(),
        wallet_blueprint(),
        admin_blueprint(),
        payments_blueprint(),
        admin_payments_blueprint(),
        events_blueprint(),
        bets_blueprint(),
        chat_blueprint(),
        admin_events_blueprint(),
        admin_bets_blueprint(),
        admin_chat_blueprint(),
        predictions_blueprint(),
        rounds_blueprint(),
        admin_predictions_blueprint(),
        prices_blueprint(),
        raffles_blueprint(),
        admin_raffles_blueprint(),
        *orders_blueprints(),  # docs/orders.md
    ]
    return Blueprint.group(*areas, url_prefix=API_PREFIX)
