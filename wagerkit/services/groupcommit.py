"""Group commit: concurrent commands decided one by one, committed together.

A durable commit costs an fsync, so a server that commits each player command (a bet, a ticket
purchase, a contract, an order take) in its own transaction is capped far below what the disk
can do. ``GroupCommit`` keeps **one batch in flight per event loop**: while a batch runs,
commands submitted meanwhile queue, and the next batch takes them all (up to ``max_batch``).
The area's ``run`` function decides every command of the batch on its own inside ONE unit of
work and returns one answer per command (a result or the ``Exception`` that refuses it); each
caller is answered only after ``run`` returned, that is after the commit that holds its
command. A command is never decided on data read before it was submitted.

Two commands with the same ``conflict_key`` (e.g. the same user on the same event) never share
a batch: the later one waits for the next, so ``run`` may decide each command against the
state the batch read, without seeing its neighbours. A caller that gave up (cancelled) before
its batch started is dropped. If ``run`` raises, every caller of that batch gets the error.

**Linger.** Under load, the callers a batch has just answered send their next commands a
moment later, while the next batch, started at once, runs with the few that were already
queued: batches alternate between halves of the clients, and every batch pays its fixed cost
(a transaction, its statements, an fsync) for half the commands it could hold. So after a
batch of at least ``busy`` commands the queue waits ``linger`` seconds (1 ms by default)
before the next one takes it, as PostgreSQL's ``commit_delay`` waits only when at least
``commit_siblings`` transactions are active. A quiet server (smaller batches) never waits.
On the hot-event benchmark the wait doubled the bets per batch and cut the server's CPU per
bet by a fifth (docs/benchmarks.md).

``Coalescer`` is the read-only case of the same mechanism: concurrent look-ups by key folded
into one fetch (authentication reads its users this way).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from typing import Generic, TypeVar

__all__ = ["Coalescer", "GroupCommit"]

log = logging.getLogger("wagerkit.groupcommit")

C = TypeVar("C")
R = TypeVar("R")
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

Run = Callable[[Sequence[C]], Awaitable[Sequence[R | Exception]]]
"""``run(batch) -> answers``: one answer per command, in order; an ``Exception`` refuses it."""


class _Lane(Generic[C, R]):
    """The queue and the running drain task of one event loop."""

    __slots__ = ("queue", "task")

    def __init__(self) -> None:
        self.queue: list[tuple[C, asyncio.Future[R]]] = []
        self.task: asyncio.Task[None] | None = None


class GroupCommit(Generic[C, R]):
    """Batches concurrent ``submit`` calls into calls of ``run`` (see the module docstring).

    ``after(batch, answers)``, if given, runs once the callers have their answers (pushes and
    other notifications that must not delay them). The next batch starts after it returns, so
    it should only queue work (the realtime handler does); a failure there is logged.
    ``linger`` / ``busy``: after a batch of at least ``busy`` commands, wait ``linger``
    seconds before taking the next (0: never wait).
    """

    def __init__(
        self,
        run: Run[C, R],
        *,
        max_batch: int = 512,
        conflict_key: Callable[[C], Hashable | None] | None = None,
        after: Callable[[Sequence[C], Sequence[R | Exception]], Awaitable[None]] | None = None,
        linger: float = 0.001,
        busy: int = 8,
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        if linger < 0 or busy < 1:
            raise ValueError("linger must be at least 0 and busy at least 1")
        self.linger = linger
        self.busy = busy
        self._run = run
        self.max_batch = max_batch
        self._key = conflict_key
        self._after = after
        self._lanes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Lane[C, R]] = (
            weakref.WeakKeyDictionary()
        )

    async def submit(self, command: C) -> R:
        """Queue ``command``; return its answer once the batch holding it has committed."""
        loop = asyncio.get_running_loop()
        lane = self._lanes.get(loop)
        if lane is None:
            lane = self._lanes[loop] = _Lane()
        future: asyncio.Future[R] = loop.create_future()
        lane.queue.append((command, future))
        if lane.task is None:
            lane.task = loop.create_task(self._drain(lane))
        return await future

    def _take(self, lane: _Lane[C, R]) -> list[tuple[C, asyncio.Future[R]]]:
        batch: list[tuple[C, asyncio.Future[R]]] = []
        rest: list[tuple[C, asyncio.Future[R]]] = []
        seen: set[Hashable] = set()
        for item in lane.queue:
            command, future = item
            if future.done():  # the caller gave up before its batch started
                continue
            key = self._key(command) if self._key is not None else None
            if len(batch) >= self.max_batch or (key is not None and key in seen):
                rest.append(item)  # the next batch
                continue
            if key is not None:
                seen.add(key)
            batch.append(item)
        lane.queue = rest
        return batch

    async def _drain(self, lane: _Lane[C, R]) -> None:
        try:
            while lane.queue:
                batch = self._take(lane)
                if batch:
                    await self._one(batch)
                    if self.linger and len(batch) >= self.busy:  # let the answered come back
                        await asyncio.sleep(self.linger)
        finally:
            lane.task = None

    async def _one(self, batch: list[tuple[C, asyncio.Future[R]]]) -> None:
        commands = [c for c, _ in batch]
        try:
            answers = await self._run(commands)
            if len(answers) != len(commands):
                raise RuntimeError(f"{len(answers)} answers for {len(commands)} commands")
        except BaseException as exc:  # the whole batch failed: each caller hears it
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for (_, future), answer in zip(batch, answers, strict=True):
            if future.done():
                continue
            if isinstance(answer, Exception):
                future.set_exception(answer)
            else:
                future.set_result(answer)
        if self._after is not None:
            try:
                await self._after(commands, answers)
            except Exception:  # the batch is committed and answered: never stall the queue
                log.warning("after-commit hook failed", exc_info=True)


class Coalescer(Generic[K, V]):
    """Concurrent look-ups by key folded into one fetch: while a fetch runs, the keys asked
    for meanwhile wait and go together into the next one (one fetch in flight per event
    loop). Each caller gets its key's value (``None`` when the fetch did not return it), read
    after the caller asked: coalescing saves round trips, it never serves stale data."""

    def __init__(
        self, fetch: Callable[[Sequence[K]], Awaitable[Mapping[K, V]]], *, max_batch: int = 10_000
    ) -> None:
        self._fetch = fetch
        self._group: GroupCommit[K, V | None] = GroupCommit(
            self._run,
            max_batch=max_batch,
            linger=0,  # a read never waits for company
        )

    async def _run(self, keys: Sequence[K]) -> list[V | Exception | None]:
        found = await self._fetch(list(dict.fromkeys(keys)))
        return [found.get(k) for k in keys]

    async def get(self, key: K) -> V | None:
        return await self._group.submit(key)
