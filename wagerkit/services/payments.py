"""Deposits and withdrawals through payment providers (docs/payments.md).

Every movement is a ledger transfer between the user's wallet and the provider's ``external``
account (owner ``provider:<name>``, may go negative), with ids derived from the payment id so
that each happens at most once:

* ``deposit`` records a pending payment and asks the provider; nothing moves until it
  succeeds (at once for ``dev``, later by webhook or operator ``confirm``): then one transfer
  ``external → wallet``.
* ``withdraw`` records the payment and, in the same commit, holds the amount (a pending
  transfer ``wallet → external``; refused with ``InsufficientFunds``). Success posts the hold,
  failure voids it and the funds are available again.

Provider calls happen outside any database transaction (a store retry never calls a provider
twice); a replayed command (same idempotency key) whose payment is still pending asks the
provider again, so providers must be idempotent by payment id.

Webhooks are verified by the provider adapter over the raw body, then applied under a row lock
on the payment: replay-safe by ``(provider, provider_reference)`` — the same webhook again
returns the payment and moves nothing, the same reference with other content is an
``IdempotencyConflict``; an amount or currency that differs from the payment is refused
(``PaymentMismatch``) and audited, as is a webhook that contradicts a final payment.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..domain.audit import AuditRecord
from ..domain.errors import (
    IdempotencyConflict,
    InvalidAmount,
    PaymentAlreadyFinal,
    PaymentMismatch,
    PaymentNotFound,
    PaymentProviderUnavailable,
    UserNotFound,
    WagerkitError,
)
from ..domain.identity import Actor
from ..domain.ledger import Account, AccountFlags, AccountKind, TransferKind, TransferRequest
from ..domain.money import MAX_AMOUNT
from ..domain.notifications import PaymentChanged, WalletChanged
from ..domain.payments import (
    Payment,
    PaymentKind,
    PaymentStatus,
    WebhookEvent,
    finalise,
    transfer_ids,
)
from ..domain.refs import keyed_id, user_ref
from ..domain.text import clean_reason
from ..ports import PaymentProvider, UnitOfWork
from .accounts import user_wallet
from .base import Deps, check_page_limit

__all__ = ["PaymentPage", "PaymentService", "provider_account"]


async def provider_account(uow: UnitOfWork, provider: str, currency: str) -> Account:
    """The provider's ``external`` account in a currency (may go negative)."""
    return await uow.ledger.open_account(
        AccountKind.EXTERNAL, f"provider:{provider}", currency, AccountFlags.NONE
    )


@dataclass(frozen=True, slots=True)
class PaymentPage:
    payments: list[Payment]
    next_before: int | None  # pass as ``before`` for the next (older) page


@dataclass(frozen=True, slots=True)
class _Step:
    """What a unit of work did: the payment after it, whether money moved, and a refusal to
    raise only after the commit (so that its audit record is kept)."""

    payment: Payment
    moved: bool = False
    changed: bool = False
    refusal: WagerkitError | None = None


