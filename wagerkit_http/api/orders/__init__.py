"""The service-order marketplace over HTTP (docs/orders.md): ``routes`` holds the handlers
and the blueprints (``/orders``, ``/categories``, ``/cities``, ``/users/me``, ``/reviews``,
``/admin/order-reports``, ``/admin/order-categories``), ``models`` the bodies, queries and
answers."""

from __future__ import annotations

from .routes import order_out, orders_blueprints

__all__ = ["order_out", "orders_blueprints"]
