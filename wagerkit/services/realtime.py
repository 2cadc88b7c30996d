"""Live updates: typed notifications in, messages to rooms out (docs/realtime.md).

``LiveUpdates`` is an ``EventPublisher``. Each area registers, once, what its notifications
become (``on(kind, handler)``; the events area's are in ``services/events/live.py``); handlers read what a
notification announces with the use cases and send through a ``RealtimeSink`` (Socket.IO in
``wagerkit.adapters.realtime``), which only sends. Built in here, for every area:

- ``WalletChanged`` → ``balance_update`` ``{"user_id", "balances"}`` to ``user:<id>``, only for
  users the sink may have a listener for, their balances read 500 users a query, in a
  background flush off the use case's path;
- ``UserChanged`` with ``banned`` → the sink disconnects ``user:<id>`` everywhere;
- ``coalesced(room, read)``, the shared tool for a room's live view: at most one message per
  room every ``coalesce_seconds`` in this process, the first at once and a trailing one after
  a burst, read when it is sent, so the last state always goes out.

Failures are logged, never raised: the change they announce has already been committed.
``coalesce_seconds=0`` sends each update inline, awaited (the CLI: its process ends right
after the command); otherwise balance reads and coalesced sends run as tasks of the running
loop, and ``aclose()`` cancels those still waiting (shutdown).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from ..domain.identity import Actor
from ..domain.money import CurrencyRegistry
from ..domain.notifications import Notification, UserChanged, WalletChanged
from ..ports import EventPublisher, RealtimeSink

if TYPE_CHECKING:
    from .wallets import WalletBalance, WalletService

__all__ = [
    "BALANCE_UPDATE",
    "ChainPublisher",
    "LiveUpdates",
    "Read",
    "balance_payload",
    "balance_view",
    "user_room",
]

log = logging.getLogger("wagerkit.realtime")
N = TypeVar("N", bound=Notification)

BALANCE_UPDATE = "balance_update"
_REMEMBER = 1024  # last-send times kept before pruning
_READ_CHUNK = 500  # users whose balances one query reads (bounded IN lists)
_SYSTEM = Actor.system("realtime")


def user_room(user_id: int | str) -> str:
    """The room every socket of one user joins (``balance_update``; cut off on a ban)."""
    return f"user:{user_id}"


def balance_view(b: WalletBalance, currencies: CurrencyRegistry) -> dict[str, Any]:
    """One ``WalletBalance`` as ``GET /api/v1/wallet`` shows it: minor units plus the same
    amounts formatted in the currency's precision."""
    cur = currencies.get(b.currency)

    def fmt(units: int) -> str:
        return cur.format(units) if cur is not None else str(units)

    return {
        "currency": b.currency,
        "balance": b.balance,
        "available": b.available,
        "held": b.held,
        "frozen": b.frozen,
        "balance_formatted": fmt(b.balance),
        "available_formatted": fmt(b.available),
        "held_formatted": fmt(b.held),
    }


async def balance_payload(
    wallets: WalletService, currencies: CurrencyRegistry, user_id: int
) -> dict[str, Any]:
    """``{"user_id", "balances": [...]}`` as ``balance_update`` and ``GET /api/v1/wallet``
    show them."""
    balances = await wallets.balances(_SYSTEM, user_id)
    return {"user_id": user_id, "balances": [balance_view(b, currencies) for b in balances]}


class ChainPublisher:
    """Several publishers, in order (an embedder's own publisher, then the live updates)."""

    def __init__(self, *publishers: EventPublisher) -> None:
        self.publishers = publishers

    async def publish(self, note: Notification) -> None:
        for p in self.publishers:
            await p.publish(note)


Read = Callable[[], Awaitable[tuple[str, dict[str, Any]] | None]]
"""Reads a room's latest message when it is sent: ``(name, data)``, or ``None`` to send
nothing (e.g. a view read before a final state that already went out)."""


