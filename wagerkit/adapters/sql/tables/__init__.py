"""The schema, as SQLAlchemy Core tables. Alembic migrations must produce exactly this (a test
compares them). Constraints back every invariant SQL can state: balances never negative, a
user wallet never below zero holds included, unique transfer ids, a pending transfer resolved
at most once (unique ``pending_id``), one account per (kind, owner, currency).

The tables live in one module per area (``base`` holds the metadata, the shared column
types and the core tables); importing this package registers them all on ``metadata``."""

from __future__ import annotations

from .base import (
    BigId,
    ExactPrice,
    UtcDateTime,
    accounts,
    audit_log,
    metadata,
    payments,
    transfers,
    users,
)
from .events import bets, chat_messages, chat_mutes, event_outcomes, events
from .orders import (
    order_categories,
    order_complaints,
    order_preferences,
    order_reports,
    order_reviews,
    order_subscriptions,
    order_takes,
    orders,
)
from .predictions import (
    prediction_contracts,
    prediction_exposure,
    prediction_round_bets,
    prediction_rounds,
    price_ticks,
)
from .raffles import raffle_categories, raffle_tickets, raffles

__all__ = [
    "BigId",
    "ExactPrice",
    "UtcDateTime",
    "accounts",
    "audit_log",
    "bets",
    "chat_messages",
    "chat_mutes",
    "event_outcomes",
    "events",
    "metadata",
    "order_categories",
    "order_complaints",
    "order_preferences",
    "order_reports",
    "order_reviews",
    "order_subscriptions",
    "order_takes",
    "orders",
    "payments",
    "prediction_contracts",
    "prediction_exposure",
    "prediction_round_bets",
    "prediction_rounds",
    "price_ticks",
    "raffle_categories",
    "raffle_tickets",
    "raffles",
    "transfers",
    "users",
]
