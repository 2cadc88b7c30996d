"""partial unique index on transfers.pending_id; accounts fillfactor 50 (HOT updates)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 16:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("transfers") as batch_op:
        batch_op.drop_constraint("uq_transfers_pending_id", type_="unique")
    op.create_index(
        "uq_transfers_pending_id",
        "transfers",
        ["pending_id"],
        unique=True,
        postgresql_where=sa.text("pending_id IS NOT NULL"),
        sqlite_where=sa.text("pending_id IS NOT NULL"),
    )
    if op.get_context().dialect.name == "postgresql":
        op.execute("ALTER TABLE accounts SET (fillfactor = 50)")


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("ALTER TABLE accounts RESET (fillfactor)")
    op.drop_index("uq_transfers_pending_id", table_name="transfers")
    with op.batch_alter_table("transfers") as batch_op:
        batch_op.create_unique_constraint("uq_transfers_pending_id", ["pending_id"])
