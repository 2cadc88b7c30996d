"""The SQL of a take batch on PostgreSQL (``SqlOrders.read_take_batch`` and ``add_takes``;
docs/orders.md): one read statement, and one write statement sent with the COMMIT.

Both go to psycopg as they are (no SQLAlchemy compile per batch: the arrays and rows travel
as one parameter each, so the SQL text never changes and psycopg prepares it once per
connection); the SQLAlchemy form of the write is only used when a later statement of the
same unit of work flushes it first.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

from sqlalchemy import text

from ...domain.ledger import AccountKind
from ...domain.orders import Order, Take
from ...ports import TakeBatchView
from .session import Session, dump_json, utc
from .users import USERS_JSON, user_from_json

__all__ = ["pg_read_take_batch", "pg_write_takes"]

# A take batch's read in ONE statement (one snapshot): the orders locked FOR UPDATE in id
# order; their takes; the executors' wallet ids in each order's currency; the house accounts
# of the orders' currencies; the users asked for.
READ_TAKE_BATCH = (
    "WITH o AS MATERIALIZED (SELECT * FROM orders WHERE id = ANY(CAST(%(ids)s AS text[]))"  # noqa: S608 (constant SQL: USERS_JSON)
    " ORDER BY id FOR UPDATE)"
    " SELECT"
    " (SELECT json_agg(row_to_json(o) ORDER BY o.id) FROM o),"
    " (SELECT json_agg(json_build_array(t.order_id, t.executor_id, t.fee, t.transfer_id,"
    " t.taken_at, t.refunded) ORDER BY t.order_id, t.taken_at, t.executor_id)"
    " FROM order_takes AS t WHERE t.order_id = ANY(CAST(%(ids)s AS text[]))),"
    " (SELECT json_agg(json_build_array(a.owner, a.currency, a.id))"
    " FROM unnest(CAST(%(wo)s AS text[]), CAST(%(ww)s AS text[])) AS w(o, owner)"
    " JOIN o ON o.id = w.o JOIN accounts AS a"
    " ON a.kind = %(user)s AND a.owner = w.owner AND a.currency = o.currency),"
    " (SELECT json_agg(json_build_array(a.currency, a.id)) FROM accounts AS a"
    " WHERE a.kind = %(house)s AND a.owner = %(howner)s"
    " AND a.currency IN (SELECT o.currency FROM o)),"
    f" {USERS_JSON}"
)

# A take batch's whole write: the takes and the orders' takers, respond_by and updated_at
# (the orders are this transaction's, locked by the read)
WRITE_TAKES = """
WITH ins AS (
    INSERT INTO order_takes (order_id, executor_id, fee, transfer_id, taken_at, refunded)
    SELECT v.o, v.e, v.f, v.t, v.at, false
    FROM json_to_recordset(CAST({takes} AS json))
         AS v(o text, e bigint, f bigint, t text, at timestamptz)
)
UPDATE orders SET takers = u.n, respond_by = u.rb, updated_at = u.at
FROM json_to_recordset(CAST({orders} AS json)) AS u(id text, n integer, rb timestamptz,
     at timestamptz)
WHERE orders.id = u.id
"""
WRITE_TAKES_SA = text(WRITE_TAKES.format(takes=":takes", orders=":orders"))
WRITE_TAKES_DRIVER = WRITE_TAKES.format(takes="%(takes)s", orders="%(orders)s")


def _take(r: Sequence[Any]) -> Take:
    return Take(r[0], r[1], r[2], r[3], utc(r[4]), r[5])


async def pg_read_take_batch(
    s: Session,
    order_ids: Sequence[str],
    wallets: Sequence[tuple[str, str]],
    house: str,
    users: Sequence[int],
    order_of: Any,
    takes_of: Any,
) -> TakeBatchView:
    """``read_take_batch`` on PostgreSQL (``order_of`` maps a row to an ``Order``,
    ``takes_of`` re-reads takes). Where the order row the lock returned counts more takers
    than the takes the statement's snapshot saw, a take batch committed while this one
    waited for the lock: those orders' takes are read again, in a statement that sees it."""
    ids = sorted(set(order_ids))
    pairs = sorted(set(wallets))
    row, *_ = await s.driver_rows(
        READ_TAKE_BATCH,
        {
            "ids": ids,
            "wo": [o for o, _ in pairs],
            "ww": [w for _, w in pairs],
            "user": AccountKind.USER.value,
            "house": AccountKind.HOUSE.value,
            "howner": house,
            "uids": sorted(set(users)),
        },
    )
    found: dict[str, Order] = {}
    for m in row[0] or ():
        o = order_of(SimpleNamespace(**m))
        found[o.id] = o
    takes: dict[str, list[Take]] = {}
    for r in row[1] or ():
        takes.setdefault(r[0], []).append(_take(r))
    behind = [i for i, o in found.items() if o.takers > len(takes.get(i, ()))]
    if behind:
        takes.update(await takes_of(behind))
    return TakeBatchView(
        found,
        takes,
        {(o, c): a for o, c, a in row[2] or ()},
        {c: a for c, a in row[3] or ()},
        {u.id: u for u in map(user_from_json, row[4] or ())},
    )


def pg_write_takes(s: Session, takes: Sequence[Take], orders: Sequence[Order]) -> None:
    """Queue a take batch's write to go with the COMMIT (``Session.defer``)."""
    params = {
        "takes": dump_json(
            [
                {
                    "o": t.order_id,
                    "e": t.executor_id,
                    "f": t.fee,
                    "t": t.transfer_id,
                    "at": utc(t.taken_at).isoformat(),
                }
                for t in takes
            ]
        ),
        "orders": dump_json(
            [
                {
                    "id": o.id,
                    "n": o.takers,
                    "rb": None if o.respond_by is None else utc(o.respond_by).isoformat(),
                    "at": utc(o.updated_at).isoformat(),
                }
                for o in orders
            ]
        ),
    }
    s.defer(WRITE_TAKES_SA, WRITE_TAKES_DRIVER, params)
