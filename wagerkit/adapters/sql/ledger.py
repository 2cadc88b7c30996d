"""The ledger repository (``uow.ledger``) on the SQL unit of work's connection.

A ledger batch costs a fixed number of statements whatever its size: read the transfers it
names, lock its accounts, read which holds are resolved, then one multi-row INSERT and one
executemany UPDATE. The rules themselves are ``plan_batch`` from the domain. On PostgreSQL the
accounts are locked ``FOR NO KEY UPDATE`` in account-id order, so that two batches can never
deadlock, and the batch's write is deferred to go with COMMIT (``Session.defer``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    bindparam,
    func,
    insert,
    literal,
    select,
    text,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Row

from ...domain.ledger import (
    Account,
    AccountFlags,
    AccountKind,
    BatchPlan,
    CurrencyTotals,
    LedgerView,
    LinkedBatch,
    Transfer,
    TransferKind,
    TransferRequest,
    TransferResult,
    flatten,
    plan_batch,
    referenced_accounts,
    referenced_ids,
)
from .session import Repository, dump_json, int_array, utc
from .tables import accounts, transfers

__all__ = ["SqlLedger"]


_KINDS = {k.value: k for k in AccountKind}
_FLAGS = {int(f): AccountFlags(f) for f in range(8)}  # every combination of the three flags


def _account(r: Row[Any] | Mapping[str, Any]) -> Account:
    """An account from a row or from PostgreSQL's JSON (the same keys)."""
    m = r._mapping if isinstance(r, Row) else r
    return Account(
        id=m["id"],
        currency=m["currency"],
        kind=_KINDS[m["kind"]],
        owner=m["owner"],
        flags=_FLAGS.get(m["flags"]) or AccountFlags(m["flags"]),
        debits_posted=m["debits_posted"],
        credits_posted=m["credits_posted"],
        debits_pending=m["debits_pending"],
        credits_pending=m["credits_pending"],
    )


def _transfer(r: Row[Any] | Mapping[str, Any]) -> Transfer:
    """A transfer from a row or from PostgreSQL's JSON (the same keys)."""
    m = r._mapping if isinstance(r, Row) else r
    timestamp = utc(m["timestamp"])
    assert timestamp is not None
    return Transfer(
        id=m["id"],
        debit_account_id=m["debit_account_id"],
        credit_account_id=m["credit_account_id"],
        amount=m["amount"],
        currency=m["currency"],
        code=m["code"],
        kind=TransferKind(m["kind"]),
        timestamp=timestamp,
        pending_id=m["pending_id"],
        timeout_seconds=m["timeout_seconds"],
        expires_at=utc(m["expires_at"]),
        reference=m["reference"],
        memo=m["memo"],
        debit_balance_after=m["debit_balance_after"],
        debit_available_after=m["debit_available_after"],
        credit_balance_after=m["credit_balance_after"],
        credit_available_after=m["credit_available_after"],
        seq=m["seq"],
    )


_ACCOUNT_UPDATE = (
    update(accounts)
    .where(accounts.c.id == bindparam("b_id"))
    .values(
        debits_posted=bindparam("b_dp"),
        credits_posted=bindparam("b_cp"),
        debits_pending=bindparam("b_dq"),
        credits_pending=bindparam("b_cq"),
    )
)


_TRANSFER_COLUMNS = {
    "id": "text",
    "debit_account_id": "bigint",
    "credit_account_id": "bigint",
    "amount": "bigint",
    "currency": "text",
    "code": "text",
    "kind": "text",
    "pending_id": "text",
    "timeout_seconds": "integer",
    "expires_at": "timestamptz",
    "reference": "text",
    "memo": "text",
    "timestamp": "timestamptz",
    "debit_balance_after": "bigint",
    "debit_available_after": "bigint",
    "credit_balance_after": "bigint",
    "credit_available_after": "bigint",
}

