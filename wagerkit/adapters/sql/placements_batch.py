"""The SQL of a contract placement batch on PostgreSQL (``SqlPredictions.read_placement_batch``
and ``add_contracts`` with reserved ids; docs/predictions.md)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select, tuple_

from ...ports import PlacementBatchView
from .prices import SqlPrices
from .tables import accounts, prediction_exposure
from .users import USERS_JSON, SqlUsers

if TYPE_CHECKING:
    from .predictions import SqlPredictions

__all__ = ["READ_BATCH", "read_batch_sqlite"]

# A placement batch's read in ONE statement, sent through the driver: the house's exposure rows
# of the batch's currency (the total "*" and the symbols) locked FOR UPDATE in symbol order
# (the order lock_exposure and settlement take them: no deadlock), their latest versions; and,
# from the statement's snapshot, the contracts under the batch's keyed stake ids (one index
# probe each), the latest tick at or before now of each symbol (served by the ticks' primary
# key), the ids of the wallets and the house account that exist, the users of the batch's
# access tokens (``user_from_json``'s columns), and ids reserved for the new contracts.
# Prices travel as text (JSON numbers would be floats), times as ISO text.
READ_BATCH = (
    "WITH x AS MATERIALIZED (SELECT symbol, amount FROM prediction_exposure"  # noqa: S608 (constant SQL: USERS_JSON)
    " WHERE currency = %(currency)s AND symbol = ANY(CAST(%(keys)s AS text[]))"
    " ORDER BY symbol FOR UPDATE)"
    " SELECT"
    " (SELECT json_agg(json_build_array(x.symbol, x.amount)) FROM x),"
    " (SELECT json_agg(to_jsonb(c) || jsonb_build_object('entry_price', c.entry_price::text,"
    " 'exit_price', c.exit_price::text))"
    " FROM json_array_elements_text(CAST(%(stakes)s AS json)) AS k(key) CROSS JOIN LATERAL"
    " (SELECT * FROM prediction_contracts AS p WHERE p.stake_transfer_id = k.key LIMIT 1) AS c),"
    " (SELECT json_agg(json_build_array(t.symbol, t.observed_at, t.price::text, t.source))"
    " FROM unnest(CAST(%(symbols)s AS text[])) AS s(symbol) CROSS JOIN LATERAL"
    " (SELECT * FROM price_ticks AS p WHERE p.symbol = s.symbol AND p.observed_at <= %(now)s"
    " ORDER BY p.observed_at DESC, p.source DESC LIMIT 1) AS t),"
    " (SELECT json_agg(json_build_array(a.kind, a.owner, a.id))"
    " FROM json_to_recordset(CAST(%(accounts)s AS json)) AS w(k text, o text)"
    " JOIN accounts AS a ON a.kind = w.k AND a.owner = w.o AND a.currency = %(currency)s),"
    f" {USERS_JSON},"
    " ARRAY(SELECT nextval(pg_get_serial_sequence('prediction_contracts', 'id'))"
    " FROM generate_series(1, %(n)s))"
)


async def read_batch_sqlite(
    repo: SqlPredictions,
    currency: str,
    keys: Sequence[str],
    stake_ids: Sequence[str],
    wanted: Sequence[tuple[str, str]],
    users: Sequence[int],
    now: datetime,
) -> PlacementBatchView:
    """SQLite: one writer at a time (BEGIN IMMEDIATE), so reads in any order are one view."""
    c, e, a = repo._c, prediction_exposure.c, accounts.c
    q = select(e.symbol, e.amount).where(e.currency == currency, e.symbol.in_(list(keys)))
    exposure = {r.symbol: r.amount for r in await c.execute(q)}
    prices = SqlPrices(repo._s)
    ticks = {}
    for s in keys:
        if s != "*" and (t := await prices.latest(s, now)) is not None:
            ticks[s] = t
    ids: dict[tuple[str, str], int] = {}
    pairs = sorted(set(wanted))
    for start in range(0, len(pairs), 500):
        q = select(a.kind, a.owner, a.id).where(
            a.currency == currency, tuple_(a.kind, a.owner).in_(pairs[start : start + 500])
        )
        ids.update(((r.kind, r.owner), r.id) for r in await c.execute(q))
    people = await SqlUsers(repo._s).get_many(users) if users else {}
    return PlacementBatchView(
        exposure, await repo.by_stake_ids(stake_ids), ticks, ids, dict(people)
    )
