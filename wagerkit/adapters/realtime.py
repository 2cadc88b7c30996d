"""Socket.IO pushes, for any process that changes wallets, events or chat (docs/realtime.md).

``BalancePublisher`` is an ``EventPublisher``: after every ``wallet.changed`` it reads the
users' balances and emits ``balance_update`` to each ``user:<id>`` room through an *emitter*,
anything with ``async emit(event, data, room=..., namespace=...)``: the server's
``socketio.AsyncServer``, or a write-only ``socketio.AsyncRedisManager(REDIS_URL,
write_only=True)`` in a process without a Socket.IO server (the CLI, a worker), whose emits
reach the sockets held by the server processes through Redis. No third-party import here:
the emitter is duck-typed.

``RealtimePublisher`` does that and the event rooms (``event:<id>``):

- ``event.pool`` / ``event.updated`` → ``event_update`` (the pool view), *coalesced*: at most
  one per event every ``coalesce_seconds`` in this process, the first at once and a trailing
  one after a burst, read when it is sent, so the last state always goes out;
- ``event.settled`` / ``event.voided`` → a last ``event_update`` and ``event_settled`` /
  ``event_voided``;
- ``chat.message`` → ``chat_message``; ``chat.deleted`` → ``chat_deleted``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from datetime import UTC
from typing import Any

from wagerkit.domain.chat import ChatMessage
from wagerkit.domain.events import Event, EventStatus, pool_view
from wagerkit.domain.identity import Actor
from wagerkit.domain.money import CurrencyRegistry

__all__ = [
    "BALANCE_UPDATE",
    "CHAT_DELETED",
    "CHAT_MESSAGE",
    "EVENT_SETTLED",
    "EVENT_UPDATE",
    "EVENT_VOIDED",
    "NAMESPACE",
    "BalancePublisher",
    "RealtimePublisher",
    "balance_payload",
    "balance_view",
    "chat_payload",
    "event_room",
    "pool_payload",
    "user_room",
]

log = logging.getLogger("wagerkit.adapters.realtime")

NAMESPACE = "/"
BALANCE_UPDATE = "balance_update"
EVENT_UPDATE = "event_update"
EVENT_SETTLED = "event_settled"
EVENT_VOIDED = "event_voided"
CHAT_MESSAGE = "chat_message"
CHAT_DELETED = "chat_deleted"
_READ_CHUNK = 500  # users whose balances one query reads (bounded IN lists)


def user_room(user_id: int | str) -> str:
    """The room every socket of one user joins (for ``balance_update`` and the like)."""
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
    """One chat message as ``chat_message`` carries it (and the ``chat.message`` topic)."""
    return {
        "id": msg.id,
        "event_id": msg.event_id,
        "user_id": msg.user_id,
        "author": msg.author,
        "text": msg.text,
        "created_at": msg.created_at.isoformat(),
    }


def balance_view(b: Any, currencies: CurrencyRegistry) -> dict[str, Any]:
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


async def balance_payload(kit: Any, user_id: int) -> dict[str, Any]:
    """``{"user_id", "balances": [...]}`` as ``GET /api/v1/wallet`` shows them (``kit`` is a
    ``WagerKit``)."""
    balances = await kit.wallets.balances(Actor.system("realtime"), user_id)
    return {
        "user_id": user_id,
        "balances": [balance_view(b, kit.deps.currencies) for b in balances],
    }


class BalancePublisher:
    """An ``EventPublisher``: turns ``wallet.changed`` into ``balance_update`` pushes.

    ``kit`` (a ``WagerKit``) and ``emitter`` may be set after construction, once they exist;
    until then events are dropped. Failures are logged, never raised: the change has already
    been committed. Users nobody listens to are skipped without a read (see ``listening``).
    """

    def __init__(self, kit: Any = None, emitter: Any = None) -> None:
        self.kit = kit
        self.emitter = emitter

    def listening(self, room: str) -> bool:
        """Might a socket be in ``room``? With a server emitter whose rooms are all in this
        process (no Redis pub/sub manager) its room table answers exactly; with a shared
        manager, or a write-only one (the CLI), other processes may hold sockets: yes."""
        manager = getattr(self.emitter, "manager", None)
        if manager is None or getattr(manager, "channel", None) is not None:
            return True
        rooms = getattr(manager, "rooms", None)
        if not isinstance(rooms, Mapping):
            return True
        return bool(rooms.get(NAMESPACE, {}).get(room))

    async def publish(self, topic: str, payload: Mapping[str, Any]) -> None:
        if topic != "wallet.changed" or self.kit is None or self.emitter is None:
            return
        await self._push_balances(payload.get("user_ids", ()))

    async def _push_balances(self, user_ids: Iterable[Any]) -> None:
        """Read the listened-to users' balances in one query and push one update each."""
        wanted = sorted({int(u) for u in user_ids if self.listening(user_room(u))})
        for start in range(0, len(wanted), _READ_CHUNK):  # a settlement may pay 100,000
            await self._push_chunk(wanted[start : start + _READ_CHUNK])

    async def _push_chunk(self, wanted: list[int]) -> None:
        try:
            found = await self.kit.wallets.balances_of(Actor.system("realtime"), wanted)
        except Exception:
            log.warning("could not read balances for balance_update", exc_info=True)
            return
        currencies = self.kit.deps.currencies
        for user_id in wanted:
            data = {
                "user_id": user_id,
                "balances": [balance_view(b, currencies) for b in found.get(user_id, ())],
            }
            try:
                await self.emitter.emit(
                    BALANCE_UPDATE, data, room=user_room(user_id), namespace=NAMESPACE
                )
            except Exception:
                log.warning("could not push balance_update to user %s", user_id, exc_info=True)


