"""The SQL store: SQLite (embedded default, WAL, one writer at a time through
``BEGIN IMMEDIATE``) and PostgreSQL (psycopg 3, READ COMMITTED, rows locked with
``SELECT … FOR UPDATE`` in account-id order so that two batches can never deadlock).

A ledger batch costs a fixed number of statements whatever its size: read the transfers it
names, lock its accounts, read which holds are resolved, then one multi-row INSERT and one
executemany UPDATE. The rules themselves are ``plan_batch`` from the domain.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from sqlalchemy import any_, bindparam, func, insert, literal, select, text, union_all, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ...domain.audit import AuditEntry, AuditRecord
from ...domain.errors import AlreadyExists, StoreError, TransientStoreError
from ...domain.identity import Role, User, UserStatus
from ...domain.ledger import (
    Account,
    AccountFlags,
    AccountKind,
    CurrencyTotals,
    LedgerView,
    LinkedBatch,
    Transfer,
    TransferKind,
    TransferRequest,
    TransferResult,
    plan_batch,
    referenced_accounts,
    referenced_ids,
)
from ...ports import NewUser, UnitOfWork
from .tables import accounts, audit_log, transfers, users

__all__ = ["SqlUnitOfWork", "translate_error"]

_TRANSIENT_SQLSTATES = {"40001", "40P01", "23505", "55P03"}


def translate_error(exc: DBAPIError) -> StoreError:
    """Map a driver error to the store errors the services understand (no SQL in the text)."""
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if sqlstate in _TRANSIENT_SQLSTATES:
        return TransientStoreError()
    if isinstance(exc, OperationalError) and "locked" in str(orig).lower():
        return TransientStoreError()
    if isinstance(exc, IntegrityError) and "UNIQUE" in str(orig):
        return TransientStoreError()
    return StoreError("the database refused the operation")


def _account(r: Row[Any]) -> Account:
    return Account(
        id=r.id,
        currency=r.currency,
        kind=AccountKind(r.kind),
        owner=r.owner,
        flags=AccountFlags(r.flags),
        debits_posted=r.debits_posted,
        credits_posted=r.credits_posted,
        debits_pending=r.debits_pending,
        credits_pending=r.credits_pending,
    )


def _transfer(r: Row[Any]) -> Transfer:
    return Transfer(
        id=r.id,
        debit_account_id=r.debit_account_id,
        credit_account_id=r.credit_account_id,
        amount=r.amount,
        currency=r.currency,
        code=r.code,
        kind=TransferKind(r.kind),
        timestamp=r.timestamp,
        pending_id=r.pending_id,
        timeout_seconds=r.timeout_seconds,
        expires_at=r.expires_at,
        reference=r.reference,
        memo=r.memo,
        debit_balance_after=r.debit_balance_after,
        debit_available_after=r.debit_available_after,
        credit_balance_after=r.credit_balance_after,
        credit_available_after=r.credit_available_after,
        seq=r.seq,
    )


def _user(r: Row[Any]) -> User:
    return User(
        id=r.id,
        display_name=r.display_name,
        role=Role(r.role),
        status=UserStatus(r.status),
        created_at=r.created_at,
        telegram_id=r.telegram_id,
        username=r.username,
        email=r.email,
        password_hash=r.password_hash,
        whitelisted=r.whitelisted,
        rating_sum=r.rating_sum,
        rating_count=r.rating_count,
    )


class _Repo:
    def __init__(self, conn: AsyncConnection) -> None:
        self._c = conn
        self._pg = conn.dialect.name == "postgresql"

    def _insert(self, table: Any) -> Any:
        return postgresql.insert(table) if self._pg else sqlite.insert(table)

    def _in(self, col: Any, values: Iterable[Any], name: str) -> Any:
        """``col IN values``; on PostgreSQL as ``= ANY(:array)``: one parameter whatever the
        count, so the statement text (and its parse) is the same for every batch."""
        vals = sorted(values)
        if self._pg:
            return col == any_(bindparam(name, vals, type_=postgresql.ARRAY(col.type)))
        return col.in_(vals)


class SqlUsers(_Repo):
    async def add(self, user: NewUser) -> User:
        values = {
            "display_name": user.display_name,
            "role": user.role.value,
            "status": user.status.value,
            "telegram_id": user.telegram_id,
            "username": user.username,
            "email": user.email,
            "password_hash": user.password_hash,
            "whitelisted": user.whitelisted,
            "created_at": user.created_at,
            "rating_sum": 0,
            "rating_count": 0,
        }
        for attr in ("username", "email", "telegram_id"):  # a clear error, not a failed INSERT
            val = values[attr]
            if (
                val is not None
                and (await self._c.execute(select(users.c.id).where(users.c[attr] == val))).first()
            ):
                raise AlreadyExists(f"{attr} is already taken")
        new_id = (
            await self._c.execute(insert(users).values(values).returning(users.c.id))
        ).scalar_one()
        return User(id=new_id, **dataclasses.asdict(user))

    async def get(self, user_id: int) -> User | None:
        r = (await self._c.execute(select(users).where(users.c.id == user_id))).first()
        return _user(r) if r else None

    async def get_by_username(self, username: str) -> User | None:
        r = (await self._c.execute(select(users).where(users.c.username == username))).first()
        return _user(r) if r else None

    async def list(self, *, limit: int = 100, offset: int = 0) -> list[User]:
        rows = await self._c.execute(select(users).order_by(users.c.id).limit(limit).offset(offset))
        return [_user(r) for r in rows]

    async def update(self, user: User) -> None:
        await self._c.execute(
            update(users)
            .where(users.c.id == user.id)
            .values(
                display_name=user.display_name,
                role=user.role.value,
                status=user.status.value,
                telegram_id=user.telegram_id,
                username=user.username,
                email=user.email,
                password_hash=user.password_hash,
                whitelisted=user.whitelisted,
                rating_sum=user.rating_sum,
                rating_count=user.rating_count,
            )
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

# PostgreSQL: a whole batch in one statement each, with one array parameter per column
_PG_INSERT_TRANSFERS = text(
    "INSERT INTO transfers (" + ", ".join(f'"{c}"' for c in _TRANSFER_COLUMNS) + ") "
    "SELECT * FROM unnest("
    + ", ".join(f"CAST(:{c} AS {t}[])" for c, t in _TRANSFER_COLUMNS.items())
    + ") RETURNING id, seq"
)
_PG_UPDATE_ACCOUNTS = text(
    "UPDATE accounts SET debits_posted = v.dp, credits_posted = v.cp, "
    "debits_pending = v.dq, credits_pending = v.cq "
    "FROM unnest(CAST(:ids AS bigint[]), CAST(:dp AS bigint[]), CAST(:cp AS bigint[]), "
    "CAST(:dq AS bigint[]), CAST(:cq AS bigint[])) AS v(id, dp, cp, dq, cq) "
    "WHERE accounts.id = v.id"
)


def _pg_lookup(column: str) -> Any:
    return text(
        "SELECT t.* FROM unnest(CAST(:keys AS text[])) AS k(key) "
        f"CROSS JOIN LATERAL (SELECT * FROM transfers WHERE transfers.{column} = k.key) AS t"
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
        "kind": t.kind.value,
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


class SqlLedger(_Repo):
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

    async def set_flags(self, account_id: int, flags: AccountFlags) -> None:
        await self._c.execute(
            update(accounts).where(accounts.c.id == account_id).values(flags=int(flags))
        )

    async def apply(
        self, items: Sequence[TransferRequest | LinkedBatch], now: datetime
    ) -> list[TransferResult]:
        ids, pending_ids = referenced_ids(items)
        c = self._c
        existing: dict[str, Transfer] = {}
        if ids or pending_ids:
            existing = {t.id: t for t in await self._transfers_by("id", ids | pending_ids)}
        wanted = referenced_accounts(items, existing)
        locked: dict[int, Account] = {}
        if wanted:
            q = (
                select(accounts)
                .where(self._in(accounts.c.id, wanted, "aids"))
                .order_by(accounts.c.id)
            )
            if self._pg:
                q = q.with_for_update(key_share=True)  # FOR NO KEY UPDATE: no clash with FK checks
            locked = {r.id: _account(r) for r in await c.execute(q)}
        resolved: dict[str, TransferKind] = {}
        if pending_ids:
            resolved = {
                t.pending_id: t.kind
                for t in await self._transfers_by("pending_id", pending_ids)
                if t.pending_id
            }
        plan = plan_batch(items, LedgerView(locked, existing, resolved), now)
        seqs = await self._write(plan.transfers, list(plan.accounts.values()))
        out = []
        for r in plan.results:
            if r.transfer is not None and not r.replayed:
                r = TransferResult(r.request_id, _with_seq(r.transfer, seqs[r.request_id]))
            out.append(r)
        return out

    async def _transfers_by(self, column: str, keys: set[str]) -> list[Transfer]:
        """Transfers whose unique ``column`` (id or pending_id) is one of ``keys``. On PostgreSQL
        one index probe per key (a LATERAL join), whatever the planner thinks of the table's
        size: ``= ANY(array)`` was seq-scanned on young tables, costing O(rows x keys)."""
        if self._pg:
            q = _PG_TRANSFERS_BY_ID if column == "id" else _PG_TRANSFERS_BY_PENDING
            rows = await self._c.execute(q, {"keys": sorted(keys)})
        else:
            rows = await self._c.execute(
                select(transfers).where(transfers.c[column].in_(sorted(keys)))
            )
        return [_transfer(r) for r in rows]

    async def _write(self, new: list[Transfer], changed: list[Account]) -> dict[str, int]:
        """Insert the new transfers and store the new totals: two statements per batch."""
        seqs: dict[str, int] = {}
        if new:
            rows = [_transfer_row(t) for t in new]
            if self._pg:
                columns = {k: [row[k] for row in rows] for k in _TRANSFER_COLUMNS}
                result = await self._c.execute(_PG_INSERT_TRANSFERS, columns)
            else:
                result = await self._c.execute(
                    insert(transfers).returning(transfers.c.id, transfers.c.seq), rows
                )
            seqs = {r.id: r.seq for r in result}
        if changed:
            if self._pg:
                await self._c.execute(
                    _PG_UPDATE_ACCOUNTS,
                    {
                        "ids": [a.id for a in changed],
                        "dp": [a.debits_posted for a in changed],
                        "cp": [a.credits_posted for a in changed],
                        "dq": [a.debits_pending for a in changed],
                        "cq": [a.credits_pending for a in changed],
                    },
                )
            else:
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
        return seqs

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


def _with_seq(t: Transfer, seq: int) -> Transfer:
    from dataclasses import replace

    return replace(t, seq=seq)


class SqlAudit(_Repo):
    async def add(self, record: AuditRecord) -> AuditEntry:
        values = {
            "at": record.at,
            "actor_id": record.actor_id,
            "actor_name": record.actor_name[:64],
            "action": record.action,
            "target": record.target,
            "reason": record.reason,
            "details": json.dumps(record.details, sort_keys=True),
        }
        new_id = (
            await self._c.execute(insert(audit_log).values(values).returning(audit_log.c.id))
        ).scalar_one()
        return AuditEntry(
            id=new_id,
            at=record.at,
            actor_id=record.actor_id,
            actor_name=record.actor_name,
            action=record.action,
            target=record.target,
            reason=record.reason,
            details=dict(record.details),
        )

    async def list(
        self,
        *,
        limit: int = 50,
        before_id: int | None = None,
        action: str | None = None,
        target: str | None = None,
    ) -> list[AuditEntry]:
        q = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        if before_id is not None:
            q = q.where(audit_log.c.id < before_id)
        if action is not None:
            q = q.where(audit_log.c.action == action)
        if target is not None:
            q = q.where(audit_log.c.target == target)
        return [
            AuditEntry(
                r.id,
                r.at,
                r.actor_id,
                r.actor_name,
                r.action,
                r.target,
                r.reason,
                json.loads(r.details),
            )
            for r in await self._c.execute(q)
        ]


class SqlUnitOfWork:
    """One database transaction over the repositories; rolls back unless committed."""

    users: SqlUsers
    ledger: SqlLedger
    audit: SqlAudit

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._conn: AsyncConnection | None = None
        self._committed = False

    async def __aenter__(self) -> Self:
        try:
            conn = await self._engine.connect()
            await conn.begin()
        except DBAPIError as exc:
            raise translate_error(exc) from None
        self._conn = conn
        self.users, self.ledger, self.audit = SqlUsers(conn), SqlLedger(conn), SqlAudit(conn)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._conn is not None
        try:
            if not self._committed:
                await self._conn.rollback()
        finally:
            await self._conn.close()
        if isinstance(exc, DBAPIError):
            raise translate_error(exc) from None

    async def commit(self) -> None:
        assert self._conn is not None
        try:
            await self._conn.commit()
        except DBAPIError as exc:
            raise translate_error(exc) from None
        self._committed = True

    async def rollback(self) -> None:
        assert self._conn is not None
        await self._conn.rollback()


if TYPE_CHECKING:  # the SQL store satisfies the port (checked by mypy)
    _check: type[UnitOfWork] = SqlUnitOfWork
