"""Wallets: balances, statements, and the operator's money tools on top of the ledger.

A user's wallet in a currency is the ledger account (``user``, ``user:<id>``, currency) with
the flag *debits must not exceed credits*, so it never goes below zero, holds included. Money
enters and leaves the community through the ``treasury`` account (grants and adjustments) and
``external`` accounts (payment providers); both may go negative. Holds go to the ``escrow``
account named ``holds``.

Caller-supplied idempotency keys become transfer ids namespaced by operation and wallet
(``adjust:<user>:<key>``), so one user's key can never collide with another's; replaying a
command returns the first transfer and moves nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..domain.audit import AuditRecord
from ..domain.errors import (
    AccountNotFound,
    Conflict,
    InvalidAmount,
    InvalidInput,
    TransferNotFound,
    UserNotFound,
)
from ..domain.identity import Actor
from ..domain.ledger import (
    Account,
    AccountFlags,
    AccountKind,
    CurrencyTotals,
    LinkedBatch,
    Transfer,
    TransferKind,
    TransferRequest,
    TransferResult,
)
from ..domain.money import MAX_AMOUNT
from ..domain.notifications import WalletChanged
from ..domain.refs import expiry_void_id, hold_resolution_id, keyed_id, user_ref
from ..domain.text import clean_reason, clean_text
from ..ports import UnitOfWork
from .accounts import system_account, user_wallet, wallet_owner
from .base import Deps, check_page_limit

__all__ = [
    "StatementEntry",
    "StatementPage",
    "WalletBalance",
    "WalletService",
]

HOLD_CODE = "hold"  # the code of holds made by ``hold``; only those are posted/voided here


@dataclass(frozen=True, slots=True)
class WalletBalance:
    user_id: int
    currency: str
    balance: int
    available: int
    held: int
    frozen: bool
    account_id: int

    @classmethod
    def of(cls, user_id: int, acc: Account) -> WalletBalance:
        return cls(
            user_id,
            acc.currency,
            acc.balance,
            acc.available,
            acc.held,
            bool(acc.flags & AccountFlags.FROZEN),
            acc.id,
        )


@dataclass(frozen=True, slots=True)
class StatementEntry:
    """One line of a statement: the signed effect on this wallet and the balances after it."""

    seq: int
    transfer_id: str
    timestamp: str
    code: str
    kind: TransferKind
    amount: int  # + credit to this wallet, - debit from it
    counterparty_account_id: int
    balance_after: int
    available_after: int
    reference: str
    memo: str


@dataclass(frozen=True, slots=True)
class StatementPage:
    entries: list[StatementEntry]
    next_before: int | None  # pass as ``before`` for the next (older) page


class WalletService:
    def __init__(self, deps: Deps) -> None:
        self._d = deps

    # -- helpers -------------------------------------------------------------------------
    def _currency(self, code: str | None) -> str:
        return self._d.currencies[code].code if code else self._d.currencies.default.code

    def _key(self, op: str, scope: object, key: str | None) -> str:
        if key is None:
            return self._d.ids.new_id(op)
        return keyed_id(op, scope, key)

    @staticmethod
    def _amount(amount: int, *, signed: bool = False) -> int:
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise InvalidAmount("amount must be an integer number of minor units")
        if (amount == 0 or (amount < 0 and not signed)) or abs(amount) > MAX_AMOUNT:
            raise InvalidAmount(
                "amount must be a non-zero integer"
                if signed
                else "amount must be a positive integer"
            )
        return amount

    async def _user_exists(self, uow: UnitOfWork, user_id: int) -> None:
        if await uow.users.get(user_id) is None:
            raise UserNotFound(f"no user {user_id}")

    async def _notify(self, *user_ids: int | None) -> None:
        ids = sorted({u for u in user_ids if u is not None})
        if ids:
            await self._d.publisher.publish(WalletChanged(tuple(ids)))

    async def open(self, actor: Actor, user_id: int, currency: str | None = None) -> WalletBalance:
        """Open the user's wallet in a currency (idempotent: an open wallet is returned as is).
        Wallets also open on their first credit; this is for showing a zero balance up front."""
        actor.require_self_or_staff(user_id)
        code = self._currency(currency)

        async def work(uow: UnitOfWork) -> WalletBalance:
            await self._user_exists(uow, user_id)
            return WalletBalance.of(user_id, await user_wallet(uow, user_id, code))

        return await self._d.transaction(work)

    # -- reading -------------------------------------------------------------------------
    async def balances(self, actor: Actor, user_id: int) -> list[WalletBalance]:
        """Every wallet the user has, one per currency."""
        actor.require_self_or_staff(user_id)
        async with self._d.uow() as uow:
            await self._user_exists(uow, user_id)
            accounts = await uow.ledger.accounts_of(user_ref(user_id))
        return [WalletBalance.of(user_id, a) for a in accounts if a.kind is AccountKind.USER]

    async def balances_of(
        self, actor: Actor, user_ids: Sequence[int]
    ) -> dict[int, list[WalletBalance]]:
        """Every wallet of many users, read in one query (staff: e.g. real-time pushes).
        Users without wallets map to an empty list."""
        actor.require_staff()
        ids = sorted(set(user_ids))
        async with self._d.uow() as uow:
            found = await uow.ledger.accounts_of_many([user_ref(i) for i in ids])
        return {
            i: [
                WalletBalance.of(i, a)
                for a in found.get(user_ref(i), ())
                if a.kind is AccountKind.USER
            ]
            for i in ids
        }

    async def balance(
        self, actor: Actor, user_id: int, currency: str | None = None
    ) -> WalletBalance:
        """One wallet's balance; a currency never used reads as zero."""
        actor.require_self_or_staff(user_id)
        code = self._currency(currency)
        async with self._d.uow() as uow:
            await self._user_exists(uow, user_id)
            acc = await uow.ledger.find_account(AccountKind.USER, user_ref(user_id), code)
        if acc is None:
            return WalletBalance(user_id, code, 0, 0, 0, False, 0)
        return WalletBalance.of(user_id, acc)

    async def statement(
        self,
        actor: Actor,
        user_id: int,
        currency: str | None = None,
        *,
        limit: int = 50,
        before: int | None = None,
    ) -> StatementPage:
        """Entries newest first, each with the running balance after it; page with ``before``."""
        actor.require_self_or_staff(user_id)
        check_page_limit(limit)
        code = self._currency(currency)
        async with self._d.uow() as uow:
            await self._user_exists(uow, user_id)
            acc = await uow.ledger.find_account(AccountKind.USER, user_ref(user_id), code)
            rows = (
                []
                if acc is None
                else await uow.ledger.statement(acc.id, limit=limit + 1, before_seq=before)
            )
        entries = [self._entry(acc.id, t) for t in rows[:limit]] if acc else []
        return StatementPage(entries, entries[-1].seq if len(rows) > limit else None)

    @staticmethod
    def _entry(account_id: int, t: Transfer) -> StatementEntry:
        credit = t.credit_account_id == account_id
        return StatementEntry(
            seq=t.seq,
            transfer_id=t.id,
            timestamp=t.timestamp.isoformat(),
            code=t.code,
            kind=t.kind,
            amount=t.amount if credit else -t.amount,
            counterparty_account_id=t.debit_account_id if credit else t.credit_account_id,
            balance_after=t.credit_balance_after if credit else t.debit_balance_after,
            available_after=t.credit_available_after if credit else t.debit_available_after,
            reference=t.reference,
            memo=t.memo,
        )

    async def totals(self, actor: Actor) -> list[CurrencyTotals]:
        """Per-currency sums of all accounts: the conservation check."""
        actor.require_staff()
        async with self._d.uow() as uow:
            return await uow.ledger.totals()

    async def get_transfer(self, actor: Actor, transfer_id: str) -> Transfer:
        actor.require_staff()
        async with self._d.uow() as uow:
            t = await uow.ledger.get_transfer(transfer_id)
        if t is None:
            raise TransferNotFound(f"no transfer {transfer_id!r}")
        return t

    # -- operator tools ------------------------------------------------------------------
    async def adjust(
        self,
        actor: Actor,
        user_id: int,
        amount: int,
        currency: str | None = None,
        *,
        reason: str,
        idempotency_key: str | None = None,
    ) -> Transfer:
        """Move ``amount`` (signed) between the treasury and the wallet, audited; a reason is
        mandatory and a wallet never goes below zero."""
        actor.require_staff()
        amount = self._amount(amount, signed=True)
        reason = clean_reason(reason)
        code = self._currency(currency)
        tid = self._key("adjust", user_ref(user_id), idempotency_key)

        async def work(uow: UnitOfWork) -> TransferResult:
            await self._user_exists(uow, user_id)
            wallet = await user_wallet(uow, user_id, code)
            treasury = await system_account(uow, AccountKind.TREASURY, code)
            dr, cr = (treasury, wallet) if amount > 0 else (wallet, treasury)
            (res,) = await uow.ledger.apply(
                [
                    TransferRequest(
                        tid,
                        dr.id,
                        cr.id,
                        abs(amount),
                        "adjust",
                        reference=user_ref(user_id),
                        memo=reason,
                    )
                ],
                self._d.clock.now(),
            )
            t = res.unwrap()
            if not res.replayed:
                await uow.audit.add(
                    AuditRecord(
                        self._d.clock.now(),
                        actor.user_id,
                        actor.name,
                        "wallet.adjust",
                        user_ref(user_id),
                        reason,
                        {"amount": str(amount), "currency": code, "transfer": t.id},
                    )
                )
            return res

        res = await self._d.transaction(work)
        if not res.replayed:
            await self._notify(user_id)
        return res.unwrap()

    async def grant(
        self,
        actor: Actor,
        user_id: int,
        amount: int,
        currency: str | None = None,
        *,
        memo: str = "",
        idempotency_key: str | None = None,
    ) -> Transfer:
        """Issue coins from the treasury to a wallet (staff only, audited)."""
        actor.require_staff()
        memo = clean_text(memo, "memo", max_length=500, required=False)
        self._amount(amount)
        code = self._currency(currency)
        tid = self._key("grant", user_ref(user_id), idempotency_key)

        async def work(uow: UnitOfWork) -> TransferResult:
            await self._user_exists(uow, user_id)
            wallet = await user_wallet(uow, user_id, code)
            treasury = await system_account(uow, AccountKind.TREASURY, code)
            (res,) = await uow.ledger.apply(
                [
                    TransferRequest(
                        tid,
                        treasury.id,
                        wallet.id,
                        amount,
                        "grant",
                        reference=user_ref(user_id),
                        memo=memo,
                    )
                ],
                self._d.clock.now(),
            )
            t = res.unwrap()
            if not res.replayed:
                await uow.audit.add(
                    AuditRecord(
                        self._d.clock.now(),
                        actor.user_id,
                        actor.name,
                        "wallet.grant",
                        user_ref(user_id),
                        memo,
                        {"amount": str(amount), "currency": code, "transfer": t.id},
                    )
                )
            return res

        res = await self._d.transaction(work)
        if not res.replayed:
            await self._notify(user_id)
        return res.unwrap()

    async def transfer(
        self,
        actor: Actor,
        from_user: int,
        to_user: int,
        amount: int,
        currency: str | None = None,
        *,
        memo: str = "",
        idempotency_key: str | None = None,
    ) -> Transfer:
        """Move money between two users' wallets; a player may only send its own money."""
        actor.require_self_or_staff(from_user)
        self._amount(amount)
        memo = clean_text(memo, "memo", max_length=500, required=False)
        code = self._currency(currency)
        tid = self._key("transfer", user_ref(from_user), idempotency_key)

        async def work(uow: UnitOfWork) -> TransferResult:
            await self._user_exists(uow, from_user)
            await self._user_exists(uow, to_user)
            src = await user_wallet(uow, from_user, code)
            dst = await user_wallet(uow, to_user, code)
            (res,) = await uow.ledger.apply(
                [
                    TransferRequest(
                        tid,
                        src.id,
                        dst.id,
                        amount,
                        "transfer",
                        reference=user_ref(to_user),
                        memo=memo,
                    )
                ],
                self._d.clock.now(),
            )
            res.unwrap()
            return res

        res = await self._d.transaction(work)
        if not res.replayed:
            await self._notify(from_user, to_user)
        return res.unwrap()

    async def hold(
        self,
        actor: Actor,
        user_id: int,
        amount: int,
        currency: str | None = None,
        *,
        timeout_seconds: int = 0,
        memo: str = "",
        idempotency_key: str | None = None,
    ) -> Transfer:
        """Reserve funds in a wallet (a pending transfer to the ``holds`` escrow)."""
        actor.require_staff()
        self._amount(amount)
        if timeout_seconds < 0:
            raise InvalidInput("timeout must not be negative")
        code = self._currency(currency)
        tid = self._key("hold", user_ref(user_id), idempotency_key)

        async def work(uow: UnitOfWork) -> TransferResult:
            await self._user_exists(uow, user_id)
            wallet = await user_wallet(uow, user_id, code)
            escrow = await system_account(uow, AccountKind.ESCROW, code, "holds")
            (res,) = await uow.ledger.apply(
                [
                    TransferRequest(
                        tid,
                        wallet.id,
                        escrow.id,
                        amount,
                        HOLD_CODE,
                        TransferKind.PENDING,
                        timeout_seconds=timeout_seconds,
                        reference=user_ref(user_id),
                        memo=memo,
                    )
                ],
                self._d.clock.now(),
            )
            res.unwrap()
            return res

        res = await self._d.transaction(work)
        if not res.replayed:
            await self._notify(user_id)
        return res.unwrap()

    async def post(
        self, actor: Actor, pending_id: str, amount: int = 0, *, idempotency_key: str | None = None
    ) -> Transfer:
        """Settle a hold: move ``amount`` (0 = all) and release the rest."""
        return await self._resolve(actor, TransferKind.POST, pending_id, amount, idempotency_key)

    async def void(
        self, actor: Actor, pending_id: str, *, idempotency_key: str | None = None
    ) -> Transfer:
        """Release a hold in full."""
        return await self._resolve(actor, TransferKind.VOID, pending_id, 0, idempotency_key)

    async def _resolve(
        self, actor: Actor, kind: TransferKind, pending_id: str, amount: int, key: str | None
    ) -> Transfer:
        actor.require_staff()
        if amount < 0:
            raise InvalidAmount("amount must not be negative")
        # a hold is resolved once, so without a key its resolution has a natural id: retrying
        # post/void returns the first result
        tid = (
            self._key(kind.value, pending_id, key)
            if key
            else hold_resolution_id(kind.value, pending_id)
        )

        async def work(uow: UnitOfWork) -> tuple[TransferResult, list[int | None]]:
            held = await uow.ledger.get_transfer(pending_id)
            if held is not None and held.kind is TransferKind.PENDING and held.code != HOLD_CODE:
                # holds of payments, bets … are resolved by their owners, or their records
                # would no longer match the money
                raise Conflict(
                    f"this hold belongs to {held.reference or held.code!r}; resolve it there"
                )
            (res,) = await uow.ledger.apply(
                [TransferRequest(tid, amount=amount, code="", kind=kind, pending_id=pending_id)],
                self._d.clock.now(),
            )
            t = res.unwrap()
            accounts = [
                await uow.ledger.get_account(a) for a in (t.debit_account_id, t.credit_account_id)
            ]
            return res, [wallet_owner(a) for a in accounts if a is not None]

        res, owners = await self._d.transaction(work)
        if not res.replayed:
            await self._notify(*owners)
        return res.unwrap()

    async def set_frozen(
        self, actor: Actor, user_id: int, currency: str | None, frozen: bool, *, reason: str
    ) -> WalletBalance:
        """Freeze (or unfreeze) a wallet: no money moves in or out; holds can still be voided."""
        actor.require_staff()
        reason = clean_reason(reason)
        code = self._currency(currency)

        async def work(uow: UnitOfWork) -> WalletBalance:
            await self._user_exists(uow, user_id)
            acc = await user_wallet(uow, user_id, code)
            flags = acc.flags | AccountFlags.FROZEN if frozen else acc.flags & ~AccountFlags.FROZEN
            await uow.ledger.set_flags(acc.id, flags)
            acc.flags = flags
            await uow.audit.add(
                AuditRecord(
                    self._d.clock.now(),
                    actor.user_id,
                    actor.name,
                    "wallet.freeze" if frozen else "wallet.unfreeze",
                    user_ref(user_id),
                    reason,
                    {"currency": code},
                )
            )
            return WalletBalance.of(user_id, acc)

        return await self._d.transaction(work)

    async def expire_pending(self, actor: Actor, *, limit: int = 1000) -> int:
        """Void holds whose timeout has passed (the job runner calls this); returns how many."""
        actor.require_staff()

        async def work(uow: UnitOfWork) -> list[TransferResult]:
            now = self._d.clock.now()
            due = await uow.ledger.expired_pending(now, limit)
            reqs = [
                TransferRequest(
                    expiry_void_id(p.id), kind=TransferKind.VOID, code="", pending_id=p.id
                )
                for p in due
            ]
            return await uow.ledger.apply(reqs, now) if reqs else []

        results = await self._d.transaction(work)
        return sum(1 for r in results if r.ok and not r.replayed)

    async def apply(
        self, actor: Actor, items: Sequence[TransferRequest | LinkedBatch]
    ) -> list[TransferResult]:
        """Submit raw ledger requests (admins, embedding apps): each decided on its own, linked
        batches all or nothing, in one commit."""
        actor.require_admin()
        return await self._d.transaction(lambda uow: uow.ledger.apply(items, self._d.clock.now()))

    async def account(self, actor: Actor, account_id: int) -> Account:
        actor.require_staff()
        async with self._d.uow() as uow:
            acc = await uow.ledger.get_account(account_id)
        if acc is None:
            raise AccountNotFound(f"no account {account_id}")
        return acc
