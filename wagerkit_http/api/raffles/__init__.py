"""Raffles over HTTP (docs/raffles.md): public and player routes, and the staff routes."""

from __future__ import annotations

from .routes import admin_raffles_blueprint, raffles_blueprint

__all__ = ["admin_raffles_blueprint", "raffles_blueprint"]
