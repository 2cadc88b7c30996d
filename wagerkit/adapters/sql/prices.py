"""Price ticks (``uow.prices``) on the SQL unit of work's connection. One row per (symbol,
observed_at, source), the primary key, whose index serves every read (a symbol and a time
range). Prices are exact: ``NUMERIC(38, 18)`` on PostgreSQL, plain decimal text on SQLite
(``tables.ExactPrice``). Storing is ``INSERT … ON CONFLICT DO NOTHING``, so it is idempotent
and safe when several recorders store the same tick. Pruning deletes one symbol's oldest
ticks a bounded chunk at a time (one DELETE of the keys of the first ``limit`` rows by the
primary key), never the newest."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, tuple_
from sqlalchemy.engine import Row

from ...domain.prices import Tick
from .session import Repository
from .tables import price_ticks

__all__ = ["SqlPrices"]

_CHUNK = 1000
_t = price_ticks.c


def _tick(r: Row[Any]) -> Tick:
    return Tick(r.symbol, r.observed_at, r.price, r.source)


class SqlPrices(Repository):
    async def add_ticks(self, ticks: Sequence[Tick]) -> int:
        added = 0
        for i in range(0, len(ticks), _CHUNK):
            rows = [
                {
                    "symbol": t.symbol,
                    "observed_at": t.observed_at,
                    "source": t.source,
                    "price": t.price,
                }
                for t in ticks[i : i + _CHUNK]
            ]
            stmt = (
                self._insert(price_ticks)
                .on_conflict_do_nothing(index_elements=[_t.symbol, _t.observed_at, _t.source])
                .returning(_t.symbol)
            )
            # executemany with RETURNING: SQLAlchemy batches it into multi-row INSERTs
            # ("insertmanyvalues") from one cached statement
            added += len((await self._c.execute(stmt, rows)).all())
        return added

    async def latest(self, symbol: str, at: datetime | None = None) -> Tick | None:
        q = (
            select(price_ticks)
            .where(_t.symbol == symbol)
            .order_by(_t.observed_at.desc(), _t.source.desc())
            .limit(1)
        )
        if at is not None:
            q = q.where(_t.observed_at <= at)
        r = (await self._c.execute(q)).first()
        return _tick(r) if r else None

    async def first_at_or_after(self, symbol: str, at: datetime) -> Tick | None:
        q = (
            select(price_ticks)
            .where(_t.symbol == symbol, _t.observed_at >= at)
            .order_by(_t.observed_at, _t.source)
            .limit(1)
        )
        r = (await self._c.execute(q)).first()
        return _tick(r) if r else None

    async def history(
        self, symbol: str, *, since: datetime | None = None, limit: int = 100
    ) -> list[Tick]:
        q = (
            select(price_ticks)
            .where(_t.symbol == symbol)
            .order_by(_t.observed_at.desc(), _t.source.desc())
            .limit(max(limit, 0))
        )
        if since is not None:
            q = q.where(_t.observed_at >= since)
        return [_tick(r) for r in await self._c.execute(q)]

    async def prune_ticks(self, symbol: str, before: datetime, limit: int) -> int:
        newest = price_ticks.alias("newest")
        oldest = (
            select(_t.symbol, _t.observed_at, _t.source)
            .where(
                _t.symbol == symbol,
                _t.observed_at < before,
                _t.observed_at
                < select(func.max(newest.c.observed_at))
                .where(newest.c.symbol == symbol)
                .scalar_subquery(),
            )
            .order_by(_t.observed_at, _t.source)
            .limit(max(limit, 0))
        )
        stmt = delete(price_ticks).where(tuple_(_t.symbol, _t.observed_at, _t.source).in_(oldest))
        result = await self._c.execute(stmt)
        return int(result.rowcount or 0)

    async def symbols(self) -> list[str]:
        q = select(_t.symbol).distinct().order_by(_t.symbol)
        return [r.symbol for r in await self._c.execute(q)]
