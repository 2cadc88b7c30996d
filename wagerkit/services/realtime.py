"""Live updates: typed notifications in, messages to rooms out (docs/realtime.md).

``LiveUpdates`` is an ``EventPublisher``. It reads what a notification announces, with the use
cases (``WalletService.balances_of``, ``EventService.get``), and sends it through a
``RealtimeSink`` (Socket.IO in ``wagerkit.adapters.realtime``):

- ``WalletChanged`` → ``balance_update`` ``{"user_id", "balances"}`` to ``user:<id>``, only for
  users the sink may have a listener for, their balances read 500 users a query;
- ``PoolChanged`` / ``EventChanged`` → ``event_update`` (the pool view) to ``event:<id>``,
  *coalesced*: at most one per event every ``coalesce_seconds`` in this process, the first at
  once and a trailing one after a burst, read when it is sent, so the last state always goes
  out;
- ``EventResolved`` → a last ``event_update`` and ``event_settled`` / ``event_voided``;
- ``ChatPosted`` → ``chat_message``; ``ChatDeleted`` → ``chat_deleted``;
- ``UserChanged`` with ``banned`` → the sink disconnects ``user:<id>`` everywhere.

Failures are logged, never raised: the change they announce has already been committed.
``coalesce_seconds=0`` sends each update inline, awaited (the CLI: its process ends right
after the command); otherwise balance reads and coalesced sends run as tasks of the running
loop, off the use case's path, and ``aclose()`` cancels those still waiting (shutdown).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Iterable
from datetime import UTC
from typing import TYPE_CHECKING, Any

from ..domain.chat import ChatMessage
from ..domain.events import Event, pool_view
from ..domain.identity import Actor
from ..domain.money import CurrencyRegistry
from ..domain.notifications import (
    ChatDeleted,
    ChatPosted,
    EventChanged,
    EventResolved,
    Notification,
    PoolChanged,
    UserChanged,
    WalletChanged,
)
from ..ports import EventPublisher, RealtimeSink

if TYPE_CHECKING:
    from .events import EventService
    from .wallets import WalletBalance, WalletService

__all__ = [
    "BALANCE_UPDATE",
    "CHAT_DELETED",
    "CHAT_MESSAGE",
    "EVENT_SETTLED",
    "EVENT_UPDATE",
    "EVENT_VOIDED",
    "ChainPublisher",
    "LiveUpdates",
    "balance_payload",
    "balance_view",
    "chat_payload",
    "event_room",
    "pool_payload",
    "user_room",
]

log = logging.getLogger("wagerkit.realtime")

BALANCE_UPDATE = "balance_update"
EVENT_UPDATE = "event_update"
EVENT_SETTLED = "event_settled"
EVENT_VOIDED = "event_voided"
CHAT_MESSAGE = "chat_message"
CHAT_DELETED = "chat_deleted"
_READ_CHUNK = 500  # users whose balances one query reads (bounded IN lists)
_SYSTEM = Actor.system("realtime")


def user_room(user_id: int | str) -> str:
    """The room every socket of one user joins (``balance_update``; cut off on a ban)."""
    return f"user:{user_id}"


def event_room(event_id: int | str) -> str:
    """The room of one event's watchers (``event_update``, ``event_settled``, chat)."""
    return f"event:{event_id}"


def pool_payload(event: Event) -> dict[str, Any]:
    """The live view of an event, as ``event_update`` and the ``join_event`` answer carry it:
    status, totals and, per outcome, bettors, total staked and the payout multiplier if it
    won now (text, e.g. ``"1.5000"``; ``None`` while nothing is staked on it). The names are
    those of ``GET /api/v1/events/{id}`` (``event_id`` for its ``id``)."""
    view = pool_view(event)
    return {
        "event_id": event.id,
        "title": event.title,
        "status": event.status.value,
        "currency": view.currency,
        "total": view.total,
        "bettors": view.bettors,
        "rake_bps": view.rake_bps,
        "closes_at": event.closes_at.astimezone(UTC).isoformat(),
        "winning_outcome_id": event.winning_outcome_id,
        "bet_count": event.bet_count,
        "outcomes": [
            {
                "id": o.outcome_id,
                "name": o.name,
                "position": outcome.position,
                "bettors": o.bettors,
                "total": o.total,
                "multiplier": o.multiplier,
            }
            for o, outcome in zip(view.outcomes, event.outcomes, strict=True)
        ],
    }


def chat_payload(msg: ChatMessage) -> dict[str, Any]:
    """One chat message as ``chat_message`` carries it."""
    return {
        "id": msg.id,
        "event_id": msg.event_id,
        "user_id": msg.user_id,
        "author": msg.author,
        "text": msg.text,
        "created_at": msg.created_at.isoformat(),
    }


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


