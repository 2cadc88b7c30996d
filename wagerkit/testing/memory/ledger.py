"""The ledger in memory: the same rules (``plan_batch``) as the SQL store."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import partial

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
from .state import State, Undo

__all__ = ["MemoryLedger"]


class MemoryLedger:
    def __init__(self, s: State, undo: Undo) -> None:
        self._s, self._undo = s, undo

    async def open_account(
        self, kind: AccountKind, owner: str, currency: str, flags: AccountFlags
    ) -> Account:
        key = (kind.value, owner, currency)
        aid = self._s.account_index.get(key)
        if aid is None:
            aid = max(self._s.accounts, default=0) + 1
            self._s.accounts[aid] = Account(aid, currency, kind, owner, flags)
            self._s.account_index[key] = aid

            def undo(aid: int = aid) -> None:
                self._s.accounts.pop(aid, None)
                self._s.account_index.pop(key, None)

            self._undo.append(undo)
        return self._s.accounts[aid].copy()

    async def find_account(self, kind: AccountKind, owner: str, currency: str) -> Account | None:
        aid = self._s.account_index.get((kind.value, owner, currency))
        return self._s.accounts[aid].copy() if aid is not None else None

    async def get_account(self, account_id: int) -> Account | None:
        a = self._s.accounts.get(account_id)
        return a.copy() if a else None

    async def accounts_of(self, owner: str) -> list[Account]:
        return [
            a.copy()
            for a in sorted(self._s.accounts.values(), key=lambda a: a.id)
            if a.owner == owner
        ]

    async def accounts_of_many(self, owners: Sequence[str]) -> dict[str, list[Account]]:
        out: dict[str, list[Account]] = {}
        for owner in set(owners):
            found = await self.accounts_of(owner)
            if found:
                out[owner] = found
        return out

    async def set_flags(self, account_id: int, flags: AccountFlags) -> None:
        acc = self._s.accounts[account_id]
        old = acc.flags
        acc.flags = flags
        self._undo.append(lambda: setattr(acc, "flags", old))

    async def apply(
        self, items: Sequence[TransferRequest | LinkedBatch], now: datetime
    ) -> list[TransferResult]:
        s = self._s
        ids, pending_ids = referenced_ids(items)
        existing = {i: s.transfers[i] for i in ids | pending_ids if i in s.transfers}
        resolved = {p: s.resolved[p] for p in pending_ids if p in s.resolved}
        needed = referenced_accounts(items, existing)
        accounts = {k: s.accounts[k].copy() for k in needed if k in s.accounts}
        view = LedgerView(accounts=accounts, existing=existing, resolved=resolved)
        plan = plan_batch(items, view, now)
        for aid, acc in plan.accounts.items():
            old = s.accounts[aid]
            s.accounts[aid] = acc.copy()
            self._undo.append(partial(s.accounts.__setitem__, aid, old))
        for t in plan.transfers:  # fresh objects no one else has seen yet
            object.__setattr__(t, "seq", len(s.journal) + 1)
            s.transfers[t.id] = t
            s.journal.append(t)
            s.by_account[t.debit_account_id].append(t)
            s.by_account[t.credit_account_id].append(t)

            def undo(t: Transfer = t) -> None:
                del s.transfers[t.id]
                s.journal.pop()
                s.by_account[t.debit_account_id].pop()
                s.by_account[t.credit_account_id].pop()

            self._undo.append(undo)
        for pid, kind in plan.resolved.items():
            s.resolved[pid] = kind
            self._undo.append(partial(s.resolved.pop, pid, None))
        return plan.results

    async def get_transfer(self, transfer_id: str) -> Transfer | None:
        return self._s.transfers.get(transfer_id)

    async def statement(
        self, account_id: int, *, limit: int, before_seq: int | None = None
    ) -> list[Transfer]:
        rows = self._s.by_account.get(account_id, [])
        out = [t for t in reversed(rows) if before_seq is None or t.seq < before_seq]
        return out[:limit]

    async def expired_pending(self, now: datetime, limit: int) -> list[Transfer]:
        out = [
            t
            for t in self._s.journal
            if t.kind is TransferKind.PENDING
            and t.expires_at is not None
            and t.expires_at <= now
            and t.id not in self._s.resolved
        ]
        return out[:limit]

    async def totals(self) -> list[CurrencyTotals]:
        sums: dict[str, list[int]] = {}
        for a in self._s.accounts.values():
            t = sums.setdefault(a.currency, [0, 0, 0, 0])
            t[0] += a.debits_posted
            t[1] += a.credits_posted
            t[2] += a.debits_pending
            t[3] += a.credits_pending
        return [CurrencyTotals(c, *v) for c, v in sorted(sums.items())]

    async def journal(self, *, after_seq: int = 0, limit: int = 1000) -> list[Transfer]:
        return self._s.journal[after_seq : after_seq + limit]

    async def get_transfers(self, transfer_ids: Sequence[str]) -> dict[str, Transfer]:
        t = self._s.transfers
        return {i: t[i] for i in transfer_ids if i in t}

    async def open_accounts(
        self, specs: Sequence[tuple[AccountKind, str, str, AccountFlags]]
    ) -> list[Account]:
        return [await self.open_account(*spec) for spec in specs]