# PostgreSQL: a whole batch in one statement each, the rows passed as ONE json parameter:
# json.dumps runs in C, while psycopg dumps Python lists to arrays in Python (with a regex per
# string for quoting), which cost ~5 ms per 100-transfer batch.
_PG_COLUMNS = ", ".join(f'"{c}"' for c in ("seq", *_TRANSFER_COLUMNS))
_PG_WRITE_SQL = (
    "WITH totals AS ("
    " UPDATE accounts SET debits_posted = v.dp, credits_posted = v.cp,"
    " debits_pending = v.dq, credits_pending = v.cq"
    " FROM json_to_recordset(CAST({totals} AS json))"
    " AS v(id bigint, dp bigint, cp bigint, dq bigint, cq bigint)"
    " WHERE accounts.id = v.id RETURNING 1) "
    f"INSERT INTO transfers ({_PG_COLUMNS}) SELECT {_PG_COLUMNS} "
    "FROM json_populate_recordset(NULL::transfers, CAST({rows} AS json))"
)
_PG_WRITE_BATCH = text(_PG_WRITE_SQL.format(totals=":totals", rows=":rows"))
_PG_WRITE_BATCH_DRIVER = _PG_WRITE_SQL.format(totals="%(totals)s", rows="%(rows)s")


def _pg_write_params(new: Sequence[Transfer], changed: Iterable[Account]) -> dict[str, str]:
    """A batch's write as two json documents: the new transfers and the new totals."""
    totals = [
        {
            "id": a.id,
            "dp": a.debits_posted,
            "cp": a.credits_posted,
            "dq": a.debits_pending,
            "cq": a.credits_pending,
        }
        for a in changed
    ]
    stamps: dict[datetime, str] = {}  # a batch's transfers share one timestamp: format it once
    rows = []
    for t in new:
        row = _transfer_row(t)
        row["seq"] = t.seq
        stamp = stamps.get(t.timestamp)
        if stamp is None:
            stamp = stamps[t.timestamp] = t.timestamp.isoformat()
        row["timestamp"] = stamp
        row["expires_at"] = t.expires_at.isoformat() if t.expires_at else None
        rows.append(row)
    return {"rows": dump_json(rows), "totals": dump_json(totals)}


# Lock the accounts FOR NO KEY UPDATE (no clash with the FK checks' KEY SHARE locks) in id
# order, and read the transfers the batch names and the holds already resolved, as JSON. The
# locked rows are their latest versions (PostgreSQL re-reads a row it waited for); the two
# lookups use the statement's snapshot, so a concurrent insert of the same id or resolution of
# the same hold can be missed here, and then fails the INSERT on a unique index: the unit of
# work is retried (TransientStoreError) and sees it.
_PG_LOCK_AND_READ = text(
    "SELECT"
    " (SELECT json_agg(a ORDER BY a.id) FROM (SELECT * FROM accounts"
    "   WHERE id = ANY(CAST(:ids AS bigint[])) ORDER BY id FOR NO KEY UPDATE) AS a),"
    " (SELECT json_agg(t) FROM json_array_elements_text(CAST(:keys AS json)) AS k(key)"
    "   CROSS JOIN LATERAL (SELECT * FROM transfers WHERE transfers.id = k.key LIMIT 1) AS t),"
    " (SELECT json_agg(json_build_array(t.pending_id, t.kind))"
    "   FROM json_array_elements_text(CAST(:pids AS json)) AS k(key)"
    "   CROSS JOIN LATERAL (SELECT pending_id, kind FROM transfers"
    "   WHERE transfers.pending_id = k.key LIMIT 1) AS t),"
    # journal positions for the transfers this batch may create, so that its write can wait
    # for the commit (gaps are harmless: seq orders, it does not count)
    " (SELECT array_agg(nextval(pg_get_serial_sequence('transfers', 'seq')))"
    "   FROM generate_series(1, CAST(:n AS integer)))"
)


_ACCOUNT_COLUMNS = ", ".join(f"a.{c.name}" for c in accounts.c)
# open_accounts: insert the missing accounts (in key order; the existing ones cost no id and no
# insertion attempt) and return them with the existing ones. The final SELECT reads the
# statement's snapshot, which holds the accounts that existed before it but not the ones its
# INSERT adds: those come from RETURNING.
_PG_OPEN_ACCOUNTS = text(
    "WITH v AS (SELECT * FROM json_to_recordset(CAST(:rows AS json))"
    " AS v(k text, o text, c text, f integer)),"
    " ins AS (INSERT INTO accounts (kind, owner, currency, flags, debits_posted,"
    " credits_posted, debits_pending, credits_pending)"
    " SELECT v.k, v.o, v.c, v.f, 0, 0, 0, 0 FROM v WHERE NOT EXISTS (SELECT 1 FROM accounts AS a"
    " WHERE a.kind = v.k AND a.owner = v.o AND a.currency = v.c) ORDER BY v.k, v.o, v.c"
    " ON CONFLICT (kind, owner, currency) DO NOTHING RETURNING *)"
    f" SELECT {_ACCOUNT_COLUMNS} FROM ins AS a"
    f" UNION ALL SELECT {_ACCOUNT_COLUMNS} FROM v JOIN accounts AS a"
    " ON a.kind = v.k AND a.owner = v.o AND a.currency = v.c"
).columns(*accounts.c)


