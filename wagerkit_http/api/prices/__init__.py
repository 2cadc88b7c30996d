"""Prices over HTTP (docs/prices.md): ``routes`` holds the handlers and the blueprint,
``models`` the request and response models."""

from __future__ import annotations

from .routes import prices_blueprint

__all__ = ["prices_blueprint"]
