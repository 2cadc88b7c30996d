"""Payments in memory."""

from __future__ import annotations

import dataclasses
from functools import partial

from ...domain.errors import AlreadyExists
from ...domain.payments import Payment
from .state import State, Undo

__all__ = ["MemoryPayments"]


class MemoryPayments:
    """Payments with the SQL table's unique constraints: id, idempotency key and
    (provider, provider_reference). A clash is a bug here (transactions are serialised)."""

    def __init__(self, s: State, undo: Undo) -> None:
        self._s, self._undo = s, undo

    def _index(self, p: Payment) -> None:
        s = self._s
        if p.provider_reference is not None:
            ref = (p.provider, p.provider_reference)
            if s.payment_refs.setdefault(ref, p.id) != p.id:
                raise AlreadyExists(f"provider reference {p.provider_reference!r} is taken")
            self._undo.append(partial(s.payment_refs.pop, ref, None))

    async def add(self, payment: Payment) -> Payment:
        s = self._s
        if payment.id in s.payments or payment.idempotency_key in s.payment_keys:
            raise AlreadyExists(f"payment {payment.id} or its idempotency key exists")
        stored = dataclasses.replace(payment, seq=len(s.payments) + 1)
        s.payments[stored.id] = stored
        s.payment_keys[stored.idempotency_key] = stored.id
        self._undo.append(partial(s.payments.pop, stored.id, None))
        self._undo.append(partial(s.payment_keys.pop, stored.idempotency_key, None))
        self._index(stored)
        return stored

    async def get(self, payment_id: str, *, for_update: bool = False) -> Payment | None:
        return self._s.payments.get(payment_id)  # immutable; the store lock serialises

    async def get_by_key(self, idempotency_key: str) -> Payment | None:
        pid = self._s.payment_keys.get(idempotency_key)
        return self._s.payments[pid] if pid is not None else None

    async def get_by_reference(self, provider: str, reference: str) -> Payment | None:
        pid = self._s.payment_refs.get((provider, reference))
        return self._s.payments[pid] if pid is not None else None

    async def update(self, payment: Payment) -> None:
        s = self._s
        old = s.payments[payment.id]
        new = dataclasses.replace(payment, seq=old.seq, idempotency_key=old.idempotency_key)
        if old.provider_reference is None:
            self._index(new)
        s.payments[new.id] = new
        self._undo.append(partial(s.payments.__setitem__, new.id, old))

    async def list(
        self, *, user_id: int | None = None, limit: int = 50, before_seq: int | None = None
    ) -> list[Payment]:
        out = [
            p
            for p in sorted(self._s.payments.values(), key=lambda p: -p.seq)
            if (user_id is None or p.user_id == user_id)
            and (before_seq is None or p.seq < before_seq)
        ]
        return out[:limit]
