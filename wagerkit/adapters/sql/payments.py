"""The payments repository (``uow.payments``) on the SQL unit of work's connection.

``get(…, for_update=True)`` takes the payment's row lock on PostgreSQL (SQLite already runs one
writer at a time), so two webhooks for one payment are applied one after the other: the second
sees the first's result. The unique constraints (id, idempotency key, provider + reference)
turn any other race into a failed INSERT/UPDATE, which the unit of work reports as
``TransientStoreError``; the service retries and then sees the winner's row.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Protocol

from sqlalchemy import Dialect, insert, select, update
from sqlalchemy.engine import Row

from ...domain.payments import Payment, PaymentKind, PaymentStatus
from .tables import payments

__all__ = ["SqlPayments"]


class _Session(Protocol):
    dialect: Dialect

    async def execute(self, statement: Any, parameters: Any = None) -> Any: ...


def _payment(r: Row[Any]) -> Payment:
    return Payment(
        id=r.id,
        user_id=r.user_id,
        kind=PaymentKind(r.kind),
        provider=r.provider,
        amount=r.amount,
        currency=r.currency,
        status=PaymentStatus(r.status),
        idempotency_key=r.idempotency_key,
        created_at=r.created_at,
        updated_at=r.updated_at,
        provider_reference=r.provider_reference,
        hold_transfer_id=r.hold_transfer_id,
        settle_transfer_id=r.settle_transfer_id,
        failure_reason=r.failure_reason,
        seq=r.seq,
    )


class SqlPayments:
    def __init__(self, session: _Session) -> None:
        self._c = session
        self._pg = session.dialect.name == "postgresql"

    async def add(self, payment: Payment) -> Payment:
        values = {
            "id": payment.id,
            "user_id": payment.user_id,
            "kind": payment.kind.value,
            "provider": payment.provider,
            "amount": payment.amount,
            "currency": payment.currency,
            "status": payment.status.value,
            "idempotency_key": payment.idempotency_key,
            "provider_reference": payment.provider_reference,
            "hold_transfer_id": payment.hold_transfer_id,
            "settle_transfer_id": payment.settle_transfer_id,
            "failure_reason": payment.failure_reason,
            "created_at": payment.created_at,
            "updated_at": payment.updated_at,
        }
        seq = (
            await self._c.execute(insert(payments).values(values).returning(payments.c.seq))
        ).scalar_one()
        return dataclasses.replace(payment, seq=seq)

    async def get(self, payment_id: str, *, for_update: bool = False) -> Payment | None:
        q = select(payments).where(payments.c.id == payment_id)
        if for_update and self._pg:
            q = q.with_for_update()
        r = (await self._c.execute(q)).first()
        return _payment(r) if r else None

    async def get_by_key(self, idempotency_key: str) -> Payment | None:
        q = select(payments).where(payments.c.idempotency_key == idempotency_key)
        r = (await self._c.execute(q)).first()
        return _payment(r) if r else None

    async def get_by_reference(self, provider: str, reference: str) -> Payment | None:
        q = select(payments).where(
            payments.c.provider == provider, payments.c.provider_reference == reference
        )
        r = (await self._c.execute(q)).first()
        return _payment(r) if r else None

    async def update(self, payment: Payment) -> None:
        await self._c.execute(
            update(payments)
            .where(payments.c.id == payment.id)
            .values(
                status=payment.status.value,
                provider_reference=payment.provider_reference,
                settle_transfer_id=payment.settle_transfer_id,
                failure_reason=payment.failure_reason,
                updated_at=payment.updated_at,
            )
        )

    async def list(
        self, *, user_id: int | None = None, limit: int = 50, before_seq: int | None = None
    ) -> list[Payment]:
        q = select(payments).order_by(payments.c.seq.desc()).limit(limit)
        if user_id is not None:
            q = q.where(payments.c.user_id == user_id)
        if before_seq is not None:
            q = q.where(payments.c.seq < before_seq)
        return [_payment(r) for r in await self._c.execute(q)]
