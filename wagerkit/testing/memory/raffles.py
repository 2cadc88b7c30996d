"""Raffle categories, raffles and tickets in memory, with the SQL tables' unique
(raffle, number) constraint. Locks are no-ops: the store lock serialises transactions."""

from __future__ import annotations

import dataclasses
import weakref
from collections.abc import Sequence
from datetime import datetime

from ...domain.errors import TransientStoreError
from ...domain.ledger import AccountKind
from ...domain.raffles import (
    DrawMode,
    Raffle,
    RaffleCategory,
    RaffleCategoryDraft,
    RaffleDraft,
    RaffleStatus,
    Ticket,
)
from ...ports import NewTicket, PurchaseBatchView
from .state import State, Undo, set_undoable

__all__ = ["MemoryRaffles"]


class _Data:
    def __init__(self) -> None:
        self.categories: dict[int, RaffleCategory] = {}
        self.raffles: dict[int, Raffle] = {}
        self.tickets: dict[int, Ticket] = {}
        self.numbers: dict[tuple[int, int], int] = {}  # (raffle, number) → ticket id


_DATA: weakref.WeakKeyDictionary[State, _Data] = weakref.WeakKeyDictionary()


def due(r: Raffle, now: datetime, stale_before: datetime, hold_before: datetime) -> bool:
    """What ``RaffleRepository.claim_due`` claims (the SQL store's WHERE clause)."""
    if r.status is RaffleStatus.OPEN:
        return r.end <= now
    if r.status not in (RaffleStatus.VOIDED, RaffleStatus.DRAWN) or r.paid_at is not None:
        return False
    if r.status is RaffleStatus.DRAWN and r.draw_mode is DrawMode.LOTTERY and not r.paying:
        return r.updated_at < hold_before
    return r.updated_at < stale_before


