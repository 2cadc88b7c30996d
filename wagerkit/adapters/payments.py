"""Payment providers (the ``PaymentProvider`` port; docs/payments.md).

* ``DevPaymentProvider`` (``dev``): succeeds at once, for development and demos. It moves
  play money only and must never be reachable in production: ``payment_providers`` adds it
  only when ``dev_payments`` is on (``WAGERKIT_DEV_PAYMENTS=true``).
* ``SignedWebhookProvider``: a provider that confirms later by calling our webhook with a raw
  JSON body and a signature header, the hex HMAC-SHA256 of the raw body under a shared secret
  (``WAGERKIT_WEBHOOK_SECRETS='{"acme": "…"}'``). Starting a payment only records it: the
  client completes it with the provider, quoting the payment id.

Neither prints nor returns its secret (``repr`` hides it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

from ..domain.errors import PaymentProviderUnavailable
from ..domain.payments import (
    Payment,
    PaymentStatus,
    ProviderResult,
    WebhookEvent,
    parse_webhook_event,
    validate_provider_name,
    verify_webhook_signature,
)

if TYPE_CHECKING:
    from ..ports import PaymentProvider

__all__ = ["DevPaymentProvider", "SignedWebhookProvider", "payment_providers"]


class _Secret(Protocol):  # pydantic's SecretStr, without importing pydantic
    def get_secret_value(self) -> str: ...


class DevPaymentProvider:
    """Instant success, no real money: development and demos only."""

    name = "dev"

    async def start_deposit(self, payment: Payment) -> ProviderResult:
        return ProviderResult(PaymentStatus.SUCCEEDED, reference=f"dev:{payment.id}")

    async def start_withdrawal(self, payment: Payment) -> ProviderResult:
        return ProviderResult(PaymentStatus.SUCCEEDED, reference=f"dev:{payment.id}")

    def parse_webhook(self, raw_body: bytes, signature: str) -> WebhookEvent:
        raise PaymentProviderUnavailable("the dev payment provider sends no webhooks")


class SignedWebhookProvider:
    """Confirms by signed webhook; ``start_*`` leave the payment pending."""

    def __init__(self, name: str, secret: str | bytes | _Secret) -> None:
        self._name = validate_provider_name(name)
        if not isinstance(secret, str | bytes):
            secret = secret.get_secret_value()
        self._secret = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
        if not self._secret:
            raise ValueError("a webhook provider needs a non-empty secret")

    @property
    def name(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return f"SignedWebhookProvider({self._name!r}, secret=***)"

    async def start_deposit(self, payment: Payment) -> ProviderResult:
        return ProviderResult(PaymentStatus.PENDING)

    async def start_withdrawal(self, payment: Payment) -> ProviderResult:
        return ProviderResult(PaymentStatus.PENDING)

    def parse_webhook(self, raw_body: bytes, signature: str) -> WebhookEvent:
        verify_webhook_signature(self._secret, raw_body, signature)  # before reading anything
        return parse_webhook_event(raw_body)


def payment_providers(
    *,
    dev_payments: bool = False,
    webhook_secrets: Mapping[str, str | bytes | _Secret] | None = None,
) -> dict[str, PaymentProvider]:
    """The providers a composition root wires into ``WagerKit(payment_providers=…)``, from the
    settings ``dev_payments`` and ``webhook_secrets``: ``dev`` only when enabled."""
    out: dict[str, PaymentProvider] = {}
    if dev_payments:
        out["dev"] = DevPaymentProvider()
    for name, secret in (webhook_secrets or {}).items():
        if name == "dev":
            raise ValueError("'dev' is reserved for the development provider")
        out[name] = SignedWebhookProvider(name, secret)
    return out
