"""pari-mutuel events, their outcomes and bets; event chat and mutes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from wagerkit.adapters.sql.tables import UtcDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_UNRESOLVED = "status IN ('scheduled', 'open', 'locked', 'settling', 'voiding')"


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("stream_type", sa.String(length=16), nullable=False),
        sa.Column("stream_url", sa.String(length=2000), nullable=False),
        sa.Column("currency", sa.String(length=10), nullable=False),
        sa.Column("min_stake", sa.BigInteger(), nullable=False),
        sa.Column("max_stake", sa.BigInteger(), nullable=False),
        sa.Column("rake_bps", sa.Integer(), nullable=False),
        sa.Column("start_time", UtcDateTime(), nullable=False),
        sa.Column("betting_locked_at", UtcDateTime(), nullable=False),
        sa.Column("settle_deadline", UtcDateTime(), nullable=False),
        sa.Column("allow_topup", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("escrow_account_id", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("winning_outcome_id", sa.BigInteger(), nullable=True),
        sa.Column("locked_at", UtcDateTime(), nullable=True),
        sa.Column("resolved_at", UtcDateTime(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("bet_count", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('scheduled', 'open', 'locked', 'settling', 'settled', 'voiding', 'voided')",
            name=op.f("ck_events_status"),
        ),
        sa.CheckConstraint(
            "stream_type IN ('youtube', 'twitch', 'custom')", name=op.f("ck_events_stream_type")
        ),
        sa.CheckConstraint(
            "rake_bps >= 0 AND rake_bps <= 1000", name=op.f("ck_events_rake_bps_range")
        ),
        sa.CheckConstraint(
            "min_stake > 0 AND min_stake <= max_stake", name=op.f("ck_events_stake_range")
        ),
        sa.CheckConstraint("bet_count >= 0", name=op.f("ck_events_bet_count_not_negative")),
        sa.CheckConstraint(
            "status NOT IN ('settling', 'settled') OR winning_outcome_id IS NOT NULL",
            name=op.f("ck_events_settled_has_winner"),
        ),
        sa.ForeignKeyConstraint(
            ["escrow_account_id"],
            ["accounts.id"],
            name=op.f("fk_events_escrow_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_index(
        "ix_events_unresolved",
        "events",
        ["id"],
        unique=False,
        postgresql_where=sa.text(_UNRESOLVED),
        sqlite_where=sa.text(_UNRESOLVED),
    )

    op.create_table(
        "event_outcomes",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("bettors", sa.Integer(), nullable=False),
        sa.CheckConstraint("total >= 0", name=op.f("ck_event_outcomes_total_not_negative")),
        sa.CheckConstraint("bettors >= 0", name=op.f("ck_event_outcomes_bettors_not_negative")),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_event_outcomes_event_id_events")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_outcomes")),
        sa.UniqueConstraint("event_id", "position", name=op.f("uq_event_outcomes_event_position")),
        sa.UniqueConstraint("id", "event_id", name=op.f("uq_event_outcomes_id_event")),
        sqlite_autoincrement=True,  # ids of replaced outcomes are never reused
    )

    op.create_table(
        "bets",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("outcome_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("wallet_account_id", sa.BigInteger(), nullable=False),
        sa.Column("placed_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("payout", sa.BigInteger(), nullable=True),
        sa.Column("placements", sa.Integer(), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_bets_amount_positive")),
        sa.CheckConstraint(
            "status IN ('open', 'won', 'lost', 'refunded')", name=op.f("ck_bets_status")
        ),
        sa.CheckConstraint(
            "payout IS NULL OR payout >= 0", name=op.f("ck_bets_payout_not_negative")
        ),
        sa.CheckConstraint(
            "(status = 'open') = (payout IS NULL)", name=op.f("ck_bets_payout_iff_decided")
        ),
        sa.CheckConstraint("placements >= 1", name=op.f("ck_bets_placements_positive")),
        sa.ForeignKeyConstraint(
            ["outcome_id", "event_id"],
            ["event_outcomes.id", "event_outcomes.event_id"],
            name=op.f("fk_bets_outcome_id_event_outcomes"),
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_bets_user_id_users")),
        sa.ForeignKeyConstraint(
            ["wallet_account_id"],
            ["accounts.id"],
            name=op.f("fk_bets_wallet_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bets")),
        sa.UniqueConstraint("event_id", "user_id", name=op.f("uq_bets_event_user")),
    )
    op.create_index("ix_bets_user_id", "bets", ["user_id", "id"], unique=False)
    op.create_index("ix_bets_event_id", "bets", ["event_id", "id"], unique=False)

    op.create_table(
        "chat_messages",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            'length("text") BETWEEN 1 AND 500', name=op.f("ck_chat_messages_text_length")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_chat_messages_event_id_events")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_chat_messages_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_messages")),
    )
    op.create_index("ix_chat_messages_event_id", "chat_messages", ["event_id", "id"], unique=False)

    op.create_table(
        "chat_mutes",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("until", UtcDateTime(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_chat_mutes_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_chat_mutes")),
    )

    if op.get_context().dialect.name == "postgresql":
        # rewritten by every bet batch: room on each page for HOT updates (as accounts)
        op.execute("ALTER TABLE events SET (fillfactor = 50)")
        op.execute("ALTER TABLE event_outcomes SET (fillfactor = 50)")


def downgrade() -> None:
    op.drop_table("chat_mutes")
    op.drop_index("ix_chat_messages_event_id", table_name="chat_messages")
    op.drop_table("chat_messages")
    op.drop_index("ix_bets_event_id", table_name="bets")
    op.drop_index("ix_bets_user_id", table_name="bets")
    op.drop_table("bets")
    op.drop_table("event_outcomes")
    op.drop_index("ix_events_unresolved", table_name="events")
    op.drop_table("events")
