"""Raffle tickets once sold (``uow.raffles``' ticket half, the base of ``SqlRaffles``): the
listing a close commits to and a draw reads, holders of the winning numbers, a user's or a
raffle's tickets, prizes and refunds. On PostgreSQL the listing of a million tickets is read
as the driver's tuples in one statement."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, select, update

from ...domain.raffles import Ticket
from .session import Repository
from .tables import raffle_tickets

__all__ = ["SqlRaffleTickets"]

_CHUNK = 500


def _ticket(m: Mapping[str, Any]) -> Ticket:
    return Ticket(
        m["id"], m["raffle_id"], m["number"], m["user_id"], m["price"], m["wallet_account_id"],
        m["purchase"], m["bought_at"], m["prize"], m["refunded"],
    )  # fmt: skip


class SqlRaffleTickets(Repository):
    """The ticket half of the raffles repository (``SqlRaffles`` adds the rest)."""

    async def tickets_of(self, raffle_id: int) -> list[Ticket]:
        t = raffle_tickets.c
        res = await self._c.execute(
            select(raffle_tickets).where(t.raffle_id == raffle_id).order_by(t.number)
        )
        return [_ticket(m) for m in res.mappings()]

    async def _raw_rows(self, sql: str, raffle_id: int) -> list[Any]:
        """PostgreSQL: the driver's tuples, no row objects (a million rows, one statement)."""
        return await self._s.driver_rows(sql, (raffle_id,))

    async def listing_of(self, raffle_id: int) -> list[tuple[int, int]]:
        t = raffle_tickets.c
        if self._pg:
            return await self._raw_rows(
                "SELECT number, user_id FROM raffle_tickets WHERE raffle_id = %s ORDER BY number",
                raffle_id,
            )
        res = await self._c.execute(
            select(t.number, t.user_id).where(t.raffle_id == raffle_id).order_by(t.number)
        )
        return [(n, u) for n, u in res]

    async def holders_of(
        self, raffle_id: int, numbers: Sequence[int]
    ) -> dict[int, tuple[int, int]]:
        t = raffle_tickets.c
        out: dict[int, tuple[int, int]] = {}
        for start in range(0, len(numbers), _CHUNK):
            chunk = list(numbers[start : start + _CHUNK])
            res = await self._c.execute(
                select(t.number, t.user_id, t.wallet_account_id).where(
                    t.raffle_id == raffle_id, t.number.in_(chunk)
                )
            )
            out.update({n: (u, w) for n, u, w in res})
        return out

    async def list_tickets(
        self,
        *,
        raffle_id: int | None = None,
        user_id: int | None = None,
        limit: int = 50,
        before_id: int | None = None,
    ) -> list[Ticket]:
        t = raffle_tickets.c
        q = select(raffle_tickets).order_by(t.id.desc()).limit(limit)
        if raffle_id is not None:
            q = q.where(t.raffle_id == raffle_id)
        if user_id is not None:
            q = q.where(t.user_id == user_id)
        if before_id is not None:
            q = q.where(t.id < before_id)
        return [_ticket(m) for m in (await self._c.execute(q)).mappings()]

    async def record_prizes(self, raffle_id: int, prizes: Sequence[tuple[int, int]]) -> None:
        if not prizes:
            return
        t = raffle_tickets.c
        await self._c.execute(
            update(raffle_tickets)
            .where(t.raffle_id == bindparam("rid"), t.number == bindparam("num"))
            .values(prize=bindparam("amount")),
            [{"rid": raffle_id, "num": n, "amount": p} for n, p in prizes],
        )

    async def record_refunds(self, ticket_ids: Sequence[int]) -> None:
        for start in range(0, len(ticket_ids), _CHUNK):
            chunk = list(ticket_ids[start : start + _CHUNK])
            await self._c.execute(
                update(raffle_tickets).where(raffle_tickets.c.id.in_(chunk)).values(refunded=True)
            )
