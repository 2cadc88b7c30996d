"""Alembic migrations are the only way the schema changes: they must produce exactly the
tables, columns, indexes and constraints of wagerkit.adapters.sql.tables."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from wagerkit.adapters.sql import metadata, sync_url
from wagerkit.adapters.sql.migrate import current, upgrade


def _diff(url: str) -> list[object]:
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(
                conn, opts={"compare_type": True, "compare_server_default": False}
            )
            return list(compare_metadata(ctx, metadata))
    finally:
        engine.dispose()


def _check_constraints(url: str) -> set[str]:
    engine = create_engine(sync_url(url))
    try:
        insp = inspect(engine)
        return {
            c["name"]
            for t in (
                "accounts",
                "transfers",
                "users",
                "payments",
                "events",
                "event_outcomes",
                "bets",
                "chat_messages",
                "raffle_categories",
                "raffles",
                "raffle_tickets",
            )
            for c in insp.get_check_constraints(t)
        }
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_migrations_produce_the_models_schema(backend: str, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "pg_url")
    assert current(url) is None
    upgrade(url)
    assert current(url) == "0008"
    assert _diff(url) == []
    # compare_metadata ignores CHECK constraints: make sure the invariants are really there
    assert {
        "ck_accounts_debits_must_not_exceed_credits",
        "ck_accounts_totals_not_negative",
        "ck_transfers_amount_positive",
        "ck_transfers_pending_id_iff_resolution",
        "ck_payments_amount_positive",
        "ck_payments_hold_iff_withdrawal",
        "ck_payments_pending_unsettled",
        "ck_events_status",
        "ck_events_stream_type",
        "ck_events_rake_bps_range",
        "ck_events_stake_range",
        "ck_events_bet_count_not_negative",
        "ck_events_settled_has_winner",
        "ck_event_outcomes_total_not_negative",
        "ck_event_outcomes_bettors_not_negative",
        "ck_bets_amount_positive",
        "ck_bets_status",
        "ck_bets_payout_not_negative",
        "ck_bets_payout_iff_decided",
        "ck_bets_placements_positive",
        "ck_chat_messages_text_length",
        "ck_raffle_categories_winners_range",
        "ck_raffles_status",
        "ck_raffles_sold_range",
        "ck_raffles_min_tickets",
        "ck_raffle_tickets_number_not_negative",
    } <= _check_constraints(url)
    if backend == "postgres":  # storage parameters are invisible to compare_metadata
        engine = create_engine(sync_url(url))
        with engine.connect() as conn:
            for table in ("accounts", "events", "event_outcomes"):
                opts = conn.exec_driver_sql(
                    "SELECT reloptions FROM pg_class WHERE relname = %s", (table,)
                )
                assert opts.scalar() == ["fillfactor=50"], table
        engine.dispose()
    upgrade(url)  # idempotent
    assert current(url) == "0008"