class LiveUpdates:
    """The ``EventPublisher`` that feeds a ``RealtimeSink`` (see the module docstring)."""

    #: how many resolved event ids to remember (a late, stale ``event_update`` of such an
    #: event is dropped) and how many last-send times to keep before pruning
    _REMEMBER = 1024

    def __init__(
        self,
        sink: RealtimeSink,
        wallets: WalletService,
        events: EventService,
        currencies: CurrencyRegistry,
        *,
        coalesce_seconds: float = 0.25,
    ) -> None:
        self.sink = sink
        self._wallets = wallets
        self._events = events
        self._currencies = currencies
        self.coalesce_seconds = coalesce_seconds
        self._pending: dict[int, asyncio.Task[None]] = {}
        self._dirty: set[int] = set()
        self._last: dict[int, float] = {}
        self._final: OrderedDict[int, None] = OrderedDict()
        self.sent_updates = 0  # event_update sends so far (metrics, tests)
        self._balances_dirty: set[int] = set()
        self._balances_task: asyncio.Task[None] | None = None

    async def publish(self, note: Notification) -> None:
        try:
            match note:
                case WalletChanged(user_ids=user_ids):
                    await self._balances_changed(user_ids)
                case PoolChanged(event_id=eid) | EventChanged(event_id=eid):
                    await self._changed(eid)
                case EventResolved():
                    await self._resolved(note)
                case ChatPosted(message=msg):
                    await self.sink.send(CHAT_MESSAGE, chat_payload(msg), event_room(msg.event_id))
                case ChatDeleted(id=mid, event_id=eid):
                    data = {"id": mid, "event_id": eid}
                    await self.sink.send(CHAT_DELETED, data, event_room(eid))
                case UserChanged(user_ids=user_ids, banned=True):
                    for uid in user_ids:
                        await self.sink.disconnect(user_room(uid))
        except Exception:
            log.warning("could not push %s", note.topic, exc_info=True)

    # -- balance_update ------------------------------------------------------------------
    async def _balances_changed(self, user_ids: Iterable[int]) -> None:
        """Inline when not coalescing (the CLI); else queued for a background flush that
        reads every queued user's balances at once, so a use case (the bet batcher) never
        waits for pushes. Each read happens after the change it announces."""
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

    # -- event_update, coalesced ---------------------------------------------------------
    async def _changed(self, event_id: int) -> None:
        if not self.sink.listening(event_room(event_id)):
            return  # nobody watches this event here: no read, no send
        if self.coalesce_seconds <= 0:
            await self._send_update(event_id)
            return
        self._dirty.add(event_id)
        if event_id not in self._pending:
            task = asyncio.get_running_loop().create_task(self._coalesce(event_id))
            self._pending[event_id] = task

    async def _coalesce(self, event_id: int) -> None:
        try:
            while event_id in self._dirty:
                wait = self._last.get(event_id, 0.0) + self.coalesce_seconds - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                self._dirty.discard(event_id)  # a change from now on needs another send
                try:
                    await self._send_update(event_id)
                except Exception:
                    log.warning("could not push event_update of event %s", event_id, exc_info=True)
                self._last[event_id] = time.monotonic()
        finally:
            self._pending.pop(event_id, None)
            self._prune()

    def _prune(self) -> None:
        if len(self._last) <= self._REMEMBER:
            return
        horizon = time.monotonic() - self.coalesce_seconds
        for eid in [e for e, t in self._last.items() if t < horizon and e not in self._pending]:
            del self._last[eid]

    async def _send_update(self, event_id: int, event: Event | None = None) -> None:
        if event is None:
            event = await self._events.get(event_id)
        if event_id in self._final and not event.status.final:
            return  # read before the final commit, sent after the final view: stale
        self.sent_updates += 1
        await self.sink.send(EVENT_UPDATE, pool_payload(event), event_room(event_id))

    # -- settlement results ----------------------------------------------------------------
    async def _resolved(self, note: EventResolved) -> None:
        event_id = note.event_id
        self._final[event_id] = None
        while len(self._final) > self._REMEMBER:
            self._final.popitem(last=False)
        event = await self._events.get(event_id)
        await self._send_update(event_id, event)
        voided = note.voided
        winner = note.winning_outcome_id if not voided else None
        data = {
            "event_id": event_id,
            "status": event.status.value,
            "winning_outcome_id": winner,
            "winning_outcome": event.outcome(winner).name if winner is not None else None,
            "refund": note.refund,
            "rake": note.rake,
            "bets": note.bets,
            "paid": note.paid,
            "pool": pool_payload(event),
        }
        await self.sink.send(EVENT_VOIDED if voided else EVENT_SETTLED, data, event_room(event_id))

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
