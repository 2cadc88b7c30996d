"""The orders area (``uow.orders``) on the SQL unit of work's connection (docs/orders.md).

Orders are locked ``FOR UPDATE`` in id order (PostgreSQL; SQLite's ``BEGIN IMMEDIATE``
already runs one writer at a time); the job runner's claim skips rows another runner holds
(``SKIP LOCKED``). A partial unique index keeps one active order per contact: a concurrent
second insert fails as a lost race (``TransientStoreError``) and the retried unit of work sees
the first. A take batch is one read (``read_take_batch``) and one write (``add_takes``: the
takes and the orders' counts, sent with the COMMIT on PostgreSQL; orders_batch.py); refunds
are marked in one statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    and_,
    bindparam,
    func,
    insert,
    not_,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.engine import Row

from ...domain.errors import AlreadyExists
from ...domain.ledger import AccountKind
from ...domain.orders import (
    Complaint,
    ContactReport,
    Order,
    OrderCategory,
    OrderStats,
    OrderStatus,
    ReportStatus,
    Review,
    Take,
)
from ...ports import TakeBatchView
from .order_preferences import SqlOrderPreferences
from .orders_batch import pg_read_take_batch, pg_write_takes
from .session import utc
from .tables import (
    accounts,
    order_categories,
    order_complaints,
    order_reports,
    order_reviews,
    order_takes,
    orders,
)
from .users import SqlUsers

__all__ = ["SqlOrders"]

_o = orders.c


def _order(r: Any) -> Order:
    """An order from a row (or anything with its columns as attributes)."""
    return Order(
        r.id,
        r.client_id,
        r.category,
        r.description,
        r.city,
        r.contact,
        OrderStatus(r.status),
        utc(r.created_at),
        utc(r.expires_at),
        utc(r.updated_at),
        r.fee,
        r.max_executors,
        r.response_minutes,
        r.currency,
        r.takers,
        r.responded,
        utc(r.respond_by),
        utc(r.closed_at),
    )


def _values(o: Order) -> dict[str, Any]:
    return {
        "category": o.category,
        "description": o.description,
        "city": o.city,
        "city_key": o.city.casefold(),
        "contact": o.contact,
        "status": o.status.value,
        "expires_at": o.expires_at,
        "updated_at": o.updated_at,
        "fee": o.fee,
        "max_executors": o.max_executors,
        "response_minutes": o.response_minutes,
        "takers": o.takers,
        "responded": o.responded,
        "respond_by": o.respond_by,
        "closed_at": o.closed_at,
    }


def _take(r: Row[Any]) -> Take:
    return Take(r.order_id, r.executor_id, r.fee, r.transfer_id, utc(r.taken_at), r.refunded)


def _report(r: Row[Any]) -> ContactReport:
    return ContactReport(
        r.id,
        r.order_id,
        r.executor_id,
        r.reason,
        ReportStatus(r.status),
        utc(r.created_at),
        utc(r.decided_at),
        r.decided_by,
    )


class SqlOrders(SqlOrderPreferences):
    # -- categories ------------------------------------------------------------------------
    async def categories(self) -> list[OrderCategory]:
        c = order_categories.c
        rows = await self._c.execute(select(order_categories).order_by(c.slug))
        return [
            OrderCategory(
                r.slug,
                r.name,
                r.fee,
                r.max_executors,
                r.lifetime_minutes,
                r.response_minutes,
                r.active,
            )
            for r in rows
        ]

    async def put_category(self, category: OrderCategory) -> None:
        values = {
            "slug": category.slug,
            "name": category.name,
            "fee": category.fee,
            "max_executors": category.max_executors,
            "lifetime_minutes": category.lifetime_minutes,
            "response_minutes": category.response_minutes,
            "active": category.active,
        }
        q = self._insert(order_categories).values(values)
        q = q.on_conflict_do_update(index_elements=["slug"], set_=values)
        await self._c.execute(q)

    # -- orders ------------------------------------------------------------------------------
    async def add(self, order: Order) -> None:
        values = {
            **_values(order),
            "id": order.id,
            "client_id": order.client_id,
            "created_at": order.created_at,
            "currency": order.currency,
        }
        await self._c.execute(insert(orders).values(values))

    async def active_for_contact(self, contact: str) -> Order | None:
        q = select(orders).where(_o.contact == contact, _o.status == OrderStatus.ACTIVE.value)
        r = (await self._c.execute(q)).first()
        return _order(r) if r else None

    async def get_many(self, order_ids: Sequence[str], *, lock: bool = False) -> dict[str, Order]:
        wanted = sorted(set(order_ids))
        if not wanted:
            return {}
        q = select(orders).where(_o.id.in_(wanted)).order_by(_o.id)
        if lock and self._pg:
            q = q.with_for_update()
        return {r.id: _order(r) for r in await self._c.execute(q)}

    async def update(self, order: Order) -> None:
        await self._c.execute(update(orders).where(_o.id == order.id).values(_values(order)))

    async def list_orders(
        self,
        *,
        category: str | None = None,
        city: str | None = None,
        status: OrderStatus | None = None,
        client_id: int | None = None,
        limit: int = 50,
        offset: int = 0,
        created_after: datetime | None = None,
    ) -> list[Order]:
        q = select(orders).order_by(_o.created_at.desc(), _o.id.desc()).limit(limit)
        if offset:
            q = q.offset(offset)
        if category is not None:
            q = q.where(_o.category == category)
        if city is not None:
            q = q.where(_o.city_key == city.casefold())
        if status is not None:
            q = q.where(_o.status == status.value)
        if client_id is not None:
            q = q.where(_o.client_id == client_id)
        if created_after is not None:
            q = q.where(_o.created_at > created_after)
        return [_order(r) for r in await self._c.execute(q)]

    # -- takes -------------------------------------------------------------------------------
    async def takes_of(self, order_ids: Sequence[str]) -> dict[str, list[Take]]:
        wanted = sorted(set(order_ids))
        if not wanted:
            return {}
        t = order_takes.c
        q = select(order_takes).where(t.order_id.in_(wanted)).order_by(t.taken_at, t.executor_id)
        out: dict[str, list[Take]] = {}
        for r in await self._c.execute(q):
            out.setdefault(r.order_id, []).append(_take(r))
        return out

    async def takes_by(self, executor_id: int, *, limit: int = 100) -> list[Take]:
        t = order_takes.c
        q = (
            select(order_takes)
            .where(t.executor_id == executor_id)
            .order_by(t.taken_at.desc())
            .limit(limit)
        )
        return [_take(r) for r in await self._c.execute(q)]

    async def read_take_batch(
        self,
        order_ids: Sequence[str],
        wallets: Sequence[tuple[str, str]],
        house: str,
        users: Sequence[int] = (),
    ) -> TakeBatchView:
        if self._pg:
            return await pg_read_take_batch(
                self._s, order_ids, wallets, house, users, _order, self.takes_of
            )
        # SQLite: one writer at a time (BEGIN IMMEDIATE), so any order of reads is one view
        found = await self.get_many(order_ids, lock=True)
        a = accounts.c
        specs = sorted({(w, found[o].currency) for o, w in wallets if o in found})
        ids: dict[tuple[str, str], int] = {}
        for start in range(0, len(specs), 500):
            q = select(a.owner, a.currency, a.id).where(
                a.kind == AccountKind.USER.value,
                tuple_(a.owner, a.currency).in_(specs[start : start + 500]),
            )
            ids.update(((r.owner, r.currency), r.id) for r in await self._c.execute(q))
        q = select(a.currency, a.id).where(
            a.kind == AccountKind.HOUSE.value,
            a.owner == house,
            a.currency.in_(sorted({o.currency for o in found.values()})),
        )
        houses = {r.currency: r.id for r in await self._c.execute(q)}
        people = await SqlUsers(self._s).get_many(users) if users else {}
        return TakeBatchView(found, await self.takes_of(list(found)), ids, houses, people)

    async def add_takes(self, takes: Sequence[Take], orders_: Sequence[Order]) -> None:
        if self._pg:  # one statement, with the COMMIT
            if takes or orders_:
                pg_write_takes(self._s, takes, orders_)
            return
        if orders_:  # SQLite: one executemany
            await self._c.execute(
                update(orders)
                .where(_o.id == bindparam("o_id"))
                .values(
                    takers=bindparam("o_takers"),
                    respond_by=bindparam("o_respond_by"),
                    updated_at=bindparam("o_updated_at"),
                ),
                [
                    {
                        "o_id": o.id,
                        "o_takers": o.takers,
                        "o_respond_by": o.respond_by,
                        "o_updated_at": o.updated_at,
                    }
                    for o in orders_
                ],
            )
        if not takes:
            return
        await self._c.execute(
            insert(order_takes),
            [
                {
                    "order_id": t.order_id,
                    "executor_id": t.executor_id,
                    "fee": t.fee,
                    "transfer_id": t.transfer_id,
                    "taken_at": t.taken_at,
                    "refunded": t.refunded,
                }
                for t in takes
            ],
        )

    async def mark_refunded(self, pairs: Sequence[tuple[str, int]]) -> None:
        if not pairs:
            return
        t = order_takes.c
        cond = or_(*(and_(t.order_id == o, t.executor_id == e) for o, e in sorted(set(pairs))))
        await self._c.execute(update(order_takes).where(cond).values(refunded=True))

    async def claim_due(self, now: datetime, limit: int) -> list[Order]:
        q = (
            select(orders)
            .where(
                _o.status == OrderStatus.ACTIVE.value,
                or_(
                    _o.expires_at <= now,
                    and_(_o.respond_by.is_not(None), not_(_o.responded), _o.respond_by <= now),
                ),
            )
            .order_by(_o.id)
            .limit(limit)
        )
        if self._pg:
            q = q.with_for_update(skip_locked=True)
        return [_order(r) for r in await self._c.execute(q)]

    # -- a user's stats -------------------------------------------------------------------------
    async def stats(self, user_id: int) -> OrderStats:
        """Two aggregate statements: the user's orders grouped by status (the client_id
        index), and a count of its takes."""
        by_status = await self._c.execute(
            select(_o.status, func.count()).where(_o.client_id == user_id).group_by(_o.status)
        )
        t = order_takes.c
        taken = await self._c.execute(select(func.count()).where(t.executor_id == user_id))
        return OrderStats(
            {OrderStatus(status): int(n) for status, n in by_status}, int(taken.scalar_one())
        )

    # -- invalid-contact reports -------------------------------------------------------------
    async def add_report(
        self, order_id: str, executor_id: int, reason: str, now: datetime
    ) -> ContactReport:
        c = order_reports.c
        found = await self._c.execute(
            select(c.id).where(c.order_id == order_id, c.executor_id == executor_id)
        )
        if found.first():
            raise AlreadyExists("you reported this order's contact already")
        values = {
            "order_id": order_id,
            "executor_id": executor_id,
            "reason": reason,
            "status": ReportStatus.PENDING.value,
            "created_at": now,
        }
        rid = (
            await self._c.execute(insert(order_reports).values(values).returning(c.id))
        ).scalar_one()
        return ContactReport(rid, order_id, executor_id, reason, ReportStatus.PENDING, utc(now))

    async def get_report(self, report_id: int, *, lock: bool = False) -> ContactReport | None:
        q = select(order_reports).where(order_reports.c.id == report_id)
        if lock and self._pg:
            q = q.with_for_update()
        r = (await self._c.execute(q)).first()
        return _report(r) if r else None

    async def decide_report(self, report: ContactReport) -> None:
        await self._c.execute(
            update(order_reports)
            .where(order_reports.c.id == report.id)
            .values(
                status=report.status.value,
                decided_at=report.decided_at,
                decided_by=report.decided_by,
            )
        )

    async def list_reports(
        self, *, status: ReportStatus | None = None, limit: int = 50
    ) -> list[ContactReport]:
        q = select(order_reports).order_by(order_reports.c.id).limit(limit)
        if status is not None:
            q = q.where(order_reports.c.status == status.value)
        return [_report(r) for r in await self._c.execute(q)]

    async def rejected_reports(self, executor_id: int) -> int:
        c = order_reports.c
        q = select(func.count()).where(
            c.executor_id == executor_id, c.status == ReportStatus.REJECTED.value
        )
        return int((await self._c.execute(q)).scalar_one())

    # -- reviews and complaints ----------------------------------------------------------------
    async def add_review(
        self,
        order_id: str,
        client_id: int,
        executor_id: int,
        stars: int,
        text: str,
        now: datetime,
    ) -> Review:
        c = order_reviews.c
        found = await self._c.execute(
            select(c.id).where(c.order_id == order_id, c.executor_id == executor_id)
        )
        if found.first():
            raise AlreadyExists("you rated this executor on this order already")
        values = {
            "order_id": order_id,
            "client_id": client_id,
            "executor_id": executor_id,
            "stars": stars,
            "text": text,
            "created_at": now,
        }
        rid = (
            await self._c.execute(insert(order_reviews).values(values).returning(c.id))
        ).scalar_one()
        o = (await self._c.execute(select(_o.category, _o.city).where(_o.id == order_id))).one()
        return Review(rid, order_id, client_id, executor_id, stars, text, utc(now), o[0], o[1])

    async def list_reviews(
        self,
        *,
        executor_id: int | None = None,
        min_stars: int | None = None,
        max_stars: int | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[Review]:
        c = order_reviews.c
        q = (
            select(order_reviews, _o.category, _o.city)
            .join(orders, _o.id == c.order_id)
            .order_by(c.id.desc())
            .limit(limit)
        )
        if offset:
            q = q.offset(offset)
        if executor_id is not None:
            q = q.where(c.executor_id == executor_id)
        if min_stars is not None:
            q = q.where(c.stars >= min_stars)
        if max_stars is not None:
            q = q.where(c.stars <= max_stars)
        return [
            Review(
                r.id,
                r.order_id,
                r.client_id,
                r.executor_id,
                r.stars,
                r.text,
                utc(r.created_at),
                r.category,
                r.city,
            )
            for r in await self._c.execute(q)
        ]

    async def add_complaint(
        self, order_id: str, executor_id: int, reason: str, text: str, now: datetime
    ) -> Complaint:
        c = order_complaints.c
        found = await self._c.execute(
            select(c.id).where(c.order_id == order_id, c.executor_id == executor_id)
        )
        if found.first():
            raise AlreadyExists("you filed a complaint on this order already")
        values = {
            "order_id": order_id,
            "executor_id": executor_id,
            "reason": reason,
            "text": text,
            "created_at": now,
        }
        cid = (
            await self._c.execute(insert(order_complaints).values(values).returning(c.id))
        ).scalar_one()
        return Complaint(cid, order_id, executor_id, reason, text, utc(now))