def _pg_lookup(column: str) -> Any:
    """One unique-index probe per key, whatever the planner thinks of the table's size:
    ``= ANY(array)`` and a plain join were planned as a seq scan of ``transfers`` (O(rows)
    per batch); the ``LIMIT 1`` keeps the LATERAL subquery from being pulled up into a join."""
    return text(
        "SELECT t.* FROM json_array_elements_text(CAST(:keys AS json)) AS k(key) "
        f"CROSS JOIN LATERAL (SELECT * FROM transfers WHERE transfers.{column} = k.key LIMIT 1) AS t"
    ).columns(*transfers.c)


_PG_TRANSFERS_BY_ID = _pg_lookup("id")
_PG_TRANSFERS_BY_PENDING = _pg_lookup("pending_id")


def _transfer_row(t: Transfer) -> dict[str, Any]:
    return {
        "id": t.id,
        "debit_account_id": t.debit_account_id,
        "credit_account_id": t.credit_account_id,
        "amount": t.amount,
        "currency": t.currency,
        "code": t.code,
        "kind": str.__str__(t.kind),  # the plain value (Enum.value is a slow descriptor)
        "pending_id": t.pending_id,
        "timeout_seconds": t.timeout_seconds,
        "expires_at": t.expires_at,
        "reference": t.reference,
        "memo": t.memo,
        "timestamp": t.timestamp,
        "debit_balance_after": t.debit_balance_after,
        "debit_available_after": t.debit_available_after,
        "credit_balance_after": t.credit_balance_after,
        "credit_available_after": t.credit_available_after,
    }


