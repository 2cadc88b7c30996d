"""The SQL of a raffle purchase batch on PostgreSQL (``SqlRaffles.lock_buyers``,
``read_purchase_batch`` and ``add_tickets`` with reserved ids; docs/raffles.md)."""

from __future__ import annotations

from sqlalchemy import text

from .users import USERS_JSON

__all__ = ["ADD_RESERVED_DRIVER", "ADD_RESERVED_SA", "LOCK_BUYERS", "READ_BATCH"]

# A batch's tickets (ids reserved by its read) and the raffles' sold counts, sent with the
# COMMIT (Session.defer);
# the driver's form (psycopg placeholders) and SQLAlchemy's (when a statement flushes it)
ADD_RESERVED = """
WITH ins AS (
    INSERT INTO raffle_tickets (id, raffle_id, number, user_id, price, wallet_account_id,
                                purchase, bought_at, prize, refunded)
    SELECT r.id, r.raffle_id, r.number, r.user_id, r.price, r.wallet_account_id, r.purchase,
           r.bought_at, 0, false
    FROM json_to_recordset(CAST({rows} AS json)) AS r(id bigint, raffle_id bigint,
         number integer, user_id bigint, price bigint, wallet_account_id bigint, purchase text,
         bought_at timestamptz)
    RETURNING raffle_id
)
UPDATE raffles SET sold = raffles.sold + c.n
FROM (SELECT raffle_id, count(*) AS n FROM ins GROUP BY raffle_id) AS c
WHERE raffles.id = c.raffle_id
"""
ADD_RESERVED_SA = text(ADD_RESERVED.format(rows=":rows"))
ADD_RESERVED_DRIVER = ADD_RESERVED.format(rows="%(rows)s")

# A purchase batch's read in ONE statement (one snapshot): the raffles locked FOR KEY SHARE in
# id order; the buyers' ticket counts, for raffles with a per-user limit (lock_buyers ran
# before, in an earlier statement, so this snapshot sees every purchase of theirs that
# committed); the transfers under the batch's keys (one index probe each) and their tickets;
# the buyers' wallet ids; the probed numbers found sold in raffles at most half sold, and every
# sold number of fuller open ones; and ids reserved for the new tickets. Sent unprepared, so
# PostgreSQL plans it for the actual arrays every time: a generic plan made while the tickets
# table was small kept scanning it whole for each probed number once it had grown (80 ms a
# batch in the benchmark instead of 5). The tickets of the keys are one index probe per key:
# ``OFFSET 0`` keeps PostgreSQL from flattening that LATERAL into a hash join over a whole
# scan of the raffle's tickets (it guesses 100 keys for a JSON array; the read then grew from
# 1.7 to 7 ms a batch over the raffle benchmark's runs as the tickets did).
READ_BATCH = (
    "WITH r AS MATERIALIZED (SELECT * FROM raffles WHERE id = ANY(CAST(%(ids)s AS bigint[]))"  # noqa: S608 (constant SQL: USERS_JSON)
    " ORDER BY id FOR KEY SHARE)"
    " SELECT"
    " (SELECT json_agg(row_to_json(r) ORDER BY r.id) FROM r),"
    " (SELECT json_agg(json_build_array(k.r, k.u, (SELECT count(*) FROM raffle_tickets AS t"
    " WHERE t.raffle_id = k.r AND t.user_id = k.u)))"
    " FROM unnest(CAST(%(pr)s AS bigint[]), CAST(%(pu)s AS bigint[])) AS k(r, u)"
    " JOIN r ON r.id = k.r WHERE r.max_per_user < r.capacity),"
    " (SELECT json_agg(t) FROM json_array_elements_text(CAST(%(keys)s AS json)) AS k(key)"
    " CROSS JOIN LATERAL (SELECT * FROM transfers WHERE transfers.id = k.key LIMIT 1) AS t),"
    " (SELECT json_agg(row_to_json(t) ORDER BY t.number)"
    " FROM json_array_elements_text(CAST(%(keys)s AS json)) AS k(key)"
    " CROSS JOIN LATERAL (SELECT * FROM raffle_tickets WHERE purchase = k.key OFFSET 0) AS t),"
    " (SELECT json_agg(json_build_array(a.owner, a.currency, a.id))"
    " FROM json_to_recordset(CAST(%(wallets)s AS json)) AS w(r bigint, o text)"
    " JOIN r ON r.id = w.r JOIN accounts AS a"
    " ON a.kind = %(kind)s AND a.owner = w.o AND a.currency = r.currency),"
    " (SELECT json_agg(json_build_array(t.raffle_id, t.number))"
    " FROM unnest(CAST(%(qr)s AS bigint[]), CAST(%(qn)s AS integer[])) AS q(r, n)"
    " JOIN r ON r.id = q.r AND r.sold <= r.capacity / 2 CROSS JOIN LATERAL"
    " (SELECT raffle_id, number FROM raffle_tickets"
    " WHERE raffle_id = q.r AND number = q.n LIMIT 1) AS t),"
    " (SELECT json_agg(json_build_array(r.id, (SELECT coalesce(array_agg(t.number), '{}')"
    " FROM raffle_tickets AS t WHERE t.raffle_id = r.id)))"
    " FROM r WHERE r.sold > r.capacity / 2 AND r.status = 'open'),"
    " ARRAY(SELECT nextval(pg_get_serial_sequence('raffle_tickets', 'id'))"
    " FROM generate_series(1, %(n)s)),"
    f" {USERS_JSON}"
)

# One transaction-level advisory lock per (raffle, buyer), in key order (no deadlock between
# batches: each takes its locks first, in the same order); the two-key form, int4 each
LOCK_BUYERS = text(
    "SELECT count(pg_advisory_xact_lock(s.r, s.u)) FROM (SELECT DISTINCT r, u FROM"
    " unnest(CAST(:r AS integer[]), CAST(:u AS integer[])) AS k(r, u) ORDER BY r, u) AS s"
)
