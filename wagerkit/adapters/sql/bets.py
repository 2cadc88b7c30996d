"""Bets (``uow.events``' bet half, the base of ``SqlEvents``) on the SQL unit of work's
connection.

Set-based writes: a bet batch's inserts, top-ups and pool increments are one statement each
on PostgreSQL (rows passed as one JSON parameter); the rows they update are locked first in id
order, so concurrent batches queue and never deadlock. ``record_results`` is one
``UPDATE … FROM json_to_recordset`` however many bets it settles. SQLite uses ``executemany``.
A bet batch reads with ``read_bet_batch`` (one statement) and writes with ``write_bet_batch``
(one statement) on PostgreSQL.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, text, tuple_, update
from sqlalchemy.exc import IntegrityError

from ...domain.errors import TransientStoreError
from ...domain.events import Bet, BetStatus, Event
from ...domain.ledger import AccountKind
from ...ports import BetBatchView, BetResult, NewBet, PoolDelta
from .events_rows import (
    _BET_COLUMNS,
    _bet,
    _bet_rows,
    _chunks,
    _json_bet,
    _json_event,
    _new_bet,
)
from .ledger import _transfer
from .session import Session, dump_json, int_array
from .tables import UtcDateTime, accounts, bets, event_outcomes, events, transfers
from .users import USERS_JSON, SqlUsers, user_from_json

__all__ = ["SqlBets"]

# Bets in input order (ORDER BY v.i: the serial ids ascend in it); the events' bet counts
# incremented in the same statement. Every UPDATE here locks its rows in id order first (the
# MATERIALIZED "l"), so two batches touching the same rows queue instead of deadlocking.
_PG_ADD_BETS = text(
    "WITH ins AS ("
    " INSERT INTO bets (event_id, outcome_id, user_id, amount, wallet_account_id,"
    " placed_at, updated_at, status, placements)"
    " SELECT v.e, v.o, v.u, v.a, v.w, v.t, v.t, 'open', 1"
    " FROM json_to_recordset(CAST(:rows AS json))"
    " AS v(i integer, e bigint, o bigint, u bigint, a bigint, w bigint, t timestamptz)"
    " ORDER BY v.i"
    " RETURNING id, event_id, user_id),"
    " c AS (SELECT * FROM json_to_recordset(CAST(:counts AS json)) AS c(id bigint, n integer)),"
    " l AS MATERIALIZED (SELECT events.id FROM events WHERE events.id IN (SELECT c.id FROM c)"
    " ORDER BY events.id FOR NO KEY UPDATE),"
    " u AS (UPDATE events SET bet_count = events.bet_count + c.n FROM c, l"
    " WHERE events.id = c.id AND l.id = c.id RETURNING 1)"
    " SELECT id, event_id, user_id FROM ins ORDER BY id"
)


_PG_ADD_TO_POOL = text(
    "WITH v AS (SELECT * FROM json_to_recordset(CAST(:rows AS json))"
    " AS v(id bigint, a bigint, n integer)),"
    " l AS MATERIALIZED (SELECT o.id FROM event_outcomes AS o WHERE o.id IN (SELECT v.id FROM v)"
    " ORDER BY o.id FOR NO KEY UPDATE)"
    " UPDATE event_outcomes SET total = event_outcomes.total + v.a,"
    " bettors = event_outcomes.bettors + v.n"
    " FROM v, l WHERE event_outcomes.id = v.id AND l.id = v.id"
)
_PG_TOP_UP = text(
    "WITH v AS (SELECT * FROM json_to_recordset(CAST(:rows AS json))"
    " AS v(id bigint, a bigint, n integer)),"
    " l AS MATERIALIZED (SELECT b.id FROM bets AS b WHERE b.id IN (SELECT v.id FROM v)"
    " ORDER BY b.id FOR NO KEY UPDATE)"
    " UPDATE bets SET amount = bets.amount + v.a, placements = bets.placements + v.n,"
    " updated_at = :now FROM v, l WHERE bets.id = v.id AND l.id = v.id"
).bindparams(bindparam("now", type_=UtcDateTime()))
# settlement holds the event FOR UPDATE: no one else writes its bets meanwhile
_PG_RECORD_RESULTS = text(
    "UPDATE bets SET status = v.s, payout = v.p, updated_at = :now"
    " FROM json_to_recordset(CAST(:rows AS json)) AS v(id bigint, s text, p bigint)"
    " WHERE bets.id = v.id"
).bindparams(bindparam("now", type_=UtcDateTime()))
_PG_BETS_FOR = text(
    "SELECT b.id, b.event_id, b.outcome_id, b.user_id, b.amount, b.wallet_account_id,"
    " b.placed_at, b.updated_at, b.status, b.payout, b.placements"
    " FROM unnest(CAST(:e AS bigint[]), CAST(:u AS bigint[])) AS k(e, u)"
    " JOIN bets AS b ON b.event_id = k.e AND b.user_id = k.u"
).columns(*_BET_COLUMNS)

# A bet batch's read: the events locked FOR KEY SHARE (in id order) with their outcomes, the
# users' bets and the transfers already recorded under the batch's keys, as JSON, in ONE
# statement: one snapshot, so a batch that committed meanwhile is seen whole (bets and stakes)
# or not at all. (Two statements let a replay see the first bet but not its stake, and be
# refused as a second bet.) Transfers: one index probe per key (LATERAL ... LIMIT 1). And the
# bettors' wallet account ids in each event's currency, where they exist, and the users of the
# batch's access tokens (``user_from_json``'s columns), who are authenticated from them.
# Sent through the driver, unprepared: planned for the tables as they are (Session.driver_rows).
_PG_READ_BATCH = (
    "WITH e AS MATERIALIZED (SELECT * FROM events WHERE id = ANY(CAST(%(ids)s AS bigint[]))"  # noqa: S608 (constant SQL: USERS_JSON)
    " ORDER BY id FOR KEY SHARE)"
    " SELECT"
    " (SELECT json_agg(json_build_array(row_to_json(e), (SELECT json_agg(json_build_array("
    "o.id, o.name, o.position, o.total, o.bettors) ORDER BY o.position)"
    " FROM event_outcomes AS o WHERE o.event_id = e.id)) ORDER BY e.id) FROM e),"
    " (SELECT json_agg(json_build_array(b.id, b.event_id, b.outcome_id, b.user_id, b.amount,"
    " b.wallet_account_id, b.placed_at, b.updated_at, b.status, b.payout, b.placements))"
    " FROM unnest(CAST(%(e)s AS bigint[]), CAST(%(u)s AS bigint[])) AS k(e, u)"
    " JOIN bets AS b ON b.event_id = k.e AND b.user_id = k.u),"
    " (SELECT json_agg(t) FROM json_array_elements_text(CAST(%(keys)s AS json)) AS k(key)"
    " CROSS JOIN LATERAL (SELECT * FROM transfers WHERE transfers.id = k.key LIMIT 1) AS t),"
    " (SELECT json_agg(json_build_array(a.owner, a.currency, a.id))"
    " FROM json_to_recordset(CAST(%(wallets)s AS json)) AS w(e bigint, o text)"
    " JOIN e ON e.id = w.e JOIN accounts AS a"
    " ON a.kind = %(kind)s AND a.owner = w.o AND a.currency = e.currency),"
    f" {USERS_JSON},"
    " ARRAY(SELECT nextval(pg_get_serial_sequence('bets', 'id'))"
    " FROM generate_series(1, CAST(%(n)s AS integer)))"
)

# A bet batch's write in ONE statement: the new bets (in input order) with the events' bet
# counts, the top-ups and the pool increments. Rows are locked in a fixed order, events, then
# bets, then outcomes (each lock CTE waits for the previous UPDATE through its dummy
# ``count(*) >= 0``), each in id order, so concurrent batches queue instead of deadlocking.
_WRITE_BATCH = (
    "WITH nv AS (SELECT * FROM json_to_recordset(CAST({rows} AS json))"
    " AS v({id_type}i integer, e bigint, o bigint, u bigint, a bigint, w bigint, t timestamptz)),"
    " ins AS (INSERT INTO bets ({id_col}event_id, outcome_id, user_id, amount, wallet_account_id,"
    " placed_at, updated_at, status, placements)"
    " SELECT {id_val}nv.e, nv.o, nv.u, nv.a, nv.w, nv.t, nv.t, 'open', 1 FROM nv ORDER BY nv.i"
    " RETURNING id, event_id, user_id),"
    " c AS (SELECT * FROM json_to_recordset(CAST({counts} AS json)) AS c(id bigint, n integer)),"
    " l AS MATERIALIZED (SELECT events.id FROM events WHERE events.id IN (SELECT c.id FROM c)"
    " ORDER BY events.id FOR NO KEY UPDATE),"
    " u AS (UPDATE events SET bet_count = events.bet_count + c.n FROM c, l"
    " WHERE events.id = c.id AND l.id = c.id RETURNING 1),"
    " tv AS (SELECT * FROM json_to_recordset(CAST({topups} AS json))"
    " AS v(id bigint, a bigint, n integer)),"
    " tl AS MATERIALIZED (SELECT b.id FROM bets AS b WHERE b.id IN (SELECT tv.id FROM tv)"
    " AND (SELECT count(*) FROM u) >= 0 ORDER BY b.id FOR NO KEY UPDATE),"
    " tu AS (UPDATE bets SET amount = bets.amount + tv.a, placements = bets.placements + tv.n,"
    " updated_at = {now} FROM tv, tl WHERE bets.id = tv.id AND tl.id = tv.id RETURNING 1),"
    " pv AS (SELECT * FROM json_to_recordset(CAST({pool} AS json))"
    " AS v(id bigint, a bigint, n integer)),"
    " pl AS MATERIALIZED (SELECT o.id FROM event_outcomes AS o WHERE o.id IN (SELECT pv.id"
    " FROM pv) AND (SELECT count(*) FROM tu) >= 0 ORDER BY o.id FOR NO KEY UPDATE),"
    " pu AS (UPDATE event_outcomes SET total = event_outcomes.total + pv.a,"
    " bettors = event_outcomes.bettors + pv.n"
    " FROM pv, pl WHERE event_outcomes.id = pv.id AND pl.id = pv.id RETURNING 1)"
    " SELECT id, event_id, user_id FROM ins ORDER BY id"
)
_SA_NAMES = {k: f":{k}" for k in ("rows", "counts", "topups", "pool", "now")}
_DRIVER_NAMES = {k: f"%({k})s" for k in ("rows", "counts", "topups", "pool", "now")}
_ASSIGNED = {"id_type": "", "id_col": "", "id_val": ""}  # ids from the bets' sequence
_RESERVED = {"id_type": "id bigint, ", "id_col": "id, ", "id_val": "nv.id, "}  # the read's
_PG_WRITE_BATCH = text(_WRITE_BATCH.format(**_SA_NAMES, **_ASSIGNED)).bindparams(
    bindparam("now", type_=UtcDateTime())
)
# The same write with the ids the batch read reserved: nothing to wait for, so it goes with
# the COMMIT (``Session.defer``): the batch's last round trip carries the ledger's write, this
# one and the COMMIT, and the event's escrow account is locked for that one round trip only.
_PG_WRITE_RESERVED = text(_WRITE_BATCH.format(**_SA_NAMES, **_RESERVED)).bindparams(
    bindparam("now", type_=UtcDateTime())
)
_PG_WRITE_RESERVED_DRIVER = _WRITE_BATCH.format(**_DRIVER_NAMES, **_RESERVED)
# 23503: an outcome replaced by an edit that committed while the batch waited for the event's
# lock (its outcomes were read before): a lost race; the batch is decided again and sees them
_OUTCOME_RACE = frozenset({"23503"})

# -- SQLite statements -------------------------------------------------------------------------

_SQLITE_BET_COUNT = (
    update(events)
    .where(events.c.id == bindparam("b_id"))
    .values(bet_count=events.c.bet_count + bindparam("b_n"))
)
_SQLITE_ADD_TO_POOL = (
    update(event_outcomes)
    .where(event_outcomes.c.id == bindparam("b_id"))
    .values(
        total=event_outcomes.c.total + bindparam("b_a"),
        bettors=event_outcomes.c.bettors + bindparam("b_n"),
    )
)
_SQLITE_TOP_UP = (
    update(bets)
    .where(bets.c.id == bindparam("b_id"))
    .values(
        amount=bets.c.amount + bindparam("b_a"),
        placements=bets.c.placements + bindparam("b_n"),
        updated_at=bindparam("b_now", type_=UtcDateTime()),
    )
)
_SQLITE_RECORD_RESULTS = (
    update(bets)
    .where(bets.c.id == bindparam("b_id"))
    .values(
        status=bindparam("b_s"),
        payout=bindparam("b_p"),
        updated_at=bindparam("b_now", type_=UtcDateTime()),
    )
)


class SqlBets:
    """The bet half of the events repository (``SqlEvents`` adds the events)."""

    def __init__(self, session: Session) -> None:
        self._c = session
        self._pg = session.dialect.name == "postgresql"

    async def get_many(self, event_ids: Sequence[int], *, lock: str = "none") -> dict[int, Event]:
        raise NotImplementedError  # SqlEvents reads the events

    async def bets_for(self, pairs: Sequence[tuple[int, int]]) -> dict[tuple[int, int], Bet]:
        keys = sorted(set(pairs))
        if not keys:
            return {}
        if self._pg:
            rows = await self._c.execute(
                _PG_BETS_FOR,
                {"e": int_array(e for e, _ in keys), "u": int_array(u for _, u in keys)},
            )
            found = [_bet(r) for r in rows]
        else:
            found = []
            for part in _chunks(keys):
                q = select(*_BET_COLUMNS).where(tuple_(bets.c.event_id, bets.c.user_id).in_(part))
                found += [_bet(r) for r in await self._c.execute(q)]
        return {(b.event_id, b.user_id): b for b in found}

    async def add_bets(self, new: Sequence[NewBet]) -> list[Bet]:
        if not new:
            return []
        counts = Counter(b.event_id for b in new)
        if self._pg:
            rows = _bet_rows(new)
            params = {
                "rows": dump_json(rows),
                "counts": dump_json([{"id": e, "n": n} for e, n in sorted(counts.items())]),
            }
            try:
                result = await self._c.execute(_PG_ADD_BETS, params)
            except IntegrityError as exc:
                # 23503: an outcome replaced by an edit that committed while this batch waited
                # for the event's lock (its outcomes were read before): retry, and see them
                if getattr(exc.orig, "sqlstate", None) == "23503":
                    raise TransientStoreError() from None
                raise
            ids = {(r.event_id, r.user_id): r.id for r in result}
        else:
            result = await self._c.execute(
                # one multi-row INSERT (written in order under BEGIN IMMEDIATE: the rowids
                # ascend in it); RETURNING's order is not promised, so match rows by key
                insert(bets).returning(bets.c.id, bets.c.event_id, bets.c.user_id),
                [
                    {
                        "event_id": b.event_id,
                        "outcome_id": b.outcome_id,
                        "user_id": b.user_id,
                        "amount": b.amount,
                        "wallet_account_id": b.wallet_account_id,
                        "placed_at": b.placed_at,
                        "updated_at": b.placed_at,
                        "status": BetStatus.OPEN.value,
                        "payout": None,
                        "placements": 1,
                    }
                    for b in new
                ],
            )
            ids = {(r.event_id, r.user_id): r.id for r in result}
            await self._c.execute(
                _SQLITE_BET_COUNT, [{"b_id": e, "b_n": n} for e, n in sorted(counts.items())]
            )
        return [_new_bet(ids[(b.event_id, b.user_id)], b) for b in new]

    async def top_up(self, topups: Sequence[tuple[int, int]], now: datetime) -> None:
        if not topups:
            return
        amounts: dict[int, int] = {}
        placements: Counter[int] = Counter()
        for bet_id, amount in topups:  # one row per bet: UPDATE … FROM applies one match
            amounts[bet_id] = amounts.get(bet_id, 0) + amount
            placements[bet_id] += 1
        order = sorted(amounts)
        if self._pg:
            rows = [{"id": b, "a": amounts[b], "n": placements[b]} for b in order]
            await self._c.execute(_PG_TOP_UP, {"rows": dump_json(rows), "now": now})
        else:
            await self._c.execute(
                _SQLITE_TOP_UP,
                [{"b_id": b, "b_a": amounts[b], "b_n": placements[b], "b_now": now} for b in order],
            )

    async def add_to_pool(self, deltas: Sequence[PoolDelta]) -> None:
        if not deltas:
            return
        sums: dict[int, list[int]] = {}
        for d in deltas:
            acc = sums.setdefault(d.outcome_id, [0, 0])
            acc[0] += d.amount
            acc[1] += d.bettors
        order = sorted(sums)
        if self._pg:
            rows = [{"id": o, "a": sums[o][0], "n": sums[o][1]} for o in order]
            await self._c.execute(_PG_ADD_TO_POOL, {"rows": dump_json(rows)})
        else:
            await self._c.execute(
                _SQLITE_ADD_TO_POOL,
                [{"b_id": o, "b_a": sums[o][0], "b_n": sums[o][1]} for o in order],
            )

    async def read_bet_batch(
        self,
        event_ids: Sequence[int],
        pairs: Sequence[tuple[int, int]],
        transfer_ids: Sequence[str],
        wallets: Sequence[tuple[int, str]] = (),
        users: Sequence[int] = (),
    ) -> BetBatchView:
        kind = AccountKind.USER.value
        if not self._pg:  # one writer at a time (BEGIN IMMEDIATE): any order is consistent
            evs = await self.get_many(event_ids, lock="share")
            found: dict[str, Any] = {}
            for part in _chunks(sorted(set(transfer_ids))):
                q = select(transfers).where(transfers.c.id.in_(part))
                found.update((r.id, _transfer(r)) for r in await self._c.execute(q))
            specs = sorted({(o, evs[e].currency) for e, o in wallets if e in evs})
            ids_of: dict[tuple[str, str], int] = {}
            for part in _chunks(specs):
                a = accounts.c
                q = select(a.owner, a.currency, a.id).where(
                    a.kind == kind, tuple_(a.owner, a.currency).in_(part)
                )
                ids_of.update(((r.owner, r.currency), r.id) for r in await self._c.execute(q))
            people = await SqlUsers(self._c).get_many(users) if users else {}
            return BetBatchView(evs, await self.bets_for(pairs), found, ids_of, people)
        ids, pair_keys = sorted(set(event_ids)), sorted(set(pairs))
        row, *_ = await self._c.driver_rows(
            _PG_READ_BATCH,
            {
                "ids": int_array(ids),
                "e": int_array(e for e, _ in pair_keys),
                "u": int_array(u for _, u in pair_keys),
                "keys": dump_json(sorted(set(transfer_ids))),
                "wallets": dump_json([{"e": e, "o": o} for e, o in sorted(set(wallets))]),
                "kind": kind,
                "uids": int_array(sorted(set(users))),
                "n": len(pair_keys),  # ids for the new bets: at most one a pair
            },
        )
        read = [_json_event(p) for p in row[0] or ()]
        bs = [_json_bet(r) for r in row[1] or ()]
        ts = [_transfer(d) for d in row[2] or ()]
        return BetBatchView(
            {e.id: e for e in read},
            {(b.event_id, b.user_id): b for b in bs},
            {t.id: t for t in ts},
            {(o, c): a for o, c, a in row[3] or ()},
            {u.id: u for u in map(user_from_json, row[4] or ())},
            list(row[5] or ()),
        )

    async def write_bet_batch(
        self,
        new: Sequence[NewBet],
        topups: Sequence[tuple[int, int]],
        deltas: Sequence[PoolDelta],
        now: datetime,
        *,
        ids: Sequence[int] = (),
    ) -> list[Bet]:
        if not self._pg:
            added = await self.add_bets(new)
            await self.top_up(topups, now)
            await self.add_to_pool(deltas)
            return added
        if not (new or topups or deltas):
            return []
        counts = Counter(b.event_id for b in new)
        amounts: Counter[int] = Counter()
        placements: Counter[int] = Counter()
        for bet_id, amount in topups:  # one row per bet: UPDATE … FROM applies one match
            amounts[bet_id] += amount
            placements[bet_id] += 1
        pool: dict[int, list[int]] = {}
        for d in deltas:
            acc = pool.setdefault(d.outcome_id, [0, 0])
            acc[0] += d.amount
            acc[1] += d.bettors
        rows = _bet_rows(new)
        reserved = len(ids) >= len(new)
        if reserved:
            for row, bet_id in zip(rows, ids, strict=False):
                row["id"] = bet_id
        params = {
            "rows": dump_json(rows),
            "counts": dump_json([{"id": e, "n": n} for e, n in sorted(counts.items())]),
            "topups": dump_json(
                [{"id": b, "a": amounts[b], "n": placements[b]} for b in sorted(amounts)]
            ),
            "pool": dump_json([{"id": o, "a": a, "n": n} for o, (a, n) in sorted(pool.items())]),
            "now": now,
        }
        if reserved:  # sent with the COMMIT
            self._c.defer(
                _PG_WRITE_RESERVED, _PG_WRITE_RESERVED_DRIVER, params, transient=_OUTCOME_RACE
            )
            return [_new_bet(bet_id, b) for b, bet_id in zip(new, ids, strict=False)]
        try:
            result = await self._c.execute(_PG_WRITE_BATCH, params)
        except IntegrityError as exc:
            # 23503: an outcome replaced by an edit that committed while this batch waited
            # for the event's lock (its outcomes were read before): retry, and see them
            if getattr(exc.orig, "sqlstate", None) == "23503":
                raise TransientStoreError() from None
            raise
        assigned = {(r.event_id, r.user_id): r.id for r in result}
        return [_new_bet(assigned[(b.event_id, b.user_id)], b) for b in new]

    async def bets_of_event(self, event_id: int) -> list[Bet]:
        q = select(*_BET_COLUMNS).where(bets.c.event_id == event_id).order_by(bets.c.id)
        return [_bet(r) for r in await self._c.execute(q)]

    async def record_results(self, results: Sequence[BetResult], now: datetime) -> None:
        if not results:
            return
        last = {r.bet_id: r for r in results}  # one row per bet
        order = sorted(last)
        if self._pg:
            rows = [{"id": b, "s": last[b].status.value, "p": last[b].payout} for b in order]
            await self._c.execute(_PG_RECORD_RESULTS, {"rows": dump_json(rows), "now": now})
        else:
            await self._c.execute(
                _SQLITE_RECORD_RESULTS,
                [
                    {"b_id": b, "b_s": last[b].status.value, "b_p": last[b].payout, "b_now": now}
                    for b in order
                ],
            )

    async def list_bets(
        self,
        *,
        event_id: int | None = None,
        user_id: int | None = None,
        limit: int = 50,
        before_id: int | None = None,
    ) -> list[Bet]:
        q = select(*_BET_COLUMNS).order_by(bets.c.id.desc()).limit(limit)
        if event_id is not None:
            q = q.where(bets.c.event_id == event_id)
        if user_id is not None:
            q = q.where(bets.c.user_id == user_id)
        if before_id is not None:
            q = q.where(bets.c.id < before_id)
        return [_bet(r) for r in await self._c.execute(q)]
