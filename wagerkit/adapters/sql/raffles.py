"""Raffle categories, raffles and tickets (``uow.raffles``) on the SQL unit of work.

Locks (PostgreSQL; SQLite runs one writer at a time and ignores them): purchase batches read
their raffles ``FOR KEY SHARE`` (``read_purchase_batch``), so batches of one raffle run at the
same time across processes, and hold each buyer of a raffle with a per-user limit by a
transaction-level advisory lock (``lock_buyers``, in key order, in a statement before the
read: the counts the read sees are exact). ``lock="share"`` is ``FOR NO KEY UPDATE``,
``lock="update"`` ``FOR UPDATE`` (a close waits for the purchases in flight); ``claim_due`` is
``FOR UPDATE SKIP LOCKED``. A number is sold once: the unique (raffle_id, number) constraint
refuses a second sale, which the unit of work reports as ``TransientStoreError`` (the retried
purchase sees the number sold). Set-based writes: a batch's tickets are one multi-row INSERT
(on PostgreSQL with the raffles' ``sold``, and with reserved ids sent with the COMMIT), prizes
one ``UPDATE … FROM (VALUES …)`` (SQLite: ``executemany``), refunds one ``UPDATE … WHERE id IN``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, text, tuple_, update

from ...domain.ledger import AccountKind
from ...domain.raffles import (
    DrawMode,
    PrizeMode,
    Raffle,
    RaffleCategory,
    RaffleCategoryDraft,
    RaffleDraft,
    RaffleStatus,
    Ticket,
)
from ...ports import NewTicket, PurchaseBatchView
from .ledger import _transfer
from .raffles_batch import ADD_RESERVED_DRIVER, ADD_RESERVED_SA, LOCK_BUYERS, READ_BATCH
from .raffles_tickets import SqlRaffleTickets, _ticket
from .session import dump_json, int_array
from .session import utc as _utc
from .tables import accounts, raffle_categories, raffle_tickets, raffles, transfers
from .tables.raffles import _RAFFLE_PENDING
from .users import SqlUsers, user_from_json

__all__ = ["SqlRaffles"]

# PostgreSQL: a purchase batch's tickets and the raffles' sold counts in one statement (the
# rows as one JSON parameter); a number sold twice fails on the unique constraint
_ADD_TICKETS = """
WITH ins AS (
    INSERT INTO raffle_tickets (raffle_id, number, user_id, price, wallet_account_id, purchase,
                                bought_at, prize, refunded)
    SELECT r.raffle_id, r.number, r.user_id, r.price, r.wallet_account_id, r.purchase,
           r.bought_at, 0, false
    FROM json_to_recordset(CAST(:rows AS json)) AS r(raffle_id bigint, number integer,
         user_id bigint, price bigint, wallet_account_id bigint, purchase text,
         bought_at timestamptz)
    RETURNING id, raffle_id, number
), counted AS (
    UPDATE raffles SET sold = raffles.sold + c.n
    FROM (SELECT raffle_id, count(*) AS n FROM ins GROUP BY raffle_id) AS c
    WHERE raffles.id = c.raffle_id
)
SELECT id, raffle_id, number FROM ins
"""

_RAFFLE_TIMES = ("start_at", "end_at", "created_at", "updated_at", "closed_at", "drawn_at",
                 "paid_at")  # fmt: skip
_INT4 = 2_147_483_647

_CHUNK = 500


def _split(text_: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text_.split(",")) if text_ else ()


def _category(m: Mapping[str, Any], *, raffle: bool = False) -> RaffleCategory:
    return RaffleCategory(
        id=m["category_id"] if raffle else m["id"],
        name=m["category_name"] if raffle else m["name"],
        ticket_price=m["ticket_price"],
        capacity=m["capacity"],
        winners=m["winners"],
        rake_bps=m["rake_bps"],
        split=_split(m["split"]),
        prize_mode=PrizeMode(m["prize_mode"]),
        colour=m["colour"],
        currency=m["currency"],
        created_at=m["created_at"],
    )


def _raffle(m: Mapping[str, Any]) -> Raffle:
    return Raffle(
        id=m["id"],
        name=m["name"],
        category=_category(m, raffle=True),
        start=m["start_at"],
        end=m["end_at"],
        min_tickets=m["min_tickets"],
        max_per_user=m["max_per_user"],
        draw_mode=DrawMode(m["draw_mode"]),
        lottery_name=m["lottery_name"],
        lottery_schedule=m["lottery_schedule"],
        lottery_url=m["lottery_url"],
        status=RaffleStatus(m["status"]),
        escrow_account_id=m["escrow_account_id"],
        sold=m["sold"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        commitment=m["commitment"],
        closed_at=m["closed_at"],
        public_value=m["public_value"],
        drawn_numbers=tuple(json.loads(m["drawn_numbers"])),
        provenance=json.loads(m["provenance"]),
        winners=tuple(tuple(w) for w in json.loads(m["winners_json"])),
        drawn_at=m["drawn_at"],
        paying=m["paying"],
        paid_at=m["paid_at"],
        void_reason=m["void_reason"],
    )


def _json_raffle(m: Mapping[str, Any]) -> Raffle:
    """A raffle from ``raffles_batch.READ_BATCH``'s JSON (timestamps as ISO text)."""
    return _raffle(
        {k: (_utc(v) if k in _RAFFLE_TIMES and v is not None else v) for k, v in m.items()}
    )


