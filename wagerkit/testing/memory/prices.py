"""Price ticks in memory: per symbol, a list sorted by (observed_at, source), searched by
bisection; an insert is undone on rollback."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from datetime import datetime
from functools import partial

from ...domain.prices import Tick
from .state import State, Undo

__all__ = ["MemoryPrices"]

_LAST = "\U0010ffff"  # sorts after every source name


class MemoryPrices:
    def __init__(self, s: State, undo: Undo) -> None:
        self._s, self._undo = s, undo

    async def add_ticks(self, ticks: Sequence[Tick]) -> int:
        added = 0
        for tick in ticks:
            rows = self._s.ticks.get(tick.symbol)
            if rows is None:
                rows = self._s.ticks[tick.symbol] = []
                self._undo.append(partial(self._drop_if_empty, tick.symbol))
            key = (tick.observed_at, tick.source)
            i = bisect.bisect_left(rows, key, key=lambda r: (r[0], r[1]))
            if i < len(rows) and (rows[i][0], rows[i][1]) == key:
                continue
            row = (tick.observed_at, tick.source, tick)
            rows.insert(i, row)
            self._undo.append(partial(rows.remove, row))
            added += 1
        return added

    def _drop_if_empty(self, symbol: str) -> None:
        if not self._s.ticks.get(symbol, True):
            del self._s.ticks[symbol]

    async def latest(self, symbol: str, at: datetime | None = None) -> Tick | None:
        rows = self._s.ticks.get(symbol, [])
        if at is None:
            return rows[-1][2] if rows else None
        i = bisect.bisect_right(rows, (at, _LAST), key=lambda r: (r[0], r[1]))
        return rows[i - 1][2] if i else None

    async def first_at_or_after(self, symbol: str, at: datetime) -> Tick | None:
        rows = self._s.ticks.get(symbol, [])
        i = bisect.bisect_left(rows, (at, ""), key=lambda r: (r[0], r[1]))
        return rows[i][2] if i < len(rows) else None

    async def history(
        self, symbol: str, *, since: datetime | None = None, limit: int = 100
    ) -> list[Tick]:
        rows = self._s.ticks.get(symbol, [])
        start = (
            0
            if since is None
            else bisect.bisect_left(rows, (since, ""), key=lambda r: (r[0], r[1]))
        )
        return [r[2] for r in reversed(rows[max(start, len(rows) - max(limit, 0)) :])]

    async def prune_ticks(self, symbol: str, before: datetime, limit: int) -> int:
        rows = self._s.ticks.get(symbol, [])
        if not rows:
            return 0
        bound = min(before, rows[-1][0])  # the newest instant's ticks stay
        n = min(bisect.bisect_left(rows, bound, key=lambda r: r[0]), max(limit, 0))
        gone = rows[:n]
        del rows[:n]
        if gone:
            self._undo.append(partial(rows.__setitem__, slice(0, 0), gone))
        return n

    async def symbols(self) -> list[str]:
        return sorted(s for s, rows in self._s.ticks.items() if rows)