class RealtimePublisher(BalancePublisher):
    """An ``EventPublisher`` for everything Socket.IO clients watch: ``balance_update`` (as
    ``BalancePublisher``), the event rooms and chat.

    ``event.pool`` and ``event.updated`` are coalesced per event: the first change after a
    quiet spell is sent at once, changes within ``coalesce_seconds`` of the last send are
    folded into one trailing ``event_update``, read from the store when it is sent (so it
    carries the latest totals). ``coalesce_seconds=0`` sends each one inline, awaited (the
    CLI: its process ends right after the command). Coalesced sends run as tasks of the
    running loop; ``aclose()`` cancels those still waiting (server shutdown).
    """

    #: how many settled/voided event ids to remember (a late, stale ``event_update`` of
    #: such an event is dropped) and how many last-send times to keep before pruning
    _REMEMBER = 1024

    def __init__(
        self, kit: Any = None, emitter: Any = None, *, coalesce_seconds: float = 0.25
    ) -> None:
        super().__init__(kit, emitter)
        self.coalesce_seconds = coalesce_seconds
        self._pending: dict[int, asyncio.Task[None]] = {}
        self._dirty: set[int] = set()
        self._last: dict[int, float] = {}
        self._final: OrderedDict[int, None] = OrderedDict()
        self.sent_updates = 0  # event_update emits so far (metrics, tests)
        self._balances_dirty: set[int] = set()
        self._balances_task: asyncio.Task[None] | None = None

    async def publish(self, topic: str, payload: Mapping[str, Any]) -> None:
        if self.kit is None or self.emitter is None:
            return
        try:
            if topic == "wallet.changed":
                await self._balances_changed(payload.get("user_ids", ()))
            elif topic in ("event.pool", "event.updated"):
                await self._changed(int(payload["event_id"]))
            elif topic in ("event.settled", "event.voided"):
                await self._resolved(topic, payload)
            elif topic == "chat.message":
                await self._emit(CHAT_MESSAGE, dict(payload), event_room(payload["event_id"]))
            elif topic == "chat.deleted":
                data = {"id": payload["id"], "event_id": payload["event_id"]}
                await self._emit(CHAT_DELETED, data, event_room(payload["event_id"]))
        except Exception:
            log.warning("could not push %s", topic, exc_info=True)

    async def _emit(self, name: str, data: dict[str, Any], room: str) -> None:
        await self.emitter.emit(name, data, room=room, namespace=NAMESPACE)

    # -- balance_update, off the caller's path -------------------------------------------
    async def _balances_changed(self, user_ids: Iterable[Any]) -> None:
        """Inline when not coalescing (the CLI); else queued for a background flush that
        reads every queued user's balances at once, so a use case (the bet batcher) never
        waits for pushes. Each read happens after the change it announces."""
        if self.coalesce_seconds <= 0:
            await self._push_balances(user_ids)
            return
        self._balances_dirty.update(int(u) for u in user_ids)
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

    # -- event_update, coalesced ---------------------------------------------------------
    async def _changed(self, event_id: int) -> None:
        if not self.listening(event_room(event_id)):
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
            event = await self.kit.events.get(event_id)
        if event_id in self._final and not event.status.final:
            return  # read before the final commit, sent after the final view: stale
        self.sent_updates += 1
        await self._emit(EVENT_UPDATE, pool_payload(event), event_room(event_id))

    # -- settlement results ----------------------------------------------------------------
    async def _resolved(self, topic: str, payload: Mapping[str, Any]) -> None:
        event_id = int(payload["event_id"])
        self._final[event_id] = None
        while len(self._final) > self._REMEMBER:
            self._final.popitem(last=False)
        event: Event = await self.kit.events.get(event_id)
        await self._send_update(event_id, event)
        voided = topic == "event.voided" or event.status is EventStatus.VOIDED
        winner = event.winning_outcome_id if not voided else None
        data = {
            "event_id": event_id,
            "status": event.status.value,
            "winning_outcome_id": winner,
            "winning_outcome": event.outcome(winner).name if winner is not None else None,
            "refund": bool(payload.get("refund", voided)),
            "rake": int(payload.get("rake", 0)),
            "bets": int(payload.get("bets", event.bet_count)),
            "paid": int(payload.get("paid", 0)),
            "pool": pool_payload(event),
        }
        name = EVENT_VOIDED if voided else EVENT_SETTLED
        await self._emit(name, data, event_room(event_id))

    async def aclose(self) -> None:
        """Cancel the coalesced sends still waiting (at server shutdown)."""
        tasks = list(self._pending.values())
        if self._balances_task is not None:
            tasks.append(self._balances_task)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._dirty.clear()
