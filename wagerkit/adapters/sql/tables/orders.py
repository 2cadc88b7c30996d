"""The service-order marketplace (docs/orders.md)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from .base import BigId, UtcDateTime, metadata

# -- the service-order marketplace (docs/orders.md) -------------------------------------------
_ORDER_STATUSES = "'active', 'completed', 'expired', 'deleted', 'closed_no_response', 'closed'"
_ACTIVE = "status = 'active'"

order_categories = Table(
    "order_categories",
    metadata,
    Column("slug", String(32), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("fee", BigInteger, nullable=False),
    Column("max_executors", Integer, nullable=False),
    Column("lifetime_minutes", Integer, nullable=False),
    Column("response_minutes", Integer, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    CheckConstraint("fee >= 0", name="fee_not_negative"),
    CheckConstraint("max_executors >= 1", name="max_executors_positive"),
)

orders = Table(
    "orders",
    metadata,
    Column("id", String(12), primary_key=True),
    Column("client_id", BigInteger, ForeignKey("users.id"), nullable=False),
    Column("category", String(32), nullable=False),
    Column("description", Text, nullable=False),
    Column("city", String(100), nullable=False),
    Column("city_key", String(100), nullable=False),  # casefolded, for filters
    Column("contact", String(100), nullable=False),
    Column("status", String(20), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("fee", BigInteger, nullable=False),
    Column("max_executors", Integer, nullable=False),
    Column("response_minutes", Integer, nullable=False),
    Column("currency", String(10), nullable=False),
    Column("takers", Integer, nullable=False, default=0),
    Column("responded", Boolean, nullable=False, default=False),
    Column("respond_by", UtcDateTime),
    Column("closed_at", UtcDateTime),
    CheckConstraint(f"status IN ({_ORDER_STATUSES})", name="status"),
    CheckConstraint("takers >= 0 AND takers <= max_executors", name="takers_range"),
    CheckConstraint("fee >= 0", name="fee_not_negative"),
)
# one active order per contact
Index(
    "ix_orders_active_contact",
    orders.c.contact,
    unique=True,
    postgresql_where=text(_ACTIVE),
    sqlite_where=text(_ACTIVE),
)
# the job runner's claim and the public listing of active orders
Index(
    "ix_orders_active_due",
    orders.c.expires_at,
    postgresql_where=text(_ACTIVE),
    sqlite_where=text(_ACTIVE),
)
Index("ix_orders_created_at", orders.c.created_at)
Index("ix_orders_client_id", orders.c.client_id)

order_takes = Table(
    "order_takes",
    metadata,
    Column("order_id", String(12), ForeignKey("orders.id"), primary_key=True),
    Column("executor_id", BigInteger, ForeignKey("users.id"), primary_key=True),
    Column("fee", BigInteger, nullable=False),
    Column("transfer_id", String(128), nullable=False),
    Column("taken_at", UtcDateTime, nullable=False),
    Column("refunded", Boolean, nullable=False, default=False),
    CheckConstraint("fee >= 0", name="fee_not_negative"),
)
Index("ix_order_takes_executor_id", order_takes.c.executor_id)

order_reports = Table(
    "order_reports",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("order_id", String(12), ForeignKey("orders.id"), nullable=False),
    Column("executor_id", BigInteger, ForeignKey("users.id"), nullable=False),
    Column("reason", String(500), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("decided_at", UtcDateTime),
    Column("decided_by", BigInteger),
    UniqueConstraint("order_id", "executor_id", name="uq_order_reports_order_executor"),
    CheckConstraint("status IN ('pending', 'accepted', 'rejected')", name="status"),
)
Index("ix_order_reports_executor_id", order_reports.c.executor_id)

order_reviews = Table(
    "order_reviews",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("order_id", String(12), ForeignKey("orders.id"), nullable=False),
    Column("client_id", BigInteger, ForeignKey("users.id"), nullable=False),
    Column("executor_id", BigInteger, ForeignKey("users.id"), nullable=False),
    Column("stars", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("order_id", "executor_id", name="uq_order_reviews_order_executor"),
    CheckConstraint("stars BETWEEN 1 AND 5", name="stars_range"),
)
Index("ix_order_reviews_executor_id", order_reviews.c.executor_id, order_reviews.c.id)

order_complaints = Table(
    "order_complaints",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("order_id", String(12), ForeignKey("orders.id"), nullable=False),
    Column("executor_id", BigInteger, ForeignKey("users.id"), nullable=False),
    Column("reason", String(32), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("order_id", "executor_id", name="uq_order_complaints_order_executor"),
)

order_preferences = Table(
    "order_preferences",
    metadata,
    Column("user_id", BigInteger, ForeignKey("users.id"), primary_key=True, autoincrement=False),
    Column("mode", String(8), nullable=False),
    Column("digest_minutes", Integer, nullable=False),
    Column("phone", String(32), nullable=False, default=""),
    Column("digest_after", UtcDateTime),
    Column("digest_due", UtcDateTime),
    CheckConstraint("mode IN ('instant', 'digest', 'off')", name="mode"),
)

# one row per subscription: kind 'category' (value: slug) or 'city' (value: casefolded name)
order_subscriptions = Table(
    "order_subscriptions",
    metadata,
    Column("user_id", BigInteger, ForeignKey("users.id"), primary_key=True, autoincrement=False),
    Column("kind", String(8), primary_key=True),
    Column("value", String(100), primary_key=True),
    Column("label", String(100), nullable=False),  # the value as the user wrote it
    CheckConstraint("kind IN ('category', 'city')", name="kind"),
)
Index("ix_order_subscriptions_kind_value", order_subscriptions.c.kind, order_subscriptions.c.value)
