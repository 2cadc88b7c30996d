"""An independent reference model of the ledger rules, for the property tests.

Written from the rules in SPEC.md section 1 and the ``wagerkit.domain.ledger`` docstring, without
calling ``plan_batch``: plain dicts of account totals, the accepted transfers with the request
that created them, and which holds are resolved. A request is a replay when an accepted
transfer has the same id and was created by an identical request (the generators only alter
content in ways that are unambiguously different); a different request resolving the same hold
under the same id is told that the hold is already resolved.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from wagerkit.domain.errors import (
    AccountFrozen,
    AccountNotFound,
    CurrencyMismatch,
    ExceedsPendingAmount,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidAmount,
    LinkedTransferFailed,
    NotPending,
    PendingAlreadyPosted,
    PendingAlreadyVoided,
    PendingExpired,
    PendingNotFound,
    SameAccount,
    WagerkitError,
)
from wagerkit.domain.ledger import (
    AccountFlags,
    LinkedBatch,
    TransferKind,
    TransferRequest,
    TransferResult,
)

SINGLE, PENDING, POST, VOID = (
    TransferKind.SINGLE,
    TransferKind.PENDING,
    TransferKind.POST,
    TransferKind.VOID,
)

Item = TransferRequest | LinkedBatch


@dataclass
class MAccount:
    id: int
    currency: str
    user: bool  # debits must not exceed credits
    frozen: bool = False
    dp: int = 0  # debits posted
    cp: int = 0  # credits posted
    dq: int = 0  # debits pending
    cq: int = 0  # credits pending

    @property
    def balance(self) -> int:
        return self.cp - self.dp

    @property
    def available(self) -> int:
        return self.cp - self.dp - self.dq

    @property
    def flags(self) -> AccountFlags:
        f = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS if self.user else AccountFlags.NONE
        return f | AccountFlags.FROZEN if self.frozen else f

    def totals(self) -> tuple[int, int, int, int]:
        return (self.dp, self.cp, self.dq, self.cq)


@dataclass(frozen=True)
class Rec:
    """An accepted transfer, as the model remembers it."""

    req: TransferRequest
    kind: TransferKind
    dr: int
    cr: int
    amount: int
    expires_at: datetime | None


@dataclass(frozen=True)
class Outcome:
    status: str  # "ok", "replay" or "error"
    rec: Rec | None = None
    error: type[WagerkitError] | None = None
    after: tuple[int, int, int, int] | None = None  # dr balance, dr available, cr ..., cr ...

    @classmethod
    def err(cls, error: type[WagerkitError]) -> Outcome:
        return cls("error", error=error)


class Refused(Exception):
    def __init__(self, error: type[WagerkitError]) -> None:
        self.error = error


@dataclass
class Model:
    accounts: dict[int, MAccount] = field(default_factory=dict)
    transfers: dict[str, Rec] = field(default_factory=dict)
    resolved: dict[str, TransferKind] = field(default_factory=dict)

    def clone(self) -> Model:
        return Model(copy.deepcopy(self.accounts), dict(self.transfers), dict(self.resolved))

    # -- queries -------------------------------------------------------------------------
    def sums(self) -> dict[str, tuple[int, int, int, int]]:
        out: dict[str, list[int]] = {}
        for a in self.accounts.values():
            s = out.setdefault(a.currency, [0, 0, 0, 0])
            for i, v in enumerate(a.totals()):
                s[i] += v
        return {c: (s[0], s[1], s[2], s[3]) for c, s in out.items()}

    def due(self, now: datetime) -> set[str]:
        """Unresolved holds whose timeout has passed."""
        return {
            tid
            for tid, rec in self.transfers.items()
            if rec.kind is PENDING
            and rec.expires_at is not None
            and rec.expires_at <= now
            and tid not in self.resolved
        }

    # -- deciding ------------------------------------------------------------------------
    def apply(self, items: list[Item], now: datetime) -> list[Outcome]:
        out: list[Outcome] = []
        for item in items:
            if isinstance(item, LinkedBatch):
                out.extend(self._linked(item, now))
            else:
                out.append(self._one(item, now))
        return out

    def _linked(self, batch: LinkedBatch, now: datetime) -> list[Outcome]:
        work = self.clone()
        outs = [work._one(r, now) for r in batch.requests]
        if all(o.status != "error" for o in outs):
            replays = [o.status == "replay" for o in outs]
            if all(replays) or not any(replays):
                self.accounts, self.transfers, self.resolved = (
                    work.accounts,
                    work.transfers,
                    work.resolved,
                )
                return outs
            first_new = replays.index(False)
            outs[first_new] = Outcome.err(IdempotencyConflict)
        return [o if o.status == "error" else Outcome.err(LinkedTransferFailed) for o in outs]

    def _one(self, r: TransferRequest, now: datetime) -> Outcome:
        prior = self.transfers.get(r.id)
        if prior is not None:
            if prior.req == r:
                return Outcome("replay", prior)
            if r.pending_id is not None and prior.req.pending_id == r.pending_id:
                # another resolution of a hold already resolved under this id
                return Outcome.err(
                    PendingAlreadyPosted if prior.req.kind is POST else PendingAlreadyVoided
                )
            return Outcome.err(IdempotencyConflict)
        try:
            if r.kind in (SINGLE, PENDING):
                rec, dr, cr = self._move(r, now)
            else:
                rec, dr, cr = self._resolve(r, now)
        except Refused as exc:
            return Outcome.err(exc.error)
        self.transfers[r.id] = rec
        return Outcome("ok", rec, after=(dr.balance, dr.available, cr.balance, cr.available))

    def _move(self, r: TransferRequest, now: datetime) -> tuple[Rec, MAccount, MAccount]:
        if r.amount <= 0:
            raise Refused(InvalidAmount)
        dr = self.accounts.get(r.debit_account_id)
        cr = self.accounts.get(r.credit_account_id)
        if dr is None or cr is None:
            raise Refused(AccountNotFound)
        if dr.id == cr.id:
            raise Refused(SameAccount)
        if dr.currency != cr.currency:
            raise Refused(CurrencyMismatch)
        if dr.frozen or cr.frozen:
            raise Refused(AccountFrozen)
        if dr.user and dr.dp + dr.dq + r.amount > dr.cp:
            raise Refused(InsufficientFunds)
        if r.kind is SINGLE:
            dr.dp += r.amount
            cr.cp += r.amount
        else:
            dr.dq += r.amount
            cr.cq += r.amount
        expires = now + timedelta(seconds=r.timeout_seconds) if r.timeout_seconds else None
        return Rec(r, r.kind, dr.id, cr.id, r.amount, expires), dr, cr

    def _resolve(self, r: TransferRequest, now: datetime) -> tuple[Rec, MAccount, MAccount]:
        assert r.pending_id is not None
        p = self.transfers.get(r.pending_id)
        if p is None:
            raise Refused(PendingNotFound)
        if p.kind is not PENDING:
            raise Refused(NotPending)
        done = self.resolved.get(r.pending_id)
        if done is POST:
            raise Refused(PendingAlreadyPosted)
        if done is VOID:
            raise Refused(PendingAlreadyVoided)
        dr, cr = self.accounts[p.dr], self.accounts[p.cr]
        if r.kind is POST:
            if p.expires_at is not None and now >= p.expires_at:
                raise Refused(PendingExpired)
            amount = r.amount or p.amount
            if amount > p.amount:
                raise Refused(ExceedsPendingAmount)
            if dr.frozen or cr.frozen:
                raise Refused(AccountFrozen)
            dr.dp += amount
            cr.cp += amount
        else:
            if r.amount not in (0, p.amount):
                raise Refused(InvalidAmount)
            amount = p.amount
        dr.dq -= p.amount
        cr.cq -= p.amount
        self.resolved[r.pending_id] = r.kind
        return Rec(r, r.kind, dr.id, cr.id, amount, None), dr, cr


def flat(items: list[Item]) -> list[TransferRequest]:
    out: list[TransferRequest] = []
    for item in items:
        out.extend(item.requests if isinstance(item, LinkedBatch) else [item])
    return out


def check_results(
    results: list[TransferResult],
    outcomes: list[Outcome],
    items: list[Item],
    now: datetime,
    last_seq: int,
) -> int:
    """Assert that the store's results agree with the model; return the highest seq seen."""
    reqs = flat(items)
    assert len(results) == len(outcomes) == len(reqs)
    for res, out, req in zip(results, outcomes, reqs, strict=True):
        assert res.request_id == req.id
        where = f"{req!r}: store said {res!r}, model said {out!r}"
        if out.status == "error":
            assert res.transfer is None, where
            assert type(res.error) is out.error, where
            continue
        assert res.error is None, where
        t, rec = res.transfer, out.rec
        assert t is not None, where
        assert rec is not None, where
        assert res.replayed is (out.status == "replay"), where
        assert (t.id, t.kind, t.debit_account_id, t.credit_account_id, t.amount) == (
            req.id,
            rec.kind,
            rec.dr,
            rec.cr,
            rec.amount,
        ), where
        assert t.expires_at == rec.expires_at, where
        assert t.pending_id == rec.req.pending_id, where
        if out.status == "ok":
            assert t.timestamp == now, where
            assert out.after == (
                t.debit_balance_after,
                t.debit_available_after,
                t.credit_balance_after,
                t.credit_available_after,
            ), where
            assert t.seq > last_seq, where  # the journal only grows, in decision order
            last_seq = t.seq
    return last_seq
