"""Payments: deposits and withdrawals through payment providers, as pure rules.

A ``Payment`` records one deposit or withdrawal of one user through one provider. Its money
moves only as ledger transfers between the user's wallet and the provider's ``external``
account (owner ``provider:<name>``, which may go negative):

* **deposit** — nothing moves until the provider confirms; on success one transfer
  ``external → wallet`` whose id is derived from the payment id (``payment:<id>:credit``), so
  it happens at most once whoever confirms it and however often.
* **withdrawal** — at request time a *pending* transfer ``wallet → external``
  (``payment:<id>:hold``) holds the funds; the provider's success *posts* it
  (``payment:<id>:post``), its failure *voids* it (``payment:<id>:void``) and the funds are
  released.

State machine: ``pending → succeeded | failed``, each change at most once. A payment that has
reached a final state never changes again; asking for the same final state again is a no-op
(idempotent), asking for the other one is ``PaymentAlreadyFinal``.

Signed webhooks: a provider that confirms asynchronously calls back with a raw body and a
signature header, the lower-case hex HMAC-SHA256 of the **raw bytes** of the body under a
shared secret. ``verify_webhook_signature`` checks it in constant time (never over a
re-serialised document); ``parse_webhook_event`` then reads the JSON object
``{"reference", "payment_id", "status", "amount", "currency"}``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from .errors import (
    InvalidInput,
    PaymentAlreadyFinal,
    WebhookMalformed,
    WebhookSignatureInvalid,
)
from .money import MAX_AMOUNT
from .refs import payment_transfer_id, user_ref
from .text import strip_forbidden

__all__ = [
    "Payment",
    "PaymentKind",
    "PaymentStatus",
    "ProviderResult",
    "WebhookEvent",
    "finalise",
    "parse_webhook_event",
    "sign_webhook",
    "transfer_ids",
    "validate_provider_name",
    "verify_webhook_signature",
]

_STEPS = ("credit", "hold", "post", "void")
_PROVIDER = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_REFERENCE = re.compile(r"^[\x21-\x7e]{1,128}$")  # printable ASCII, no spaces
MAX_WEBHOOK_BYTES = 64 * 1024


class PaymentKind(StrEnum):
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"


class PaymentStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @property
    def final(self) -> bool:
        return self is not PaymentStatus.PENDING


@dataclass(frozen=True, slots=True)
class Payment:
    """One deposit or withdrawal. ``idempotency_key`` is the namespaced caller key
    (``deposit:user:<id>:<key>``); ``provider_reference`` is the provider's id for it, unique
    per provider, bound by the first webhook (or the provider's immediate answer)."""

    id: str
    user_id: int
    kind: PaymentKind
    provider: str
    amount: int
    currency: str
    status: PaymentStatus
    idempotency_key: str
    created_at: datetime
    updated_at: datetime
    provider_reference: str | None = None
    hold_transfer_id: str | None = None  # withdrawals: the pending transfer holding the funds
    settle_transfer_id: str | None = None  # the credit (deposit) or the post / void (withdrawal)
    failure_reason: str = ""
    seq: int = 0  # creation order, assigned by the store; pages of ``list`` use it

    @property
    def owner_ref(self) -> str:
        return user_ref(self.user_id)

    def same_request(
        self, kind: PaymentKind, user_id: int, provider: str, amount: int, currency: str
    ) -> bool:
        """Whether a replayed command (same idempotency key) asks for the same thing."""
        mine = (self.kind, self.user_id, self.provider, self.amount, self.currency)
        return mine == (kind, user_id, provider, amount, currency)


@dataclass(frozen=True, slots=True)
class ProviderResult:
    """A provider's immediate answer to ``start_deposit`` / ``start_withdrawal``: ``PENDING``
    (it will confirm later, by webhook) or already ``SUCCEEDED`` / ``FAILED``."""

    status: PaymentStatus
    reference: str | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """A verified webhook's content."""

    reference: str
    payment_id: str
    status: PaymentStatus  # SUCCEEDED or FAILED
    amount: int
    currency: str


def transfer_ids(payment_id: str) -> dict[str, str]:
    """The ledger transfer ids of a payment: derived from its id, so each happens once."""
    return {step: payment_transfer_id(payment_id, step) for step in _STEPS}


def validate_provider_name(name: str) -> str:
    if not isinstance(name, str) or not _PROVIDER.match(name):
        raise InvalidInput("a provider name is 1-32 characters of a-z 0-9 _ - (lower case)")
    return name


def finalise(
    payment: Payment,
    status: PaymentStatus,
    now: datetime,
    *,
    reference: str | None = None,
    settle_transfer_id: str | None = None,
    reason: str = "",
) -> Payment:
    """The payment moved to a final state, or raise ``PaymentAlreadyFinal``. Callers check
    for the same final state first (a no-op replay) before calling this."""
    if not status.final:
        raise InvalidInput("a payment can only move to succeeded or failed")
    if payment.status.final:
        raise PaymentAlreadyFinal(
            f"payment {payment.id} is already {payment.status.value}, not {status.value}"
        )
    return dataclasses.replace(
        payment,
        status=status,
        updated_at=now,
        provider_reference=payment.provider_reference or reference,
        settle_transfer_id=settle_transfer_id,
        # a provider's text too: shown to the user, so under the text rule (cleaned, capped)
        failure_reason=(
            strip_forbidden(reason).strip()[:500] if status is PaymentStatus.FAILED else ""
        ),
    )


# -- signed webhooks -----------------------------------------------------------------------


def sign_webhook(secret: bytes, raw_body: bytes) -> str:
    """The signature a provider sends: hex HMAC-SHA256(secret, raw body)."""
    return hmac.new(secret, raw_body, hashlib.sha256).hexdigest()


def verify_webhook_signature(secret: bytes, raw_body: bytes, signature: str) -> None:
    """Raise ``WebhookSignatureInvalid`` unless ``signature`` (hex, optionally prefixed
    ``sha256=``) is the HMAC-SHA256 of exactly these bytes. Constant-time comparison."""
    if not secret:
        raise WebhookSignatureInvalid("no webhook secret is configured for this provider")
    if not isinstance(raw_body, bytes | bytearray) or not isinstance(signature, str):
        raise WebhookSignatureInvalid("the webhook signature does not verify")
    if len(raw_body) > MAX_WEBHOOK_BYTES:  # refuse before hashing: the endpoint is public
        raise WebhookMalformed("webhook body is too large")
    given = signature.strip()
    if given[:7].lower() == "sha256=":
        given = given[7:]
    try:
        given_bytes = given.lower().encode("ascii")
    except UnicodeEncodeError:
        given_bytes = b""
    expected = sign_webhook(secret, bytes(raw_body)).encode("ascii")
    if not hmac.compare_digest(expected, given_bytes):
        raise WebhookSignatureInvalid("the webhook signature does not verify")


def parse_webhook_event(raw_body: bytes) -> WebhookEvent:
    """Read a (verified) webhook body; raise ``WebhookMalformed`` on anything unexpected."""
    if len(raw_body) > MAX_WEBHOOK_BYTES:
        raise WebhookMalformed("webhook body is too large")
    try:
        doc: Any = json.loads(bytes(raw_body).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise WebhookMalformed("webhook body is not UTF-8 JSON") from exc
    if not isinstance(doc, dict):
        raise WebhookMalformed("webhook body must be a JSON object")
    missing = {"reference", "payment_id", "status", "amount", "currency"} - doc.keys()
    if missing:
        raise WebhookMalformed(f"webhook body lacks {', '.join(sorted(missing))}")
    reference, payment_id, status = doc["reference"], doc["payment_id"], doc["status"]
    amount, currency = doc["amount"], doc["currency"]
    if not isinstance(reference, str) or not _REFERENCE.match(reference):
        raise WebhookMalformed("reference must be 1-128 printable ASCII characters")
    if not isinstance(payment_id, str) or not _REFERENCE.match(payment_id):
        raise WebhookMalformed("payment_id must be 1-128 printable ASCII characters")
    if status not in ("succeeded", "failed"):
        raise WebhookMalformed("status must be 'succeeded' or 'failed'")
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= MAX_AMOUNT:
        raise WebhookMalformed("amount must be a positive integer of minor units")
    if not isinstance(currency, str) or not 1 <= len(currency) <= 10:
        raise WebhookMalformed("currency must be a currency code")
    return WebhookEvent(reference, payment_id, PaymentStatus(status), amount, currency.upper())
