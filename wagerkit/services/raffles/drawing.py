"""Raffles: close, void, draw, correct, pay, the public record and verify (SPEC section 5).

* **close** (an operator, or the job runner at ``end``): sales stop (the raffle row is locked
  ``FOR UPDATE``, so purchases in flight commit first); below ``min_tickets`` the raffle is
  ``voided`` and every ticket refunded; otherwise it is ``closed`` with the commitment of its
  frozen listing (``domain/draw.py``), stored and published before any randomness exists.
* **draw** (staff): ``lottery`` — the external lottery's numbers; ``beacon`` — a public value
  entered as text, or a drand round fetched and verified through the ``RandomnessBeacon``
  port. Winners and prizes are stored with the draw (``drawn``); beacon draws are paid at
  once, lottery draws after ``correction_seconds`` (by the job runner) or ``pay``, so that a
  wrongly entered result can be ``correct``-ed (audited) until the payouts start.
* **pay**: prizes escrow → winners (``raffles:prize:<raffle>:<number>``), then the rake or the
  guaranteed mode's house share (``raffles:house:<raffle>``), through the shared
  ``PayoutRunner``: exactly once, resumable. A guaranteed raffle short of its fund is first
  topped up by the house (``raffles:fund:<raffle>``). Refunds are
  ``raffles:refund:<raffle>:<ticket>``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from ...domain import draw as v1
from ...domain.errors import InvalidInput, RaffleNotFound, RaffleStateConflict, StoreError
from ...domain.identity import Actor
from ...domain.ledger import AccountKind, TransferRequest
from ...domain.notifications import WalletChanged
from ...domain.raffles import (
    HOUSE_CODE,
    PRIZE_CODE,
    RAKE_CODE,
    REFUND_CODE,
    DrawMode,
    PrizeMode,
    Raffle,
    RaffleClosed,
    RaffleDrawn,
    RaffleStatus,
    Ticket,
)
from ...domain.text import clean_reason, clean_text
from ...ports import UnitOfWork
from ..accounts import system_account
from ..payouts import Payout, PayoutItem, PayoutRunner, Progress
from .common import RafflesBase, get_raffle, raffle_ref, raffle_tid

__all__ = ["RaffleDrawing"]


class _RafflePayout:
    """The raffles side of the payout runner: the raffle row is the lock; prizes (or refunds)
    are recorded chunk by chunk; ``paid_at`` marks the end."""

    def __init__(self, raffle: Raffle, refund: bool) -> None:
        self._raffle = raffle
        self._refund = refund
        self._current = raffle

    async def lock(self, uow: UnitOfWork) -> bool:
        self._current = await get_raffle(uow, self._raffle.id, "update")
        return self._current.paid_at is None

    async def record(self, uow: UnitOfWork, items: Sequence[PayoutItem], now: datetime) -> None:
        if self._refund:
            await uow.raffles.record_refunds([i.item_id for i in items])
        else:
            prizes = {w[0]: w[2] for w in self._current.winners}
            await uow.raffles.record_prizes(
                self._raffle.id, [(i.item_id, prizes[i.item_id]) for i in items]
            )

    async def close(self, uow: UnitOfWork, now: datetime, paying: bool) -> Raffle:
        if not paying:
            return self._current
        new = dataclasses.replace(self._current, paid_at=now, updated_at=now)
        await uow.raffles.update(new)
        return new


class RaffleDrawing(RafflesBase):
    async def get(self, raffle_id: int) -> Raffle:
        async def work(uow: UnitOfWork) -> Raffle:
            return await get_raffle(uow, raffle_id)

        return await self._d.transaction(work)

    # -- close and void -------------------------------------------------------------------
    async def close(self, actor: Actor, raffle_id: int, *, reason: str = "") -> Raffle:
        """Stop sales now: ``closed`` with its commitment, or ``voided`` and refunded when
        fewer than ``min_tickets`` sold."""
        actor.require_staff()
        reason = clean_reason(reason, required=False)

        async def work(uow: UnitOfWork) -> Raffle:
            r = await get_raffle(uow, raffle_id, "update")
            if r.status is not RaffleStatus.OPEN:
                raise RaffleStateConflict(f"raffle {r.id} is already {r.status.value}")
            return await self._close_in(uow, r, actor, reason)

        raffle = await self._d.transaction(work)
        return await self._after_close(raffle)

    async def _close_in(self, uow: UnitOfWork, r: Raffle, actor: Actor, reason: str) -> Raffle:
        """Close an open raffle inside ``uow`` (locked by the caller)."""
        now = self._d.clock.now()
        if r.sold < r.min_tickets:
            new = r.with_status(
                RaffleStatus.VOIDED,
                now,
                closed_at=now,
                void_reason=f"{r.sold} tickets sold, {r.min_tickets} needed",
            )
            action = "raffle.void"
        else:
            pairs = await uow.raffles.listing_of(r.id)
            digest = v1.commitment(v1.listing(pairs, r.capacity))
            new = r.with_status(RaffleStatus.CLOSED, now, closed_at=now, commitment=digest)
            action = "raffle.close"
        await uow.raffles.update(new)
        await uow.audit.add(
            self._audit(
                actor, action, r.id, reason or new.void_reason, commitment=new.commitment or ""
            )
        )
        return new

    async def _after_close(self, raffle: Raffle) -> Raffle:
        await self._d.publisher.publish(RaffleClosed(raffle.id, raffle.status, raffle.commitment))
        if raffle.status is RaffleStatus.VOIDED:
            raffle = await self._refund(raffle.id)
        return raffle

    async def void(
        self, actor: Actor, raffle_id: int, *, reason: str, progress: Progress | None = None
    ) -> Raffle:
        """Cancel an open or closed (not drawn) raffle: every ticket is refunded."""
        actor.require_staff()
        reason = clean_reason(reason)

        async def work(uow: UnitOfWork) -> Raffle:
            r = await get_raffle(uow, raffle_id, "update")
            if r.status is RaffleStatus.VOIDED:
                return r  # finish its refunds
            if r.status.final:
                raise RaffleStateConflict(f"raffle {r.id} is already {r.status.value}")
            now = self._d.clock.now()
            new = r.with_status(
                RaffleStatus.VOIDED, now, closed_at=r.closed_at or now, void_reason=reason
            )
            await uow.raffles.update(new)
            await uow.audit.add(self._audit(actor, "raffle.void", r.id, reason))
            return new

        raffle = await self._d.transaction(work)
        await self._d.publisher.publish(RaffleClosed(raffle.id, raffle.status, raffle.commitment))
        return await self._refund(raffle.id, progress)

    async def _refund(self, raffle_id: int, progress: Progress | None = None) -> Raffle:
        async def read(uow: UnitOfWork) -> tuple[Raffle, list[Ticket]]:
            return await get_raffle(uow, raffle_id), await uow.raffles.tickets_of(raffle_id)

        raffle, tickets = await self._d.transaction(read)
        if raffle.paid_at is not None:
            return raffle
        runner = PayoutRunner(self._d, chunk_size=self.chunk_size)
        final, _ = await runner.pay(
            Payout(
                raffle.escrow_account_id,
                raffle.currency,
                REFUND_CODE,
                [
                    PayoutItem(
                        t.id,
                        t.wallet_account_id,
                        t.price,
                        raffle_tid("refund", raffle.id, t.id),
                        raffle_ref(raffle.id),
                    )
                    for t in tickets
                ],
            ),
            _RafflePayout(raffle, refund=True),
            progress,
        )
        users = sorted({t.user_id for t in tickets})
        if users:
            await self._d.publisher.publish(WalletChanged(tuple(users)))
        return final

    # -- draw, correct, pay ---------------------------------------------------------------
    async def draw(
        self,
        actor: Actor,
        raffle_id: int,
        *,
        numbers: Sequence[int] | None = None,
        public_value: str | None = None,
        drand_round: int | None = None,
        drand_signature: str | None = None,
        reason: str = "",
        pay: bool | None = None,
    ) -> Raffle:
        """Draw a closed raffle (see the module docstring). ``pay`` (default: beacon draws
        only) pays the prizes now; otherwise ``pay`` or the job runner does it later."""
        actor.require_staff()
        reason = clean_reason(reason, required=False)
        current = await self.get(raffle_id)
        if current.status is not RaffleStatus.CLOSED:
            raise RaffleStateConflict(f"raffle {current.id} is {current.status.value}, not closed")
        assert current.closed_at is not None
        provenance: dict[str, object]
        value: str | None = None
        drawn: tuple[int, ...] = ()
        if current.draw_mode is DrawMode.LOTTERY:
            if numbers is None or public_value is not None or drand_round is not None:
                raise InvalidInput("a lottery draw takes the lottery's winning numbers")
            drawn = self._check_drawn(numbers)
            provenance = {"source": "lottery", "lottery": current.lottery_name}
            if current.lottery_url:
                provenance["result_url"] = current.lottery_url
        elif drand_round is not None:
            if numbers is not None or public_value is not None:
                raise InvalidInput("give a drand round or a public value, not both")
            beacon = await self._fetch_round(drand_round, drand_signature, current.closed_at)
            value = beacon.randomness
            provenance = {
                "source": "drand",
                "chain_hash": beacon.chain_hash,
                "round": beacon.round,
                "signature": beacon.signature,
                "randomness": beacon.randomness,
                "time": beacon.time.isoformat(),
            }
        else:
            if public_value is None or numbers is not None:
                raise InvalidInput("a beacon draw takes a public value or a drand round")
            value = clean_text(public_value, "public_value", max_length=1000)
            provenance = {"source": "text"}

        async def work(uow: UnitOfWork) -> Raffle:
            r = await get_raffle(uow, raffle_id, "update")
            if r.status is not RaffleStatus.CLOSED:
                raise RaffleStateConflict(f"raffle {r.id} is {r.status.value}, not closed")
            new = await self._decide(uow, r, drawn, value, provenance)
            await uow.raffles.update(new)
            details = {"value": (value or "")[:200], "numbers": ",".join(map(str, drawn))}
            await uow.audit.add(self._audit(actor, "raffle.draw", r.id, reason, **details))
            return new

        raffle = await self._d.transaction(work)
        paying = pay if pay is not None else raffle.draw_mode is DrawMode.BEACON
        await self._d.publisher.publish(RaffleDrawn(raffle.id, raffle.winners, False))
        if paying:
            raffle = await self._pay(raffle.id)
        return raffle

    def _check_drawn(self, numbers: Sequence[int]) -> tuple[int, ...]:
        if not numbers or len(numbers) > 10_000:
            raise InvalidInput("give 1-10000 drawn numbers")
        for n in numbers:
            if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n < 10**18:
                raise InvalidInput("drawn numbers are non-negative integers")
        return tuple(numbers)

    async def _fetch_round(
        self, drand_round: int, signature: str | None, closed_at: datetime
    ) -> v1.BeaconRound:
        if self._beacon is None:
            raise InvalidInput("no randomness beacon is configured; enter the public value")
        if isinstance(drand_round, bool) or not isinstance(drand_round, int) or drand_round < 1:
            raise InvalidInput("a drand round is a positive integer")
        return await self._beacon.round(drand_round, signature=signature, not_before=closed_at)

    async def _decide(
        self,
        uow: UnitOfWork,
        r: Raffle,
        drawn: tuple[int, ...],
        value: str | None,
        provenance: Mapping[str, object],
    ) -> Raffle:
        """The winners of the raffle's frozen listing, with their prizes (``drawn``)."""
        sold = await uow.raffles.sold_numbers(r.id)
        k = r.category.winners
        if r.draw_mode is DrawMode.LOTTERY:
            numbers = v1.lottery_winners(drawn, r.capacity, sold, k)
        else:
            assert r.commitment is not None
            assert value is not None
            numbers = v1.beacon_winners(r.id, r.commitment, value, sold, k)
        prizes = r.plan().prizes
        held = await uow.raffles.holders_of(r.id, numbers)
        winners = tuple((n, held[n][0], prize) for n, prize in zip(numbers, prizes, strict=False))
        now = self._d.clock.now()
        return r.with_status(
            RaffleStatus.DRAWN,
            now,
            public_value=value,
            drawn_numbers=drawn,
            provenance=dict(provenance),
            winners=winners,
            drawn_at=now,
        )

    async def correct(
        self, actor: Actor, raffle_id: int, numbers: Sequence[int], *, reason: str
    ) -> Raffle:
        """Replace a lottery draw's numbers (a wrong entry), only before the payouts start;
        audited with the old and the new numbers."""
        actor.require_staff()
        reason = clean_reason(reason)
        drawn = self._check_drawn(numbers)

        async def work(uow: UnitOfWork) -> Raffle:
            r = await get_raffle(uow, raffle_id, "update")
            if r.status is not RaffleStatus.DRAWN or r.draw_mode is not DrawMode.LOTTERY:
                raise RaffleStateConflict(f"raffle {r.id} has no lottery draw to correct")
            if r.paying or r.paid_at is not None:
                raise RaffleStateConflict(f"raffle {r.id}'s prizes are paid: too late to correct")
            new = await self._decide(uow, r, drawn, None, r.provenance)
            await uow.raffles.update(new)
            old = ",".join(map(str, r.drawn_numbers))
            await uow.audit.add(
                self._audit(
                    actor, "raffle.correct", r.id, reason, old=old, new=",".join(map(str, drawn))
                )
            )
            return new

        raffle = await self._d.transaction(work)
        await self._d.publisher.publish(RaffleDrawn(raffle.id, raffle.winners, False))
        return raffle

    async def pay(self, actor: Actor, raffle_id: int, progress: Progress | None = None) -> Raffle:
        """Pay a drawn raffle's prizes and rake now (exactly once; a no-op once paid)."""
        actor.require_staff()
        return await self._pay(raffle_id, progress)

    async def resume(self, raffle_id: int, progress: Progress | None = None) -> Raffle:
        """Finish the refunds or payouts of a voided or drawn raffle (idempotent)."""
        r = await self.get(raffle_id)
        if r.status is RaffleStatus.VOIDED:
            return await self._refund(raffle_id, progress)
        if r.status is RaffleStatus.DRAWN:
            return await self._pay(raffle_id, progress)
        return r

    async def _pay(self, raffle_id: int, progress: Progress | None = None) -> Raffle:
        async def start(uow: UnitOfWork) -> Raffle:
            r = await get_raffle(uow, raffle_id, "update")
            if r.status is not RaffleStatus.DRAWN:
                raise RaffleStateConflict(f"raffle {r.id} is {r.status.value}, not drawn")
            if r.paying or r.paid_at is not None:
                return r
            plan = r.plan()
            now = self._d.clock.now()
            if plan.house < 0:  # guaranteed, short of its fund: the house tops the escrow up
                house = await system_account(uow, AccountKind.HOUSE, r.currency)
                (res,) = await uow.ledger.apply(
                    [
                        TransferRequest(
                            raffle_tid("fund", r.id),
                            house.id,
                            r.escrow_account_id,
                            -plan.house,
                            HOUSE_CODE,
                            reference=raffle_ref(r.id),
                            currency=r.currency,
                        )
                    ],
                    now,
                )
                if not res.ok:
                    raise StoreError(f"house funding refused: {res.error}")
            new = dataclasses.replace(r, paying=True, updated_at=now)
            await uow.raffles.update(new)
            return new

        raffle = await self._d.transaction(start)
        if raffle.paid_at is not None:
            return raffle
        plan = raffle.plan()
        accounts = await self._winner_accounts(raffle)
        guaranteed = raffle.category.prize_mode is PrizeMode.GUARANTEED
        runner = PayoutRunner(self._d, chunk_size=self.chunk_size)
        final, _ = await runner.pay(
            Payout(
                raffle.escrow_account_id,
                raffle.currency,
                PRIZE_CODE,
                [
                    PayoutItem(
                        number,
                        accounts[number],
                        prize,
                        raffle_tid("prize", raffle.id, number),
                        raffle_ref(raffle.id),
                    )
                    for number, _, prize in raffle.winners
                ],
                rake=max(plan.house, 0),
                rake_id=raffle_tid("house" if guaranteed else "rake", raffle.id),
                rake_reference=raffle_ref(raffle.id),
                rake_code=HOUSE_CODE if guaranteed else RAKE_CODE,
            ),
            _RafflePayout(raffle, refund=False),
            progress,
        )
        users = sorted({u for _, u, p in raffle.winners if p > 0})
        if users:
            await self._d.publisher.publish(WalletChanged(tuple(users)))
        await self._d.publisher.publish(RaffleDrawn(final.id, final.winners, True))
        return final

    async def _winner_accounts(self, raffle: Raffle) -> dict[int, int]:
        async def read(uow: UnitOfWork) -> dict[int, int]:
            held = await uow.raffles.holders_of(raffle.id, [w[0] for w in raffle.winners])
            return {n: wallet for n, (_, wallet) in held.items()}

        return await self._d.transaction(read)

    # -- the public record ----------------------------------------------------------------
    async def record(self, raffle_id: int) -> dict[str, Any]:
        """The public JSON record of a drawn raffle (``domain/draw.py``, docs/draw.md)."""

        async def read(uow: UnitOfWork) -> tuple[Raffle, list[tuple[int, int]]]:
            return await get_raffle(uow, raffle_id), await uow.raffles.listing_of(raffle_id)

        r, pairs = await self._d.transaction(read)
        if r.status is not RaffleStatus.DRAWN:
            raise RaffleNotFound(f"raffle {r.id} is {r.status.value}: it has no draw record")
        plan = r.plan()
        assert r.closed_at is not None
        return v1.build_record(
            raffle_id=r.id,
            capacity=r.capacity,
            tickets=pairs,
            mode=r.draw_mode.value,
            public_value=r.public_value,
            drawn_numbers=list(r.drawn_numbers) if r.draw_mode is DrawMode.LOTTERY else None,
            provenance=r.provenance,
            winners=list(r.winners),
            rake=plan.rake,
            extra={
                "name": r.name,
                "currency": r.currency,
                "ticket_price": r.price,
                "sales": plan.sales,
                "prize_fund": plan.fund,
                "prize_mode": r.category.prize_mode.value,
                "closed_at": r.closed_at.isoformat(),
                "paid": r.paid_at is not None,
            },
        )

    async def verify(self, raffle_id: int) -> v1.Verdict:
        """Recompute the raffle's winners from its public record."""
        return v1.verify_record(await self.record(raffle_id))
