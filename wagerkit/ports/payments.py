"""Payments: deposits and withdrawals (docs/payments.md)."""

from typing import Protocol

from ..domain.payments import Payment, ProviderResult, WebhookEvent

# -- Payments: deposits and withdrawals (docs/payments.md) -----------------------------------


class PaymentRepository(Protocol):
    async def add(self, payment: Payment) -> Payment:
        """Insert a new payment; returns it with its ``seq``. A taken id, idempotency key or
        (provider, provider_reference) makes the store raise ``TransientStoreError`` (a lost
        race: the retried unit of work finds the row)."""
        ...

    async def get(self, payment_id: str, *, for_update: bool = False) -> Payment | None:
        """``for_update`` locks the row until the unit of work ends (PostgreSQL)."""
        ...

    async def get_by_key(self, idempotency_key: str) -> Payment | None: ...

    async def get_by_reference(self, provider: str, reference: str) -> Payment | None: ...

    async def update(self, payment: Payment) -> None:
        """Write status, reference, transfer ids, reason and ``updated_at``."""
        ...

    async def list(
        self, *, user_id: int | None = None, limit: int = 50, before_seq: int | None = None
    ) -> list[Payment]:
        """Newest first."""
        ...


class PaymentProvider(Protocol):
    """A payment provider. ``start_*`` must be idempotent by ``payment.id`` (a replayed
    command calls it again for a payment still pending)."""

    @property
    def name(self) -> str: ...

    async def start_deposit(self, payment: Payment) -> ProviderResult: ...

    async def start_withdrawal(self, payment: Payment) -> ProviderResult: ...

    def parse_webhook(self, raw_body: bytes, signature: str) -> WebhookEvent:
        """Verify the signature over the raw body and read it; raise
        ``WebhookSignatureInvalid``, ``WebhookMalformed``, or ``PaymentProviderUnavailable``
        for a provider that sends no webhooks."""
        ...