class PaymentService:
    def __init__(self, deps: Deps) -> None:
        self._d = deps

    # -- helpers -------------------------------------------------------------------------
    def _currency(self, code: str | None) -> str:
        return self._d.currencies[code].code if code else self._d.currencies.default.code

    def _provider(self, name: str) -> PaymentProvider:
        provider = self._d.payment_providers.get(name) if isinstance(name, str) else None
        if provider is None:
            if name == "dev":
                raise PaymentProviderUnavailable(
                    "the dev payment provider is disabled (set WAGERKIT_DEV_PAYMENTS=true to "
                    "enable it, never in production)"
                )
            raise PaymentProviderUnavailable(f"no payment provider {str(name)[:40]!r}")
        return provider

    def _key(self, op: str, scope: str, key: str | None) -> str:
        if key is None:
            return self._d.ids.new_id(op)
        return keyed_id(op, scope, key)

    @staticmethod
    def _amount(amount: int) -> int:
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise InvalidAmount("amount must be an integer number of minor units")
        if not 0 < amount <= MAX_AMOUNT:
            raise InvalidAmount("amount must be a positive integer")
        return amount

    async def _notify(self, step: _Step) -> None:
        p = step.payment
        if step.moved:
            await self._d.publisher.publish(WalletChanged((p.user_id,)))
        if step.changed:
            await self._d.publisher.publish(PaymentChanged(p.id, p.user_id, p.kind, p.status))

    def _audit(
        self, actor: Actor | None, action: str, p: Payment, reason: str, **details: str
    ) -> AuditRecord:
        return AuditRecord(
            self._d.clock.now(),
            actor.user_id if actor else None,
            actor.name if actor else f"provider:{p.provider}",
            action,
            f"payment:{p.id}",
            reason[:500],
            {
                "user": str(p.user_id),
                "kind": p.kind.value,
                "amount": str(p.amount),
                "currency": p.currency,
                "provider": p.provider,
                **details,
            },
        )

    # -- starting a payment --------------------------------------------------------------
    async def deposit(
        self,
        actor: Actor,
        user_id: int,
        amount: int,
        currency: str | None,
        provider: str,
        *,
        idempotency_key: str | None = None,
    ) -> Payment:
        """Start a deposit into the user's wallet through ``provider``. Returns the payment:
        ``succeeded`` when the provider confirms at once (``dev``), else ``pending`` until a
        webhook or an operator confirms it. Replaying the same key returns the same payment."""
        return await self._start(
            actor, PaymentKind.DEPOSIT, user_id, amount, currency, provider, idempotency_key
        )

    async def withdraw(
        self,
        actor: Actor,
        user_id: int,
        amount: int,
        currency: str | None,
        provider: str,
        *,
        idempotency_key: str | None = None,
    ) -> Payment:
        """Start a withdrawal: the amount is held in the wallet at once (``InsufficientFunds``
        if it is not available) and paid out when the provider confirms; released if it
        fails. Replaying the same key returns the same payment and holds nothing more."""
        return await self._start(
            actor, PaymentKind.WITHDRAWAL, user_id, amount, currency, provider, idempotency_key
        )

    async def _start(
        self,
        actor: Actor,
        kind: PaymentKind,
        user_id: int,
        amount: int,
        currency: str | None,
        provider_name: str,
        key: str | None,
    ) -> Payment:
        actor.require_self_or_staff(user_id)
        amount = self._amount(amount)
        code = self._currency(currency)
        provider = self._provider(provider_name)
        idem = self._key(kind.value, user_ref(user_id), key)

        async def create(uow: UnitOfWork) -> _Step:
            existing = await uow.payments.get_by_key(idem)
            if existing is not None:
                if not existing.same_request(kind, user_id, provider.name, amount, code):
                    raise IdempotencyConflict(
                        f"idempotency key already used for another {kind.value}"
                    )
                return _Step(existing)
            if await uow.users.get(user_id) is None:
                raise UserNotFound(f"no user {user_id}")
            now = self._d.clock.now()
            pid = self._d.ids.new_id("pay")
            payment = Payment(
                pid,
                user_id,
                kind,
                provider.name,
                amount,
                code,
                PaymentStatus.PENDING,
                idem,
                now,
                now,
            )
            moved = False
            if kind is PaymentKind.WITHDRAWAL:
                wallet = await user_wallet(uow, user_id, code)
                external = await provider_account(uow, provider.name, code)
                hold = transfer_ids(pid)["hold"]
                (res,) = await uow.ledger.apply(
                    [
                        TransferRequest(
                            hold,
                            wallet.id,
                            external.id,
                            amount,
                            "withdrawal",
                            TransferKind.PENDING,
                            reference=f"payment:{pid}",
                            memo=f"withdrawal via {provider.name}",
                        )
                    ],
                    now,
                )
                res.unwrap()
                payment = dataclasses.replace(payment, hold_transfer_id=hold)
                moved = True
            return _Step(await uow.payments.add(payment), moved=moved, changed=True)

        step = await self._d.transaction(create)
        await self._notify(step)
        payment = step.payment
        if payment.status is not PaymentStatus.PENDING:
            return payment
        if kind is PaymentKind.DEPOSIT:
            result = await provider.start_deposit(payment)
        else:
            result = await provider.start_withdrawal(payment)
        if result.status.final:
            return await self._resolve(
                None, payment.id, result.status, reference=result.reference, reason=result.reason
            )
        if result.reference and payment.provider_reference is None:
            return await self._bind_reference(payment.id, result.reference)
        return payment

    async def _bind_reference(self, payment_id: str, reference: str) -> Payment:
        async def work(uow: UnitOfWork) -> Payment:
            p = await uow.payments.get(payment_id, for_update=True)
            assert p is not None
            if p.provider_reference is not None:
                return p
            other = await uow.payments.get_by_reference(p.provider, reference)
            if other is not None and other.id != p.id:
                raise IdempotencyConflict(f"provider reference {reference!r} is already used")
            p = dataclasses.replace(p, provider_reference=reference, updated_at=self._d.clock.now())
            await uow.payments.update(p)
            return p

        return await self._d.transaction(work)

    # -- resolving a payment -------------------------------------------------------------
    async def _finish(
        self,
        uow: UnitOfWork,
        p: Payment,
        status: PaymentStatus,
        *,
        reference: str | None,
        reason: str,
    ) -> _Step:
        """Move a pending payment to its final state and move its money, in this unit of
        work. The caller holds the payment's row lock and has checked it is pending."""
        now = self._d.clock.now()
        ids = transfer_ids(p.id)
        req: TransferRequest | None = None
        if p.kind is PaymentKind.DEPOSIT:
            if status is PaymentStatus.SUCCEEDED:
                wallet = await user_wallet(uow, p.user_id, p.currency)
                external = await provider_account(uow, p.provider, p.currency)
                req = TransferRequest(
                    ids["credit"],
                    external.id,
                    wallet.id,
                    p.amount,
                    "deposit",
                    reference=f"payment:{p.id}",
                    memo=f"deposit via {p.provider}",
                )
        else:
            assert p.hold_transfer_id is not None
            succeeded = status is PaymentStatus.SUCCEEDED
            req = TransferRequest(
                ids["post" if succeeded else "void"],
                code="",
                kind=TransferKind.POST if succeeded else TransferKind.VOID,
                pending_id=p.hold_transfer_id,
                reference=f"payment:{p.id}",
            )
        if req is not None:
            (res,) = await uow.ledger.apply([req], now)
            res.unwrap()
        new = finalise(
            p,
            status,
            now,
            reference=reference,
            settle_transfer_id=req.id if req else None,
            reason=reason,
        )
        await uow.payments.update(new)
        return _Step(new, moved=req is not None, changed=True)

    async def _resolve(
        self,
        actor: Actor | None,
        payment_id: str,
        status: PaymentStatus,
        *,
        reference: str | None = None,
        reason: str = "",
    ) -> Payment:
        """Succeed or fail a payment once (an operator, or a provider's immediate answer);
        the same final state again is a no-op, the other one ``PaymentAlreadyFinal``."""

        async def work(uow: UnitOfWork) -> _Step:
            p = await uow.payments.get(payment_id, for_update=True)
            if p is None:
                raise PaymentNotFound(f"no payment {payment_id!r}")
            if p.status is status:
                return _Step(p)
            if p.status.final:
                raise PaymentAlreadyFinal(
                    f"payment {p.id} already {p.status.value}, cannot become {status.value}"
                )
            if reference is not None:
                other = await uow.payments.get_by_reference(p.provider, reference)
                if other is not None and other.id != p.id:
                    raise IdempotencyConflict(f"provider reference {reference!r} is already used")
            step = await self._finish(uow, p, status, reference=reference, reason=reason)
            if actor is not None:
                action = "payment.confirm" if status is PaymentStatus.SUCCEEDED else "payment.fail"
                await uow.audit.add(self._audit(actor, action, step.payment, reason))
            return step

        step = await self._d.transaction(work)
        await self._notify(step)
        return step.payment

    async def confirm(self, actor: Actor, payment_id: str, *, reason: str = "") -> Payment:
        """Operators: mark a pending payment succeeded (credit the deposit / pay out the held
        withdrawal), audited. Confirming a succeeded payment again changes nothing."""
        actor.require_staff()
        return await self._resolve(
            actor,
            payment_id,
            PaymentStatus.SUCCEEDED,
            reason=clean_reason(reason, required=False) or "confirmed",
        )

    async def fail(self, actor: Actor, payment_id: str, reason: str) -> Payment:
        """Operators: mark a pending payment failed (a withdrawal's hold is released),
        audited; a reason is mandatory. Failing a failed payment again changes nothing."""
        actor.require_staff()
        reason = clean_reason(reason)
        return await self._resolve(actor, payment_id, PaymentStatus.FAILED, reason=reason)

    # -- webhooks ------------------------------------------------------------------------
    async def handle_webhook(self, provider_name: str, raw_body: bytes, signature: str) -> Payment:
        """Apply a provider's callback. ``raw_body`` must be the request body exactly as
        received (the signature covers those bytes); ``signature`` the signature header.
        Returns the payment after it (a replay returns it unchanged, moving nothing)."""
        provider = self._provider(provider_name)
        event = provider.parse_webhook(raw_body, signature)
        step = await self._d.transaction(lambda uow: self._webhook(uow, provider.name, event))
        await self._notify(step)
        if step.refusal is not None:
            raise step.refusal
        return step.payment

    async def _webhook(self, uow: UnitOfWork, provider: str, ev: WebhookEvent) -> _Step:
        # lock the payment first: a concurrent webhook for it waits here, then sees its result
        p = await uow.payments.get(ev.payment_id, for_update=True)
        bound = await uow.payments.get_by_reference(provider, ev.reference)
        if bound is not None:
            if (bound.id, bound.status, bound.amount, bound.currency) == (
                ev.payment_id,
                ev.status,
                ev.amount,
                ev.currency,
            ):
                return _Step(bound)  # a replay: the first result, nothing moves
            raise IdempotencyConflict(
                f"provider reference {ev.reference!r} was already used with other content"
            )
        if p is None or p.provider != provider:
            raise PaymentNotFound(f"no payment {ev.payment_id!r} through {provider}")
        details = {
            "reference": ev.reference,
            "webhook_status": ev.status.value,
            "webhook_amount": str(ev.amount),
            "webhook_currency": ev.currency,
        }
        if (ev.amount, ev.currency) != (p.amount, p.currency):
            await uow.audit.add(
                self._audit(None, "payment.webhook_refused", p, "amount mismatch", **details)
            )
            return _Step(
                p,
                refusal=PaymentMismatch(
                    f"webhook says {ev.amount} {ev.currency}, payment {p.id} is for "
                    f"{p.amount} {p.currency}"
                ),
            )
        if p.status.final and p.status is not ev.status:
            await uow.audit.add(
                self._audit(None, "payment.webhook_refused", p, "contradicts final", **details)
            )
            return _Step(
                p,
                refusal=PaymentAlreadyFinal(
                    f"payment {p.id} already {p.status.value}; webhook says {ev.status.value}"
                ),
            )
        if p.provider_reference is not None:  # bound to another reference (checked above)
            await uow.audit.add(
                self._audit(None, "payment.webhook_refused", p, "other reference", **details)
            )
            return _Step(
                p,
                refusal=IdempotencyConflict(
                    f"payment {p.id} is bound to another provider reference"
                ),
            )
        if p.status.final:  # an operator got there first and the provider agrees
            p = dataclasses.replace(
                p, provider_reference=ev.reference, updated_at=self._d.clock.now()
            )
            await uow.payments.update(p)
            return _Step(p)
        reason = "provider reported failure" if ev.status is PaymentStatus.FAILED else ""
        return await self._finish(uow, p, ev.status, reference=ev.reference, reason=reason)

    # -- reading -------------------------------------------------------------------------
    async def get(self, actor: Actor, payment_id: str) -> Payment:
        """A payment; players see only their own."""
        async with self._d.uow() as uow:
            p = await uow.payments.get(payment_id) if isinstance(payment_id, str) else None
        if p is None:
            raise PaymentNotFound(f"no payment {str(payment_id)[:80]!r}")
        actor.require_self_or_staff(p.user_id)
        return p

    async def list(
        self,
        actor: Actor,
        user_id: int | None = None,
        *,
        limit: int = 50,
        before: int | None = None,
    ) -> PaymentPage:
        """Payments newest first (one user's, or everyone's for staff); page with ``before``."""
        if user_id is None:
            actor.require_staff()
        else:
            actor.require_self_or_staff(user_id)
        check_page_limit(limit)
        async with self._d.uow() as uow:
            rows = await uow.payments.list(user_id=user_id, limit=limit + 1, before_seq=before)
        page = rows[:limit]
        return PaymentPage(page, page[-1].seq if len(rows) > limit else None)