def _values(r: Raffle) -> dict[str, Any]:
    """Every column of the raffle row but ``id`` and ``sold``."""
    c = r.category
    return {
        "name": r.name,
        "category_id": c.id,
        "category_name": c.name,
        "ticket_price": c.ticket_price,
        "capacity": c.capacity,
        "winners": c.winners,
        "rake_bps": c.rake_bps,
        "split": ",".join(map(str, c.split)),
        "prize_mode": c.prize_mode.value,
        "colour": c.colour,
        "currency": c.currency,
        "start_at": r.start,
        "end_at": r.end,
        "min_tickets": r.min_tickets,
        "max_per_user": r.max_per_user,
        "draw_mode": r.draw_mode.value,
        "lottery_name": r.lottery_name,
        "lottery_schedule": r.lottery_schedule,
        "lottery_url": r.lottery_url,
        "status": r.status.value,
        "escrow_account_id": r.escrow_account_id,
        "commitment": r.commitment,
        "closed_at": r.closed_at,
        "public_value": r.public_value,
        "drawn_numbers": json.dumps(list(r.drawn_numbers)),
        "provenance": json.dumps(r.provenance, sort_keys=True),
        "winners_json": json.dumps([list(w) for w in r.winners]),
        "drawn_at": r.drawn_at,
        "paying": r.paying,
        "paid_at": r.paid_at,
        "void_reason": r.void_reason,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
    }


