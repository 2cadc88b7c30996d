"""The orders area in memory (``uow.orders``): the same rules as the SQL store, one writer at
a time, every change undone on rollback. Its data lives on the shared ``State`` under
``orders_data`` (created on first use)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime

from ...domain.errors import AlreadyExists, TransientStoreError
from ...domain.ledger import AccountKind
from ...domain.orders import (
    Complaint,
    ContactReport,
    NotifyMode,
    Order,
    OrderCategory,
    OrderStats,
    OrderStatus,
    Preferences,
    ReportStatus,
    Review,
    Take,
)
from ...ports import TakeBatchView
from .state import State, Undo, set_undoable

__all__ = ["MemoryOrders", "OrdersData"]


class OrdersData:
    def __init__(self) -> None:
        self.categories: dict[str, OrderCategory] = {}
        self.orders: dict[str, Order] = {}
        self.takes: dict[tuple[str, int], Take] = {}
        self.reports: dict[int, ContactReport] = {}
        self.reviews: dict[int, Review] = {}
        self.complaints: dict[int, Complaint] = {}
        self.prefs: dict[int, Preferences] = {}


def _data(s: State) -> OrdersData:
    data = s.__dict__.get("orders_data")
    if data is None:
        data = OrdersData()
        s.__dict__["orders_data"] = data
    assert isinstance(data, OrdersData)
    return data


class MemoryOrders:
    def __init__(self, s: State, undo: Undo) -> None:
        self._s, self._d, self._undo = s, _data(s), undo

    async def categories(self) -> list[OrderCategory]:
        return [self._d.categories[k] for k in sorted(self._d.categories)]

    async def put_category(self, category: OrderCategory) -> None:
        set_undoable(self._d.categories, self._undo, category.slug, category)

    async def add(self, order: Order) -> None:
        if order.id in self._d.orders or await self.active_for_contact(order.contact):
            raise TransientStoreError()
        set_undoable(self._d.orders, self._undo, order.id, order)

    async def active_for_contact(self, contact: str) -> Order | None:
        for o in self._d.orders.values():
            if o.contact == contact and o.status is OrderStatus.ACTIVE:
                return o
        return None

    async def get_many(self, order_ids: Sequence[str], *, lock: bool = False) -> dict[str, Order]:
        return {i: self._d.orders[i] for i in order_ids if i in self._d.orders}

    async def update(self, order: Order) -> None:
        old = self._d.orders[order.id]
        new = dataclasses.replace(
            order, client_id=old.client_id, created_at=old.created_at, currency=old.currency
        )
        set_undoable(self._d.orders, self._undo, order.id, new)

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
        out = [
            o
            for o in sorted(self._d.orders.values(), key=lambda o: (o.created_at, o.id))[::-1]
            if (category is None or o.category == category)
            and (city is None or o.city.casefold() == city.casefold())
            and (status is None or o.status is status)
            and (client_id is None or o.client_id == client_id)
            and (created_after is None or o.created_at > created_after)
        ]
        return out[offset : offset + limit]

    async def takes_of(self, order_ids: Sequence[str]) -> dict[str, list[Take]]:
        wanted = set(order_ids)
        out: dict[str, list[Take]] = {}
        for t in sorted(self._d.takes.values(), key=lambda t: (t.taken_at, t.transfer_id)):
            if t.order_id in wanted:
                out.setdefault(t.order_id, []).append(t)
        return out

    async def takes_by(self, executor_id: int, *, limit: int = 100) -> list[Take]:
        mine = [t for t in self._d.takes.values() if t.executor_id == executor_id]
        return sorted(mine, key=lambda t: t.taken_at, reverse=True)[:limit]

    async def read_take_batch(
        self,
        order_ids: Sequence[str],
        wallets: Sequence[tuple[str, str]],
        house: str,
        users: Sequence[int] = (),
    ) -> TakeBatchView:
        found = await self.get_many(order_ids, lock=True)
        index = self._s.account_index
        ids: dict[tuple[str, str], int] = {}
        for order_id, owner in wallets:
            if order_id in found:
                key = (owner, found[order_id].currency)
                aid = index.get((AccountKind.USER.value, *key))
                if aid is not None:
                    ids[key] = aid
        houses = {
            o.currency: aid
            for o in found.values()
            if (aid := index.get((AccountKind.HOUSE.value, house, o.currency))) is not None
        }
        return TakeBatchView(
            found,
            await self.takes_of(list(found)),
            ids,
            houses,
            {i: dataclasses.replace(u) for i in users if (u := self._s.users.get(i)) is not None},
        )

    async def add_takes(self, takes: Sequence[Take], orders: Sequence[Order]) -> None:
        for o in orders:
            old = self._d.orders[o.id]
            new = dataclasses.replace(
                old, takers=o.takers, respond_by=o.respond_by, updated_at=o.updated_at
            )
            set_undoable(self._d.orders, self._undo, o.id, new)
        for t in takes:
            if (t.order_id, t.executor_id) in self._d.takes:
                raise TransientStoreError()
            set_undoable(self._d.takes, self._undo, (t.order_id, t.executor_id), t)

    async def mark_refunded(self, pairs: Sequence[tuple[str, int]]) -> None:
        for p in pairs:
            t = self._d.takes[p]
            set_undoable(self._d.takes, self._undo, p, dataclasses.replace(t, refunded=True))

    async def claim_due(self, now: datetime, limit: int) -> list[Order]:
        due = [
            o
            for o in sorted(self._d.orders.values(), key=lambda o: o.id)
            if o.status is OrderStatus.ACTIVE
            and (
                o.expires_at <= now
                or (o.respond_by is not None and not o.responded and o.respond_by <= now)
            )
        ]
        return due[:limit]

    async def stats(self, user_id: int) -> OrderStats:
        by_status: dict[OrderStatus, int] = {}
        for o in self._d.orders.values():
            if o.client_id == user_id:
                by_status[o.status] = by_status.get(o.status, 0) + 1
        taken = sum(1 for t in self._d.takes.values() if t.executor_id == user_id)
        return OrderStats(by_status, taken)

    async def add_report(
        self, order_id: str, executor_id: int, reason: str, now: datetime
    ) -> ContactReport:
        if any(
            r.order_id == order_id and r.executor_id == executor_id
            for r in self._d.reports.values()
        ):
            raise AlreadyExists("you reported this order's contact already")
        rid = max(self._d.reports, default=0) + 1
        report = ContactReport(rid, order_id, executor_id, reason, ReportStatus.PENDING, now)
        set_undoable(self._d.reports, self._undo, rid, report)
        return report

    async def get_report(self, report_id: int, *, lock: bool = False) -> ContactReport | None:
        return self._d.reports.get(report_id)

    async def decide_report(self, report: ContactReport) -> None:
        set_undoable(self._d.reports, self._undo, report.id, report)

    async def list_reports(
        self, *, status: ReportStatus | None = None, limit: int = 50
    ) -> list[ContactReport]:
        out = [
            r
            for r in sorted(self._d.reports.values(), key=lambda r: r.id)
            if status is None or r.status is status
        ]
        return out[:limit]

    async def rejected_reports(self, executor_id: int) -> int:
        return sum(
            1
            for r in self._d.reports.values()
            if r.executor_id == executor_id and r.status is ReportStatus.REJECTED
        )

    async def add_review(
        self,
        order_id: str,
        client_id: int,
        executor_id: int,
        stars: int,
        text: str,
        now: datetime,
    ) -> Review:
        if any(
            r.order_id == order_id and r.executor_id == executor_id
            for r in self._d.reviews.values()
        ):
            raise AlreadyExists("you rated this executor on this order already")
        rid = max(self._d.reviews, default=0) + 1
        o = self._d.orders[order_id]
        review = Review(rid, order_id, client_id, executor_id, stars, text, now, o.category, o.city)
        set_undoable(self._d.reviews, self._undo, rid, review)
        return review

    async def list_reviews(
        self,
        *,
        executor_id: int | None = None,
        min_stars: int | None = None,
        max_stars: int | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[Review]:
        out = [
            r
            for r in sorted(self._d.reviews.values(), key=lambda r: -r.id)
            if (executor_id is None or r.executor_id == executor_id)
            and (min_stars is None or r.stars >= min_stars)
            and (max_stars is None or r.stars <= max_stars)
        ]
        return out[offset : offset + limit]

    async def add_complaint(
        self, order_id: str, executor_id: int, reason: str, text: str, now: datetime
    ) -> Complaint:
        if any(
            c.order_id == order_id and c.executor_id == executor_id
            for c in self._d.complaints.values()
        ):
            raise AlreadyExists("you filed a complaint on this order already")
        cid = max(self._d.complaints, default=0) + 1
        complaint = Complaint(cid, order_id, executor_id, reason, text, now)
        set_undoable(self._d.complaints, self._undo, cid, complaint)
        return complaint

    async def get_preferences(self, user_id: int, *, lock: bool = False) -> Preferences | None:
        return self._d.prefs.get(user_id)

    async def put_preferences(self, prefs: Preferences) -> None:
        set_undoable(self._d.prefs, self._undo, prefs.user_id, prefs)

    async def claim_digests(self, now: datetime, limit: int) -> list[Preferences]:
        due = [
            p
            for p in sorted(self._d.prefs.values(), key=lambda p: p.user_id)
            if p.mode is NotifyMode.DIGEST and (p.digest_due is None or p.digest_due <= now)
        ]
        return due[:limit]

    async def move_digest(
        self,
        user_id: int,
        expect_due: datetime | None,
        digest_after: datetime,
        digest_due: datetime,
    ) -> bool:
        p = self._d.prefs.get(user_id)
        if p is None or p.mode is not NotifyMode.DIGEST or p.digest_due != expect_due:
            return False
        new = dataclasses.replace(p, digest_after=digest_after, digest_due=digest_due)
        set_undoable(self._d.prefs, self._undo, user_id, new)
        return True

    async def subscribers(self, category: str, city: str) -> list[Preferences]:
        return [
            p
            for p in sorted(self._d.prefs.values(), key=lambda p: p.user_id)
            if p.mode is not NotifyMode.OFF
            and (not p.categories or category in p.categories)
            and (not p.cities or city.casefold() in {c.casefold() for c in p.cities})
        ]