class MemoryRaffles:
    def __init__(self, s: State, undo: Undo) -> None:
        data = _DATA.get(s)
        if data is None:
            data = _DATA[s] = _Data()
        self._d, self._undo, self._s = data, undo, s

    # -- categories ---------------------------------------------------------------------------
    async def add_category(self, draft: RaffleCategoryDraft, now: datetime) -> RaffleCategory:
        cid = max(self._d.categories, default=0) + 1
        c = RaffleCategory(
            cid, draft.name, draft.ticket_price, draft.capacity, draft.winners, draft.rake_bps,
            draft.split, draft.prize_mode, draft.colour, draft.currency, now,
        )  # fmt: skip
        set_undoable(self._d.categories, self._undo, cid, c)
        return c

    async def get_category(self, category_id: int) -> RaffleCategory | None:
        return self._d.categories.get(category_id)

    async def list_categories(self) -> list[RaffleCategory]:
        return [self._d.categories[i] for i in sorted(self._d.categories)]

    async def update_category(self, category: RaffleCategory) -> None:
        set_undoable(self._d.categories, self._undo, category.id, category)

    async def delete_category(self, category_id: int) -> None:
        old = self._d.categories.pop(category_id, None)
        if old is not None:
            self._undo.append(lambda: self._d.categories.__setitem__(category_id, old))

    # -- raffles --------------------------------------------------------------------------------
    async def add(
        self, draft: RaffleDraft, category: RaffleCategory, *, escrow_account_id: int, now: datetime
    ) -> Raffle:
        assert draft.min_tickets is not None
        assert draft.max_per_user is not None
        rid = max(self._d.raffles, default=0) + 1
        r = Raffle(
            rid, draft.name, category, draft.start, draft.end, draft.min_tickets,
            draft.max_per_user, draft.draw_mode, draft.lottery_name, draft.lottery_schedule,
            draft.lottery_url, RaffleStatus.OPEN, escrow_account_id, 0, now, now,
        )  # fmt: skip
        set_undoable(self._d.raffles, self._undo, rid, r)
        return r

    async def get(self, raffle_id: int, *, lock: str = "none") -> Raffle | None:
        return self._d.raffles.get(raffle_id)

    async def lock_buyers(self, pairs: Sequence[tuple[int, int]]) -> None:
        return None  # the store lock serialises transactions

    async def read_purchase_batch(
        self,
        raffle_ids: Sequence[int],
        pairs: Sequence[tuple[int, int]],
        keys: Sequence[str],
        wallets: Sequence[tuple[int, str]],
        probes: dict[int, list[int]],
        new_tickets: int,
        users: Sequence[int] = (),
    ) -> PurchaseBatchView:
        found = {rid: r for rid in raffle_ids if (r := self._d.raffles.get(rid)) is not None}
        limited = [
            p for p in pairs if p[0] in found and found[p[0]].max_per_user < found[p[0]].capacity
        ]
        index, transfers = self._s.account_index, self._s.transfers
        ids: dict[tuple[str, str], int] = {}
        for rid, owner in wallets:
            if rid in found:
                key = (owner, found[rid].currency)
                aid = index.get((AccountKind.USER.value, *key))
                if aid is not None:
                    ids[key] = aid
        full = {rid for rid, r in found.items() if r.sold > r.capacity // 2}
        return PurchaseBatchView(
            found,
            await self.user_counts(limited) if limited else {},
            {k: transfers[k] for k in keys if k in transfers},
            await self.purchases(list(keys)) if keys else {},
            ids,
            {
                rid: set(await self.taken_among(rid, nums))
                for rid, nums in probes.items()
                if rid in found and rid not in full
            },
            {rid: await self.sold_numbers(rid) for rid in sorted(full)},
            [],
            {i: dataclasses.replace(u) for i in users if (u := self._s.users.get(i)) is not None},
        )

    async def update(self, raffle: Raffle) -> None:
        old = self._d.raffles[raffle.id]
        new = dataclasses.replace(raffle, sold=old.sold)
        set_undoable(self._d.raffles, self._undo, raffle.id, new)

    async def list_raffles(
        self,
        *,
        statuses: Sequence[RaffleStatus] | None = None,
        limit: int = 50,
        before_id: int | None = None,
    ) -> list[Raffle]:
        out = [
            r
            for i, r in sorted(self._d.raffles.items(), reverse=True)
            if (statuses is None or r.status in statuses) and (before_id is None or i < before_id)
        ]
        return out[:limit]

    async def claim_due(
        self, now: datetime, stale_before: datetime, hold_before: datetime, limit: int
    ) -> list[Raffle]:
        return [
            r for _, r in sorted(self._d.raffles.items()) if due(r, now, stale_before, hold_before)
        ][:limit]

    # -- tickets --------------------------------------------------------------------------------
    async def sold_numbers(self, raffle_id: int) -> list[int]:
        return sorted(n for (r, n) in self._d.numbers if r == raffle_id)

    async def taken_among(self, raffle_id: int, numbers: Sequence[int]) -> list[int]:
        return sorted(n for n in set(numbers) if (raffle_id, n) in self._d.numbers)

    async def user_counts(self, pairs: Sequence[tuple[int, int]]) -> dict[tuple[int, int], int]:
        want = set(pairs)
        out: dict[tuple[int, int], int] = {}
        for t in self._d.tickets.values():
            key = (t.raffle_id, t.user_id)
            if key in want:
                out[key] = out.get(key, 0) + 1
        return out

    async def purchases(self, purchase_ids: Sequence[str]) -> dict[str, list[Ticket]]:
        want = set(purchase_ids)
        out: dict[str, list[Ticket]] = {}
        for t in self._d.tickets.values():
            if t.purchase in want:
                out.setdefault(t.purchase, []).append(t)
        return {k: sorted(v, key=lambda t: t.number) for k, v in out.items()}

    async def add_tickets(
        self, tickets: Sequence[NewTicket], *, ids: Sequence[int] | None = None
    ) -> list[Ticket]:
        if len({(t.raffle_id, t.number) for t in tickets}) != len(tickets) or any(
            (t.raffle_id, t.number) in self._d.numbers for t in tickets
        ):
            raise TransientStoreError()  # the unique constraint: the retry sees it sold
        out = []
        next_id = max(self._d.tickets, default=0) + 1
        for i, new in enumerate(tickets):
            t = Ticket(
                next_id + i, new.raffle_id, new.number, new.user_id, new.price,
                new.wallet_account_id, new.purchase, new.bought_at,
            )  # fmt: skip
            set_undoable(self._d.tickets, self._undo, t.id, t)
            set_undoable(self._d.numbers, self._undo, (t.raffle_id, t.number), t.id)
            out.append(t)
        counts: dict[int, int] = {}
        for new in tickets:
            counts[new.raffle_id] = counts.get(new.raffle_id, 0) + 1
        for rid, n in counts.items():
            r = self._d.raffles[rid]
            set_undoable(self._d.raffles, self._undo, rid, dataclasses.replace(r, sold=r.sold + n))
        return out

    async def tickets_of(self, raffle_id: int) -> list[Ticket]:
        return [
            self._d.tickets[i] for (r, _), i in sorted(self._d.numbers.items()) if r == raffle_id
        ]

    async def listing_of(self, raffle_id: int) -> list[tuple[int, int]]:
        return [(t.number, t.user_id) for t in await self.tickets_of(raffle_id)]

    async def holders_of(
        self, raffle_id: int, numbers: Sequence[int]
    ) -> dict[int, tuple[int, int]]:
        out = {}
        for n in numbers:
            tid = self._d.numbers.get((raffle_id, n))
            if tid is not None:
                t = self._d.tickets[tid]
                out[n] = (t.user_id, t.wallet_account_id)
        return out

    async def list_tickets(
        self,
        *,
        raffle_id: int | None = None,
        user_id: int | None = None,
        limit: int = 50,
        before_id: int | None = None,
    ) -> list[Ticket]:
        out = [
            t
            for i, t in sorted(self._d.tickets.items(), reverse=True)
            if (raffle_id is None or t.raffle_id == raffle_id)
            and (user_id is None or t.user_id == user_id)
            and (before_id is None or i < before_id)
        ]
        return out[:limit]

    async def record_prizes(self, raffle_id: int, prizes: Sequence[tuple[int, int]]) -> None:
        for number, prize in prizes:
            tid = self._d.numbers[(raffle_id, number)]
            t = self._d.tickets[tid]
            set_undoable(self._d.tickets, self._undo, tid, dataclasses.replace(t, prize=prize))

    async def record_refunds(self, ticket_ids: Sequence[int]) -> None:
        for tid in ticket_ids:
            t = self._d.tickets[tid]
            set_undoable(self._d.tickets, self._undo, tid, dataclasses.replace(t, refunded=True))
