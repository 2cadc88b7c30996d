"""The payout runner: pay many accounts out of one escrow, chunked, resumable, exactly once.

Every area that holds stakes in an escrow and pays them out by a rule (event settlement and
voids, prediction rounds, raffle prizes, refund-everyone) hands the runner a ``Payout``: the
escrow, a transfer code, and one ``PayoutItem`` per recipient, each with a transfer id derived
from the item it pays (``refs``), never from the run. The runner then

1. pays ``chunk_size`` items per transaction: the area locks its object (``PayoutArea.lock``;
   ``False`` means another runner finished it: nothing moves), the chunk's transfers go to the
   ledger as one batch, and the area records the results in the same commit
   (``PayoutArea.record``);
2. closes in one last transaction: the rake (if any) goes escrow → house, and the area sets
   its final status (``PayoutArea.close``).

A run that stops anywhere (crash, lost connection, a progress callback raising) is resumed by
running the same payout again: chunks already committed replay in the ledger (same ids, same
content) and move nothing, so nobody is paid twice and the escrow ends where the rule says.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from ..domain.errors import StoreError
from ..domain.events import RAKE_CODE
from ..domain.ledger import AccountKind, TransferRequest
from ..ports import UnitOfWork
from .accounts import system_account
from .base import Deps

__all__ = ["Payout", "PayoutArea", "PayoutItem", "PayoutReport", "PayoutRunner", "Progress"]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

Progress = Callable[[int, int], None]
"""``progress(done, total)``: called after each committed chunk."""


@dataclass(frozen=True, slots=True)
class PayoutItem:
    """One recipient: ``amount`` (> 0) from the escrow to ``account_id`` under ``transfer_id``
    (derived from ``item_id``, the bet/ticket/contract paid)."""

    item_id: int
    account_id: int
    amount: int
    transfer_id: str
    reference: str = ""


@dataclass(frozen=True, slots=True)
class Payout:
    """What to pay out of ``escrow_account_id``; ``rake`` (with its own id) goes to the house
    of ``currency`` at the close. ``total`` is what progress counts (default: the items)."""

    escrow_account_id: int
    currency: str
    code: str
    items: Sequence[PayoutItem]
    rake: int = 0
    rake_id: str = ""
    rake_reference: str = ""
    rake_code: str = RAKE_CODE
    total: int | None = None


@dataclass(frozen=True, slots=True)
class PayoutReport:
    """What a payout moved: ``paid`` to ``paid_items`` recipients, ``rake`` to the house."""

    paid: int
    paid_items: int
    rake: int
    chunks: int


class PayoutArea(Protocol[T_co]):
    """The area's side of a payout, each call inside the runner's transaction."""

    async def lock(self, uow: UnitOfWork) -> bool:
        """Lock the object paid out (before any account); ``False``: it no longer pays."""
        ...

    async def record(self, uow: UnitOfWork, items: Sequence[PayoutItem], now: datetime) -> None:
        """Record that ``items`` were paid (in the commit that pays them)."""
        ...

    async def close(self, uow: UnitOfWork, now: datetime, paying: bool) -> T_co:
        """The last step: set the final status (when ``paying``; the rake is already moved)
        and return the object."""
        ...


class PayoutRunner:
    def __init__(self, deps: Deps, *, chunk_size: int = 5000) -> None:
        self._d = deps
        self.chunk_size = chunk_size

    async def pay(
        self, payout: Payout, area: PayoutArea[T], progress: Progress | None = None
    ) -> tuple[T, PayoutReport]:
        """Pay every item, then close; safe to run again after any interruption."""
        if self.chunk_size < 1:
            raise ValueError("chunk_size must be at least 1")
        items = [i for i in payout.items if i.amount > 0]
        total = payout.total if payout.total is not None else len(items)
        done = chunks = 0
        for start in range(0, len(items), self.chunk_size):
            chunk = items[start : start + self.chunk_size]

            async def pay(uow: UnitOfWork, chunk: list[PayoutItem] = chunk) -> None:
                if not await area.lock(uow):
                    return  # another runner finished it meanwhile
                now = self._d.clock.now()
                results = await uow.ledger.apply(
                    [
                        TransferRequest(
                            i.transfer_id,
                            payout.escrow_account_id,
                            i.account_id,
                            i.amount,
                            payout.code,
                            reference=i.reference,
                            currency=payout.currency,
                        )
                        for i in chunk
                    ],
                    now,
                )
                for r in results:
                    if not r.ok:  # the escrow holds every stake: this is a broken invariant
                        raise StoreError(f"payout refused: {r.error}")
                await area.record(uow, chunk, now)

            await self._d.transaction(pay)
            done += len(chunk)
            chunks += 1
            if progress is not None:
                progress(done, total)

        async def close(uow: UnitOfWork) -> T:
            paying = await area.lock(uow)
            now = self._d.clock.now()
            if paying and payout.rake:
                house = await system_account(uow, AccountKind.HOUSE, payout.currency)
                (r,) = await uow.ledger.apply(
                    [
                        TransferRequest(
                            payout.rake_id,
                            payout.escrow_account_id,
                            house.id,
                            payout.rake,
                            payout.rake_code,
                            reference=payout.rake_reference,
                            currency=payout.currency,
                        )
                    ],
                    now,
                )
                if not r.ok:
                    raise StoreError(f"rake refused: {r.error}")
            return await area.close(uow, now, paying)

        final = await self._d.transaction(close)
        if progress is not None and done < total:
            progress(total, total)
        report = PayoutReport(sum(i.amount for i in items), len(items), payout.rake, chunks)
        return final, report
