"""the service-order marketplace: categories, orders (one active per contact), takes,
invalid-contact reports, reviews, complaints, preferences and subscriptions (docs/orders.md)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 04:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from wagerkit.adapters.sql.tables import UtcDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "order_categories",
        sa.Column("slug", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("fee", sa.BigInteger(), nullable=False),
        sa.Column("max_executors", sa.Integer(), nullable=False),
        sa.Column("lifetime_minutes", sa.Integer(), nullable=False),
        sa.Column("response_minutes", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint("fee >= 0", name=op.f("ck_order_categories_fee_not_negative")),
        sa.CheckConstraint(
            "max_executors >= 1", name=op.f("ck_order_categories_max_executors_positive")
        ),
        sa.PrimaryKeyConstraint("slug", name=op.f("pk_order_categories")),
    )
    op.create_table(
        "order_preferences",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("digest_minutes", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("digest_after", UtcDateTime(), nullable=True),
        sa.Column("digest_due", UtcDateTime(), nullable=True),
        sa.CheckConstraint(
            "mode IN ('instant', 'digest', 'off')", name=op.f("ck_order_preferences_mode")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_order_preferences_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_order_preferences")),
    )
    op.create_table(
        "order_subscriptions",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("value", sa.String(length=100), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.CheckConstraint(
            "kind IN ('category', 'city')", name=op.f("ck_order_subscriptions_kind")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_order_subscriptions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", "kind", "value", name=op.f("pk_order_subscriptions")),
    )
    with op.batch_alter_table("order_subscriptions", schema=None) as batch_op:
        batch_op.create_index("ix_order_subscriptions_kind_value", ["kind", "value"], unique=False)

    op.create_table(
        "orders",
        sa.Column("id", sa.String(length=12), nullable=False),
        sa.Column("client_id", sa.BigInteger(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("city_key", sa.String(length=100), nullable=False),
        sa.Column("contact", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("fee", sa.BigInteger(), nullable=False),
        sa.Column("max_executors", sa.Integer(), nullable=False),
        sa.Column("response_minutes", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=10), nullable=False),
        sa.Column("takers", sa.Integer(), nullable=False),
        sa.Column("responded", sa.Boolean(), nullable=False),
        sa.Column("respond_by", UtcDateTime(), nullable=True),
        sa.Column("closed_at", UtcDateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('active', 'completed', 'expired', 'deleted', 'closed_no_response', 'closed')",
            name=op.f("ck_orders_status"),
        ),
        sa.CheckConstraint("fee >= 0", name=op.f("ck_orders_fee_not_negative")),
        sa.CheckConstraint(
            "takers >= 0 AND takers <= max_executors", name=op.f("ck_orders_takers_range")
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["users.id"], name=op.f("fk_orders_client_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(
            "ix_orders_active_contact",
            ["contact"],
            unique=True,
            postgresql_where=sa.text("status = 'active'"),
            sqlite_where=sa.text("status = 'active'"),
        )
        batch_op.create_index(
            "ix_orders_active_due",
            ["expires_at"],
            unique=False,
            postgresql_where=sa.text("status = 'active'"),
            sqlite_where=sa.text("status = 'active'"),
        )
        batch_op.create_index("ix_orders_client_id", ["client_id"], unique=False)
        batch_op.create_index("ix_orders_created_at", ["created_at"], unique=False)

    op.create_table(
        "order_complaints",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("order_id", sa.String(length=12), nullable=False),
        sa.Column("executor_id", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["executor_id"], ["users.id"], name=op.f("fk_order_complaints_executor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_complaints_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_complaints")),
        sa.UniqueConstraint("order_id", "executor_id", name="uq_order_complaints_order_executor"),
    )
    op.create_table(
        "order_reports",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("order_id", sa.String(length=12), nullable=False),
        sa.Column("executor_id", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("decided_at", UtcDateTime(), nullable=True),
        sa.Column("decided_by", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'accepted', 'rejected')", name=op.f("ck_order_reports_status")
        ),
        sa.ForeignKeyConstraint(
            ["executor_id"], ["users.id"], name=op.f("fk_order_reports_executor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_reports_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_reports")),
        sa.UniqueConstraint("order_id", "executor_id", name="uq_order_reports_order_executor"),
    )
    with op.batch_alter_table("order_reports", schema=None) as batch_op:
        batch_op.create_index("ix_order_reports_executor_id", ["executor_id"], unique=False)

    op.create_table(
        "order_reviews",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("order_id", sa.String(length=12), nullable=False),
        sa.Column("client_id", sa.BigInteger(), nullable=False),
        sa.Column("executor_id", sa.BigInteger(), nullable=False),
        sa.Column("stars", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint("stars BETWEEN 1 AND 5", name=op.f("ck_order_reviews_stars_range")),
        sa.ForeignKeyConstraint(
            ["client_id"], ["users.id"], name=op.f("fk_order_reviews_client_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["executor_id"], ["users.id"], name=op.f("fk_order_reviews_executor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_reviews_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_reviews")),
        sa.UniqueConstraint("order_id", "executor_id", name="uq_order_reviews_order_executor"),
    )
    with op.batch_alter_table("order_reviews", schema=None) as batch_op:
        batch_op.create_index("ix_order_reviews_executor_id", ["executor_id", "id"], unique=False)

    op.create_table(
        "order_takes",
        sa.Column("order_id", sa.String(length=12), nullable=False),
        sa.Column("executor_id", sa.BigInteger(), nullable=False),
        sa.Column("fee", sa.BigInteger(), nullable=False),
        sa.Column("transfer_id", sa.String(length=128), nullable=False),
        sa.Column("taken_at", UtcDateTime(), nullable=False),
        sa.Column("refunded", sa.Boolean(), nullable=False),
        sa.CheckConstraint("fee >= 0", name=op.f("ck_order_takes_fee_not_negative")),
        sa.ForeignKeyConstraint(
            ["executor_id"], ["users.id"], name=op.f("fk_order_takes_executor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_takes_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("order_id", "executor_id", name=op.f("pk_order_takes")),
    )
    with op.batch_alter_table("order_takes", schema=None) as batch_op:
        batch_op.create_index("ix_order_takes_executor_id", ["executor_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("order_takes", schema=None) as batch_op:
        batch_op.drop_index("ix_order_takes_executor_id")

    op.drop_table("order_takes")
    with op.batch_alter_table("order_reviews", schema=None) as batch_op:
        batch_op.drop_index("ix_order_reviews_executor_id")

    op.drop_table("order_reviews")
    with op.batch_alter_table("order_reports", schema=None) as batch_op:
        batch_op.drop_index("ix_order_reports_executor_id")

    op.drop_table("order_reports")
    op.drop_table("order_complaints")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_created_at")
        batch_op.drop_index("ix_orders_client_id")
        batch_op.drop_index(
            "ix_orders_active_due",
            postgresql_where=sa.text("status = 'active'"),
            sqlite_where=sa.text("status = 'active'"),
        )
        batch_op.drop_index(
            "ix_orders_active_contact",
            postgresql_where=sa.text("status = 'active'"),
            sqlite_where=sa.text("status = 'active'"),
        )

    op.drop_table("orders")
    with op.batch_alter_table("order_subscriptions", schema=None) as batch_op:
        batch_op.drop_index("ix_order_subscriptions_kind_value")

    op.drop_table("order_subscriptions")
    op.drop_table("order_preferences")
    op.drop_table("order_categories")