class SqlRaffles(SqlRaffleTickets):
    # -- categories ---------------------------------------------------------------------------
    async def add_category(self, draft: RaffleCategoryDraft, now: datetime) -> RaffleCategory:
        row = {
            "name": draft.name,
            "ticket_price": draft.ticket_price,
            "capacity": draft.capacity,
            "winners": draft.winners,
            "rake_bps": draft.rake_bps,
            "split": ",".join(map(str, draft.split)),
            "prize_mode": PrizeMode(draft.prize_mode).value,
            "colour": draft.colour,
            "currency": draft.currency,
            "created_at": now,
        }
        res = await self._c.execute(
            insert(raffle_categories).values(row).returning(raffle_categories.c.id)
        )
        return _category({**row, "id": res.scalar_one(), "created_at": _utc(now)})

    async def get_category(self, category_id: int) -> RaffleCategory | None:
        res = await self._c.execute(
            select(raffle_categories).where(raffle_categories.c.id == category_id)
        )
        m = res.mappings().first()
        return None if m is None else _category(m)

    async def list_categories(self) -> list[RaffleCategory]:
        res = await self._c.execute(select(raffle_categories).order_by(raffle_categories.c.id))
        return [_category(m) for m in res.mappings()]

    async def update_category(self, category: RaffleCategory) -> None:
        c = category
        await self._c.execute(
            update(raffle_categories)
            .where(raffle_categories.c.id == c.id)
            .values(
                name=c.name,
                ticket_price=c.ticket_price,
                capacity=c.capacity,
                winners=c.winners,
                rake_bps=c.rake_bps,
                split=",".join(map(str, c.split)),
                prize_mode=c.prize_mode.value,
                colour=c.colour,
                currency=c.currency,
            )
        )

    async def delete_category(self, category_id: int) -> None:
        await self._c.execute(
            delete(raffle_categories).where(raffle_categories.c.id == category_id)
        )

    # -- raffles --------------------------------------------------------------------------------
    async def add(
        self, draft: RaffleDraft, category: RaffleCategory, *, escrow_account_id: int, now: datetime
    ) -> Raffle:
        assert draft.min_tickets is not None
        assert draft.max_per_user is not None
        proto = Raffle(
            0, draft.name, category, _utc(draft.start), _utc(draft.end), draft.min_tickets,
            draft.max_per_user, draft.draw_mode, draft.lottery_name, draft.lottery_schedule,
            draft.lottery_url, RaffleStatus.OPEN, escrow_account_id, 0, _utc(now), _utc(now),
        )  # fmt: skip
        res = await self._c.execute(
            insert(raffles).values({**_values(proto), "sold": 0}).returning(raffles.c.id)
        )
        rid = res.scalar_one()
        return Raffle(**{**{f: getattr(proto, f) for f in proto.__slots__}, "id": rid})

    async def get(self, raffle_id: int, *, lock: str = "none") -> Raffle | None:
        q = select(raffles).where(raffles.c.id == raffle_id)
        if self._pg and lock == "share":
            q = q.with_for_update(key_share=True)
        elif self._pg and lock == "update":
            q = q.with_for_update()
        m = (await self._c.execute(q)).mappings().first()
        return None if m is None else _raffle(m)

    async def lock_buyers(self, pairs: Sequence[tuple[int, int]]) -> None:
        if not self._pg or not pairs:  # SQLite: BEGIN IMMEDIATE, one writer at a time
            return
        keys = sorted({(r % _INT4, u % _INT4) for r, u in pairs})
        await self._c.execute(
            LOCK_BUYERS, {"r": int_array(r for r, _ in keys), "u": int_array(u for _, u in keys)}
        )

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
        kind = AccountKind.USER.value
        if not self._pg:
            return await self._read_batch_sqlite(raffle_ids, pairs, keys, wallets, probes, users)
        qs = sorted({(rid, n) for rid, nums in probes.items() for n in nums})
        ps = sorted(set(pairs))
        row, *_ = await self._s.driver_rows(
            READ_BATCH,
            {
                "ids": int_array(sorted(set(raffle_ids))),
                "pr": int_array(r for r, _ in ps),
                "pu": int_array(u for _, u in ps),
                "keys": dump_json(sorted(set(keys))),
                "wallets": dump_json([{"r": r, "o": o} for r, o in sorted(set(wallets))]),
                "kind": kind,
                "qr": int_array(r for r, _ in qs),
                "qn": int_array(n for _, n in qs),
                "n": new_tickets,
                "uids": int_array(sorted(set(users))),
            },
        )
        found = [_json_raffle(m) for m in row[0] or ()]
        earlier: dict[str, list[Ticket]] = {}
        for m in row[3] or ():
            earlier.setdefault(m["purchase"], []).append(
                _ticket({**m, "bought_at": _utc(m["bought_at"])})
            )
        taken: dict[int, set[int]] = {}
        for rid, n in row[5] or ():
            taken.setdefault(rid, set()).add(n)
        return PurchaseBatchView(
            {r.id: r for r in found},
            {(r, u): n for r, u, n in row[1] or () if n},
            {t.id: t for t in (_transfer(d) for d in row[2] or ())},
            earlier,
            {(o, c): a for o, c, a in row[4] or ()},
            taken,
            {rid: sorted(nums) for rid, nums in row[6] or ()},
            list(row[7] or ()),
            {u.id: u for u in map(user_from_json, row[8] or ())},
        )

    async def _read_batch_sqlite(
        self,
        raffle_ids: Sequence[int],
        pairs: Sequence[tuple[int, int]],
        keys: Sequence[str],
        wallets: Sequence[tuple[int, str]],
        probes: dict[int, list[int]],
        users: Sequence[int] = (),
    ) -> PurchaseBatchView:
        """SQLite: one writer at a time (BEGIN IMMEDIATE), so any order of reads is one view."""
        found: dict[int, Raffle] = {}
        for rid in sorted(set(raffle_ids)):
            r = await self.get(rid)
            if r is not None:
                found[rid] = r
        limited = [
            p for p in pairs if p[0] in found and found[p[0]].max_per_user < found[p[0]].capacity
        ]
        prior: dict[str, Any] = {}
        wanted = sorted(set(keys))
        for start in range(0, len(wanted), _CHUNK):
            q = select(transfers).where(transfers.c.id.in_(wanted[start : start + _CHUNK]))
            prior.update((r.id, _transfer(r)) for r in await self._c.execute(q))
        specs = sorted({(o, found[r].currency) for r, o in wallets if r in found})
        ids: dict[tuple[str, str], int] = {}
        for start in range(0, len(specs), _CHUNK):
            a = accounts.c
            q = select(a.owner, a.currency, a.id).where(
                a.kind == AccountKind.USER.value,
                tuple_(a.owner, a.currency).in_(specs[start : start + _CHUNK]),
            )
            ids.update(((r.owner, r.currency), r.id) for r in await self._c.execute(q))
        full = {rid for rid, r in found.items() if r.sold > r.capacity // 2}
        return PurchaseBatchView(
            found,
            await self.user_counts(limited) if limited else {},
            prior,
            await self.purchases(sorted(prior)) if prior else {},
            ids,
            {
                rid: set(await self.taken_among(rid, nums))
                for rid, nums in probes.items()
                if rid in found and rid not in full
            },
            {rid: await self.sold_numbers(rid) for rid in sorted(full)},
            [],
            await SqlUsers(self._s).get_many(users) if users else {},
        )

    async def update(self, raffle: Raffle) -> None:
        await self._c.execute(
            update(raffles).where(raffles.c.id == raffle.id).values(_values(raffle))
        )

    async def list_raffles(
        self,
        *,
        statuses: Sequence[RaffleStatus] | None = None,
        limit: int = 50,
        before_id: int | None = None,
    ) -> list[Raffle]:
        q = select(raffles).order_by(raffles.c.id.desc()).limit(limit)
        if statuses is not None:
            q = q.where(raffles.c.status.in_([s.value for s in statuses]))
        if before_id is not None:
            q = q.where(raffles.c.id < before_id)
        return [_raffle(m) for m in (await self._c.execute(q)).mappings()]

    async def claim_due(
        self, now: datetime, stale_before: datetime, hold_before: datetime, limit: int
    ) -> list[Raffle]:
        r = raffles.c
        unpaid = and_(r.paid_at.is_(None), r.status.in_(("drawn", "voided")))
        holding = and_(r.status == "drawn", r.draw_mode == "lottery", r.paying.is_(False))
        q = (
            select(raffles)
            .where(
                text(f"({_RAFFLE_PENDING})"),
                or_(
                    and_(r.status == "open", r.end_at <= now),
                    and_(unpaid, holding, r.updated_at < hold_before),
                    and_(unpaid, ~holding, r.updated_at < stale_before),
                ),
            )
            .order_by(r.id)
            .limit(limit)
        )
        if self._pg:
            q = q.with_for_update(skip_locked=True)
        return [_raffle(m) for m in (await self._c.execute(q)).mappings()]

    # -- tickets --------------------------------------------------------------------------------
    async def sold_numbers(self, raffle_id: int) -> list[int]:
        t = raffle_tickets.c
        if self._pg:
            rows = await self._raw_rows(
                "SELECT number FROM raffle_tickets WHERE raffle_id = %s ORDER BY number", raffle_id
            )
            return [n for (n,) in rows]
        res = await self._c.execute(
            select(t.number).where(t.raffle_id == raffle_id).order_by(t.number)
        )
        return list(res.scalars())

    async def taken_among(self, raffle_id: int, numbers: Sequence[int]) -> list[int]:
        t = raffle_tickets.c
        out: list[int] = []
        wanted = sorted(set(numbers))
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            res = await self._c.execute(
                select(t.number).where(t.raffle_id == raffle_id, t.number.in_(chunk))
            )
            out += list(res.scalars())
        return sorted(out)

    async def user_counts(self, pairs: Sequence[tuple[int, int]]) -> dict[tuple[int, int], int]:
        t = raffle_tickets.c
        out: dict[tuple[int, int], int] = {}
        for start in range(0, len(pairs), _CHUNK):
            chunk = list(pairs[start : start + _CHUNK])
            res = await self._c.execute(
                select(t.raffle_id, t.user_id, func.count())
                .where(tuple_(t.raffle_id, t.user_id).in_(chunk))
                .group_by(t.raffle_id, t.user_id)
            )
            out.update({(r, u): n for r, u, n in res})
        return out

    async def purchases(self, purchase_ids: Sequence[str]) -> dict[str, list[Ticket]]:
        t = raffle_tickets.c
        out: dict[str, list[Ticket]] = {}
        for start in range(0, len(purchase_ids), _CHUNK):
            chunk = list(purchase_ids[start : start + _CHUNK])
            res = await self._c.execute(
                select(raffle_tickets).where(t.purchase.in_(chunk)).order_by(t.number)
            )
            for m in res.mappings():
                out.setdefault(m["purchase"], []).append(_ticket(m))
        return out

    async def add_tickets(
        self, tickets: Sequence[NewTicket], *, ids: Sequence[int] | None = None
    ) -> list[Ticket]:
        if self._pg and ids is not None:  # ids reserved: the write goes with the COMMIT
            return self._add_reserved(tickets, ids)
        rows = [
            {
                "raffle_id": n.raffle_id,
                "number": n.number,
                "user_id": n.user_id,
                "price": n.price,
                "wallet_account_id": n.wallet_account_id,
                "purchase": n.purchase,
                "bought_at": n.bought_at,
                "prize": 0,
                "refunded": False,
            }
            for n in tickets
        ]
        found: dict[tuple[int, int], int] = {}
        t = raffle_tickets.c
        if self._pg:  # one statement: the tickets and every raffle's sold count
            payload = [
                {**row, "bought_at": _utc(n.bought_at).isoformat()}
                for row, n in zip(rows, tickets, strict=True)
            ]
            res = await self._c.execute(text(_ADD_TICKETS), {"rows": dump_json(payload)})
            found.update({(r, n): tid for tid, r, n in res})
            rows = []
        for start in range(0, len(rows), _CHUNK):  # SQLite: one multi-row INSERT per chunk
            res = await self._c.execute(
                insert(raffle_tickets)
                .values(rows[start : start + _CHUNK])
                .returning(t.id, t.raffle_id, t.number)
            )
            found.update({(r, n): tid for tid, r, n in res})
        counts: dict[int, int] = {}
        for n in tickets:
            counts[n.raffle_id] = counts.get(n.raffle_id, 0) + 1
        for rid in sorted(counts) if not self._pg else ():
            await self._c.execute(
                update(raffles).where(raffles.c.id == rid).values(sold=raffles.c.sold + counts[rid])
            )
        return [
            Ticket(
                tid,
                n.raffle_id,
                n.number,
                n.user_id,
                n.price,
                n.wallet_account_id,
                n.purchase,
                _utc(n.bought_at),
            )
            for n in tickets
            for tid in (found[n.raffle_id, n.number],)
        ]

    def _add_reserved(self, tickets: Sequence[NewTicket], ids: Sequence[int]) -> list[Ticket]:
        payload = dump_json(
            [
                {
                    "id": tid,
                    "raffle_id": n.raffle_id,
                    "number": n.number,
                    "user_id": n.user_id,
                    "price": n.price,
                    "wallet_account_id": n.wallet_account_id,
                    "purchase": n.purchase,
                    "bought_at": _utc(n.bought_at).isoformat(),
                }
                for n, tid in zip(tickets, ids, strict=False)
            ]
        )
        if len(ids) < len(tickets):
            raise ValueError("fewer reserved ids than tickets")
        self._s.defer(ADD_RESERVED_SA, ADD_RESERVED_DRIVER, {"rows": payload})
        return [
            Ticket(tid, n.raffle_id, n.number, n.user_id, n.price, n.wallet_account_id,
                   n.purchase, _utc(n.bought_at))
            for n, tid in zip(tickets, ids, strict=False)
        ]  # fmt: skip