class LiveUpdates:
    """The ``EventPublisher`` that feeds a ``RealtimeSink`` (see the module docstring).

    Areas register what their notifications become with ``on(kind, handler)`` (one call per
    notification type, at construction; ``WagerKit`` does it for every area) and use the two
    shared tools: ``coalesced(room, read)`` for a room's live view, and ``users_changed`` for
    per-user balance pushes. A handler's failure is logged, never raised.
    """

    def __init__(
        self,
        sink: RealtimeSink,
        wallets: WalletService,
        currencies: CurrencyRegistry,
        *,
        coalesce_seconds: float = 0.25,
    ) -> None:
        self.sink = sink
        self._wallets = wallets
        self._currencies = currencies
        self.coalesce_seconds = coalesce_seconds
        self._handlers: dict[type[Notification], list[Callable[[Any], Awaitable[None]]]] = {}
        # coalesced room updates: the room's reader, its pending task, dirty flag, last send
        self._readers: dict[str, Read] = {}
        self._pending: dict[str, asyncio.Task[None]] = {}
        self._dirty: set[str] = set()
        self._last: dict[str, float] = {}
        self.sent_updates = 0  # coalesced sends so far (metrics, tests)
        self._balances_dirty: set[int] = set()
        self._balances_task: asyncio.Task[None] | None = None
        self.on(WalletChanged, lambda n: self.users_changed(n.user_ids))
        self.on(UserChanged, self._user_changed)

    def listening_any(self, prefix: str) -> bool:
        """Might a client be in any room named ``prefix…``? ``False`` only when the sink
        knows it for certain (its optional ``listening_any``); then a handler can skip the
        reads behind its sends (the orders feed does, for ``user:`` rooms)."""
        ask = getattr(self.sink, "listening_any", None)
        return True if ask is None else bool(ask(prefix))

    def on(self, kind: type[N], handler: Callable[[N], Awaitable[None]]) -> None:
        """Call ``handler`` for every published notification of type ``kind``."""
        self._handlers.setdefault(kind, []).append(handler)

    async def publish(self, note: Notification) -> None:
        for handler in self._handlers.get(type(note), ()):
            try:
                await handler(note)
            except Exception:
                log.warning("could not push %s", note.topic, exc_info=True)

    async def send(self, name: str, data: dict[str, Any], room: str) -> None:
        """Send at once (chat messages, results)."""
        await self.sink.send(name, data, room)

    async def _user_changed(self, note: UserChanged) -> None:
        if note.banned:
            for uid in note.user_ids:
                await self.sink.disconnect(user_room(uid))

    # -- balance_update ------------------------------------------------------------------
    async def users_changed(self, user_ids: Iterable[int]) -> None:
        """Push ``balance_update`` to these users. Inline when not coalescing (the CLI); else
        queued for a background flush that reads every queued user's balances at once, so a
        use case (a group commit) never waits for pushes. Each read happens after the change
        it announces."""
        if self.coalesce_seconds <= 0:
            await self._push_balances(user_ids)
            return
        self._balances_dirty.update(user_ids)
        if self._balances_task is None:
            loop = asyncio.get_running_loop()
            self._balances_task = loop.create_task(self._flush_balances())

    async def _flush_balances(self) -> None:
        try:
            while self._balances_dirty:
                users, self._balances_dirty = self._balances_dirty, set()
                await self._push_balances(users)
        finally:
            self._balances_task = None

    async def _push_balances(self, user_ids: Iterable[int]) -> None:
        """Read the listened-to users' balances, a chunk a query, and push one update each."""
        wanted = sorted({u for u in user_ids if self.sink.listening(user_room(u))})
        for start in range(0, len(wanted), _READ_CHUNK):  # a settlement may pay 100,000
            await self._push_chunk(wanted[start : start + _READ_CHUNK])

    async def _push_chunk(self, wanted: list[int]) -> None:
        try:
            found = await self._wallets.balances_of(_SYSTEM, wanted)
        except Exception:
            log.warning("could not read balances for balance_update", exc_info=True)
            return
        for user_id in wanted:
            data = {
                "user_id": user_id,
                "balances": [balance_view(b, self._currencies) for b in found.get(user_id, ())],
            }
            try:
                await self.sink.send(BALANCE_UPDATE, data, user_room(user_id))
            except Exception:
                log.warning("could not push balance_update to user %s", user_id, exc_info=True)

    # -- coalesced room updates ----------------------------------------------------------
    async def coalesced(self, room: str, read: Read) -> None:
        """The room's view changed: send ``read()``'s message at most once every
        ``coalesce_seconds`` in this process, the first at once and a trailing one after a
        burst, read when it is sent (so the last state always goes out). Nothing is read or
        sent when nobody listens to ``room`` here."""
        if not self.sink.listening(room):
            return
        if self.coalesce_seconds <= 0:
            await self._send_read(room, read)
            return
        self._readers[room] = read
        self._dirty.add(room)
        if room not in self._pending:
            self._pending[room] = asyncio.get_running_loop().create_task(self._coalesce(room))

    async def _send_read(self, room: str, read: Read) -> None:
        message = await read()
        if message is not None:
            self.sent_updates += 1
            await self.sink.send(message[0], message[1], room)

    async def _coalesce(self, room: str) -> None:
        try:
            while room in self._dirty:
                wait = self._last.get(room, 0.0) + self.coalesce_seconds - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                self._dirty.discard(room)  # a change from now on needs another send
                try:
                    await self._send_read(room, self._readers[room])
                except Exception:
                    log.warning("could not push the update of %s", room, exc_info=True)
                self._last[room] = time.monotonic()
        finally:
            self._pending.pop(room, None)
            self._readers.pop(room, None)
            self._prune()

    def _prune(self) -> None:
        if len(self._last) <= _REMEMBER:
            return
        horizon = time.monotonic() - self.coalesce_seconds
        for room in [r for r, t in self._last.items() if t < horizon and r not in self._pending]:
            del self._last[room]

    async def aclose(self) -> None:
        """Cancel the coalesced sends and balance reads still waiting (at shutdown)."""
        tasks = list(self._pending.values())
        if self._balances_task is not None:
            tasks.append(self._balances_task)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._dirty.clear()