class SqlLedger(Repository):
    async def open_account(
        self, kind: AccountKind, owner: str, currency: str, flags: AccountFlags
    ) -> Account:
        found = await self.find_account(kind, owner, currency)
        if found is not None:
            return found
        await self._c.execute(
            self._insert(accounts)
            .values(
                kind=kind.value,
                owner=owner,
                currency=currency,
                flags=int(flags),
                debits_posted=0,
                credits_posted=0,
                debits_pending=0,
                credits_pending=0,
            )
            .on_conflict_do_nothing(index_elements=["kind", "owner", "currency"])
        )
        found = await self.find_account(kind, owner, currency)
        assert found is not None
        return found

    async def open_accounts(
        self, specs: Sequence[tuple[AccountKind, str, str, AccountFlags]]
    ) -> list[Account]:
        """Many ``open_account`` at once. PostgreSQL: ONE statement inserts the missing ones
        (in key order, so concurrent openers queue rather than deadlock) and returns them with
        the ones that existed; only an account committed by another transaction between this
        statement's snapshot and its insert is looked up again. SQLite: insert, then select."""
        wanted: dict[tuple[str, str, str], int] = {}
        for kind, owner, currency, flags in specs:
            wanted.setdefault((kind.value, owner, currency), int(flags))
        if not wanted:
            return []
        keys = sorted(wanted)
        found: dict[tuple[str, str, str], Account] = {}
        if self._pg:
            rows = [{"k": k, "o": o, "c": c, "f": wanted[(k, o, c)]} for k, o, c in keys]
            for r in await self._c.execute(_PG_OPEN_ACCOUNTS, {"rows": dump_json(rows)}):
                found[(r.kind, r.owner, r.currency)] = _account(r)
        else:
            await self._c.execute(
                sqlite.insert(accounts).on_conflict_do_nothing(
                    index_elements=["kind", "owner", "currency"]
                ),
                [
                    {
                        "kind": k,
                        "owner": o,
                        "currency": c,
                        "flags": wanted[(k, o, c)],
                        "debits_posted": 0,
                        "credits_posted": 0,
                        "debits_pending": 0,
                        "credits_pending": 0,
                    }
                    for k, o, c in keys
                ],
            )
        missing = [k for k in keys if k not in found]
        for start in range(0, len(missing), 500):  # SQLite: all; PostgreSQL: lost races only
            part = missing[start : start + 500]
            q = select(accounts).where(
                tuple_(accounts.c.kind, accounts.c.owner, accounts.c.currency).in_(part)
            )
            for r in await self._c.execute(q):
                found[(r.kind, r.owner, r.currency)] = _account(r)
        return [found[(kind.value, owner, currency)] for kind, owner, currency, _ in specs]

    async def find_account(self, kind: AccountKind, owner: str, currency: str) -> Account | None:
        r = (
            await self._c.execute(
                select(accounts).where(
                    accounts.c.kind == kind.value,
                    accounts.c.owner == owner,
                    accounts.c.currency == currency,
                )
            )
        ).first()
        return _account(r) if r else None

    async def get_account(self, account_id: int) -> Account | None:
        r = (await self._c.execute(select(accounts).where(accounts.c.id == account_id))).first()
        return _account(r) if r else None

    async def accounts_of(self, owner: str) -> list[Account]:
        rows = await self._c.execute(
            select(accounts).where(accounts.c.owner == owner).order_by(accounts.c.id)
        )
        return [_account(r) for r in rows]

    async def accounts_of_many(self, owners: Sequence[str]) -> dict[str, list[Account]]:
        out: dict[str, list[Account]] = {}
        wanted = sorted(set(owners))
        if wanted:
            rows = await self._c.execute(
                select(accounts).where(accounts.c.owner.in_(wanted)).order_by(accounts.c.id)
            )
            for r in rows:
                out.setdefault(r.owner, []).append(_account(r))
        return out

    async def set_flags(self, account_id: int, flags: AccountFlags) -> None:
        await self._c.execute(
            update(accounts).where(accounts.c.id == account_id).values(flags=int(flags))
        )

    async def apply(
        self, items: Sequence[TransferRequest | LinkedBatch], now: datetime
    ) -> list[TransferResult]:
        if self._pg:  # the write waits for the commit (or for the next statement)
            plan = await self._plan_pg(items, now)
            if plan.transfers:
                self._s.defer(
                    _PG_WRITE_BATCH,
                    _PG_WRITE_BATCH_DRIVER,
                    _pg_write_params(plan.transfers, plan.accounts.values()),
                )
            return plan.results
        plan = await self._plan_sqlite(items, now)
        seqs = (
            await self._write(plan.transfers, list(plan.accounts.values()))
            if plan.transfers
            else {}
        )
        for t in plan.transfers:  # fresh objects no one else has seen yet
            object.__setattr__(t, "seq", seqs[t.id])
        return plan.results

    async def _plan_sqlite(
        self, items: Sequence[TransferRequest | LinkedBatch], now: datetime
    ) -> BatchPlan:
        """SQLite: ``BEGIN IMMEDIATE`` already holds the database's write lock; just read."""
        ids, pending_ids = referenced_ids(items)
        existing = (
            {t.id: t for t in await self._transfers_by("id", ids | pending_ids)} if ids else {}
        )
        wanted = sorted(referenced_accounts(items, existing))
        locked: dict[int, Account] = {}
        if wanted:
            rows = await self._c.execute(select(accounts).where(accounts.c.id.in_(wanted)))
            locked = {r.id: _account(r) for r in rows}
        resolved: dict[str, TransferKind] = {}
        if pending_ids:
            found = await self._transfers_by("pending_id", pending_ids)
            resolved = {t.pending_id: t.kind for t in found if t.pending_id}
        return plan_batch(items, LedgerView(locked, existing, resolved), now)

    async def _plan_pg(
        self, items: Sequence[TransferRequest | LinkedBatch], now: datetime
    ) -> BatchPlan:
        """PostgreSQL: lock the accounts (id order: batches may wait, never deadlock) and read
        the transfers the batch names in ONE round trip. Only a batch that posts or voids holds
        needs a lookup first, to learn which accounts the holds touch."""
        ids, pending_ids = referenced_ids(items)
        known: dict[str, Transfer] = {}
        if pending_ids:
            known = {t.id: t for t in await self._transfers_by("id", pending_ids)}
        wanted = referenced_accounts(items, known)
        row = (
            await self._c.execute(
                _PG_LOCK_AND_READ,
                {
                    "ids": int_array(sorted(wanted)),
                    "keys": dump_json(sorted(ids | pending_ids)),
                    "pids": dump_json(sorted(pending_ids)),
                    "n": sum(1 for _ in flatten(items)),
                },
            )
        ).one()
        locked = {d["id"]: _account(d) for d in row[0] or ()}
        existing = {d["id"]: _transfer(d) for d in row[1] or ()}
        resolved = {pid: TransferKind(kind) for pid, kind in row[2] or ()}
        plan = plan_batch(items, LedgerView(locked, existing, resolved), now)
        for t, seq in zip(plan.transfers, row[3] or (), strict=False):
            object.__setattr__(t, "seq", seq)  # fresh objects no one else has seen yet
        return plan

    async def _transfers_by(self, column: str, keys: set[str]) -> list[Transfer]:
        """Transfers whose unique ``column`` (id or pending_id) is one of ``keys``. On PostgreSQL
        one index probe per key (a LATERAL join), whatever the planner thinks of the table's
        size: ``= ANY(array)`` was seq-scanned on young tables, costing O(rows x keys)."""
        if self._pg:
            q = _PG_TRANSFERS_BY_ID if column == "id" else _PG_TRANSFERS_BY_PENDING
            rows = await self._c.execute(q, {"keys": dump_json(sorted(keys))})
        else:
            rows = await self._c.execute(
                select(transfers).where(transfers.c[column].in_(sorted(keys)))
            )
        return [_transfer(r) for r in rows]

    async def _write(self, new: list[Transfer], changed: list[Account]) -> dict[str, int]:
        """SQLite: a multi-row INSERT and an executemany UPDATE; returns each transfer's seq."""
        result = await self._c.execute(
            insert(transfers).returning(transfers.c.id, transfers.c.seq),
            [_transfer_row(t) for t in new],
        )
        await self._c.execute(
            _ACCOUNT_UPDATE,
            [
                {
                    "b_id": a.id,
                    "b_dp": a.debits_posted,
                    "b_cp": a.credits_posted,
                    "b_dq": a.debits_pending,
                    "b_cq": a.credits_pending,
                }
                for a in changed
            ],
        )
        return {r.id: r.seq for r in result}

    async def get_transfers(self, transfer_ids: Sequence[str]) -> dict[str, Transfer]:
        if not transfer_ids:
            return {}
        return {t.id: t for t in await self._transfers_by("id", set(transfer_ids))}

    async def get_transfer(self, transfer_id: str) -> Transfer | None:
        r = (await self._c.execute(select(transfers).where(transfers.c.id == transfer_id))).first()
        return _transfer(r) if r else None

    async def statement(
        self, account_id: int, *, limit: int, before_seq: int | None = None
    ) -> list[Transfer]:
        parts = []
        for col in (transfers.c.debit_account_id, transfers.c.credit_account_id):
            q = select(transfers.c.seq).where(col == account_id)
            if before_seq is not None:
                q = q.where(transfers.c.seq < before_seq)
            parts.append(q.order_by(transfers.c.seq.desc()).limit(limit).subquery().select())
        seqs = union_all(*parts).subquery()
        rows = await self._c.execute(
            select(transfers)
            .where(transfers.c.seq.in_(select(seqs.c.seq)))
            .order_by(transfers.c.seq.desc())
            .limit(limit)
        )
        return [_transfer(r) for r in rows]

    async def expired_pending(self, now: datetime, limit: int) -> list[Transfer]:
        resolutions = transfers.alias("resolutions")
        q = (
            select(transfers)
            .where(
                transfers.c.expires_at.isnot(None),
                transfers.c.expires_at <= now,
                transfers.c.kind == TransferKind.PENDING.value,
                ~select(literal(1)).where(resolutions.c.pending_id == transfers.c.id).exists(),
            )
            .order_by(transfers.c.expires_at)
            .limit(limit)
        )
        return [_transfer(r) for r in await self._c.execute(q)]

    async def totals(self) -> list[CurrencyTotals]:
        rows = await self._c.execute(
            select(
                accounts.c.currency,
                func.coalesce(func.sum(accounts.c.debits_posted), 0),
                func.coalesce(func.sum(accounts.c.credits_posted), 0),
                func.coalesce(func.sum(accounts.c.debits_pending), 0),
                func.coalesce(func.sum(accounts.c.credits_pending), 0),
            )
            .group_by(accounts.c.currency)
            .order_by(accounts.c.currency)
        )
        return [CurrencyTotals(r[0], int(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in rows]

    async def journal(self, *, after_seq: int = 0, limit: int = 1000) -> list[Transfer]:
        rows = await self._c.execute(
            select(transfers)
            .where(transfers.c.seq > after_seq)
            .order_by(transfers.c.seq)
            .limit(limit)
        )
        return [_transfer(r) for r in rows]
