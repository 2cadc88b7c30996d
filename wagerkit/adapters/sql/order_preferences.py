"""Executors' notification preferences (the preferences half of ``uow.orders``, the base of
``SqlOrders``; docs/orders.md, "Notifications").

A preference row holds the mode and the digest schedule; the subscribed categories and cities
are rows of ``order_subscriptions`` (a city matched case-blind). ``claim_digests`` locks due
rows ``FOR UPDATE SKIP LOCKED`` and ``move_digest`` is the digest runner's compare-and-set on
``digest_due`` (services/orders/digests.py); ``get_preferences(lock=True)`` lets a
read-modify-write hold the row against a runner meanwhile. ``subscribers`` finds who is told
of a new order in one statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, insert, not_, or_, select, update
from sqlalchemy.engine import Row

from ...domain.orders import NotifyMode, Preferences
from .session import Repository, utc
from .tables import order_preferences, order_subscriptions

__all__ = ["SqlOrderPreferences"]


class SqlOrderPreferences(Repository):
    # -- preferences ---------------------------------------------------------------------------
    async def _subscriptions(self, user_ids: Sequence[int]) -> dict[int, dict[str, list[str]]]:
        s = order_subscriptions.c
        q = (
            select(order_subscriptions)
            .where(s.user_id.in_(sorted(set(user_ids))))
            .order_by(s.user_id, s.kind, s.value)
        )
        out: dict[int, dict[str, list[str]]] = {}
        for r in await self._c.execute(q):
            out.setdefault(r.user_id, {"category": [], "city": []})[r.kind].append(r.label)
        return out

    def _prefs(self, r: Row[Any], subs: dict[str, list[str]] | None) -> Preferences:
        subs = subs or {}
        return Preferences(
            r.user_id,
            tuple(subs.get("category", ())),
            tuple(subs.get("city", ())),
            NotifyMode(r.mode),
            r.digest_minutes,
            r.phone,
            utc(r.digest_after),
            utc(r.digest_due),
        )

    async def get_preferences(self, user_id: int, *, lock: bool = False) -> Preferences | None:
        q = select(order_preferences).where(order_preferences.c.user_id == user_id)
        if lock and self._pg:
            q = q.with_for_update()
        r = (await self._c.execute(q)).first()
        if r is None:
            return None
        return self._prefs(r, (await self._subscriptions([user_id])).get(user_id))

    async def put_preferences(self, prefs: Preferences) -> None:
        values = {
            "user_id": prefs.user_id,
            "mode": prefs.mode.value,
            "digest_minutes": prefs.digest_minutes,
            "phone": prefs.phone,
            "digest_after": prefs.digest_after,
            "digest_due": prefs.digest_due,
        }
        q = self._insert(order_preferences).values(values)
        q = q.on_conflict_do_update(index_elements=["user_id"], set_=values)
        await self._c.execute(q)
        s = order_subscriptions.c
        await self._c.execute(delete(order_subscriptions).where(s.user_id == prefs.user_id))
        rows = {
            (kind, label.casefold() if kind == "city" else label): label
            for kind, labels in (("category", prefs.categories), ("city", prefs.cities))
            for label in labels
        }
        if rows:
            await self._c.execute(
                insert(order_subscriptions),
                [
                    {"user_id": prefs.user_id, "kind": k, "value": v, "label": label}
                    for (k, v), label in rows.items()
                ],
            )

    async def claim_digests(self, now: datetime, limit: int) -> list[Preferences]:
        p = order_preferences.c
        q = (
            select(order_preferences)
            .where(
                p.mode == NotifyMode.DIGEST.value,
                or_(p.digest_due.is_(None), p.digest_due <= now),
            )
            .order_by(p.user_id)
            .limit(limit)
        )
        if self._pg:
            q = q.with_for_update(skip_locked=True)
        rows = list(await self._c.execute(q))
        subs = await self._subscriptions([r.user_id for r in rows]) if rows else {}
        return [self._prefs(r, subs.get(r.user_id)) for r in rows]

    async def move_digest(
        self,
        user_id: int,
        expect_due: datetime | None,
        digest_after: datetime,
        digest_due: datetime,
    ) -> bool:
        """One conditional UPDATE (on PostgreSQL it waits for a row lock another runner
        holds, then re-checks the condition on the committed row)."""
        p = order_preferences.c
        q = (
            update(order_preferences)
            .where(
                p.user_id == user_id,
                p.mode == NotifyMode.DIGEST.value,
                p.digest_due.is_(None) if expect_due is None else p.digest_due == expect_due,
            )
            .values(digest_after=digest_after, digest_due=digest_due)
            .returning(p.user_id)
        )
        return (await self._c.execute(q)).first() is not None

    async def subscribers(self, category: str, city: str) -> list[Preferences]:
        """One statement: a user matches a kind when it has no subscription of that kind or
        one equal to the order's value."""
        p, s = order_preferences.c, order_subscriptions.c

        def matches(kind: str, value: str) -> Any:
            any_of_kind = exists().where(s.user_id == p.user_id, s.kind == kind)
            this_one = exists().where(s.user_id == p.user_id, s.kind == kind, s.value == value)
            return or_(not_(any_of_kind), this_one)

        q = (
            select(order_preferences)
            .where(
                p.mode != NotifyMode.OFF.value,
                matches("category", category),
                matches("city", city.casefold()),
            )
            .order_by(p.user_id)
        )
        rows = list(await self._c.execute(q))
        if not rows:
            return []
        subs = await self._subscriptions([r.user_id for r in rows])
        return [self._prefs(r, subs.get(r.user_id)) for r in rows]
