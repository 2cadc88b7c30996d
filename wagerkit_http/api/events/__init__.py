"""Pari-mutuel events and bets over HTTP (docs/events.md, docs/http.md).

``routes`` holds the handlers and the four blueprints (``/events``, ``/bets``,
``/admin/events``, ``/admin/bets``), ``models`` the request bodies and query strings,
``views`` the answers built from the domain values.
"""

from __future__ import annotations

from .routes import (
    admin_bets_blueprint,
    admin_events_blueprint,
    bets_blueprint,
    events_blueprint,
)
from .views import bet_out, event_out

__all__ = [
    "admin_bets_blueprint",
    "admin_events_blueprint",
    "bet_out",
    "bets_blueprint",
    "event_out",
    "events_blueprint",
]
