"""What the events area sends live (docs/realtime.md): the ``event:<id>`` room's messages.

``register_event_updates(live, events)`` is the area's one registration on ``LiveUpdates``:

- ``PoolChanged`` / ``EventChanged`` → ``event_update`` (the pool view), coalesced per event
  room (``LiveUpdates.coalesced``), read when it is sent;
- ``EventResolved`` → a last ``event_update`` and ``event_settled`` / ``event_voided``; an
  ``event_update`` read before the final commit but sent after it is dropped;
- ``ChatPosted`` → ``chat_message``; ``ChatDeleted`` → ``chat_deleted``.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC
from typing import TYPE_CHECKING, Any

from ...domain.chat import ChatMessage
from ...domain.events import Event, pool_view
from ...domain.notifications import (
    ChatDeleted,
    ChatPosted,
    EventChanged,
    EventResolved,
    PoolChanged,
)

if TYPE_CHECKING:
    from ..realtime import LiveUpdates
    from . import EventService

__all__ = [
    "CHAT_DELETED",
    "CHAT_MESSAGE",
    "EVENT_SETTLED",
    "EVENT_UPDATE",
    "EVENT_VOIDED",
    "chat_payload",
    "event_room",
    "pool_payload",
    "register_event_updates",
]

EVENT_UPDATE = "event_update"
EVENT_SETTLED = "event_settled"
EVENT_VOIDED = "event_voided"
CHAT_MESSAGE = "chat_message"
CHAT_DELETED = "chat_deleted"
_REMEMBER = 1024  # resolved events remembered (their stale updates are dropped)


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


class _EventUpdates:
    def __init__(self, live: LiveUpdates, events: EventService) -> None:
        self.live = live
        self.events = events
        self.final: OrderedDict[int, None] = OrderedDict()

    async def changed(self, note: PoolChanged | EventChanged) -> None:
        event_id = note.event_id

        async def read() -> tuple[str, dict[str, Any]] | None:
            return self.view(await self.events.get(event_id))

        await self.live.coalesced(event_room(event_id), read)

    def view(self, event: Event) -> tuple[str, dict[str, Any]] | None:
        if event.id in self.final and not event.status.final:
            return None  # read before the final commit, sent after the final view: stale
        return EVENT_UPDATE, pool_payload(event)

    async def resolved(self, note: EventResolved) -> None:
        event_id = note.event_id
        self.final[event_id] = None
        while len(self.final) > _REMEMBER:
            self.final.popitem(last=False)
        event = await self.events.get(event_id)
        room = event_room(event_id)
        await self.live.send(EVENT_UPDATE, pool_payload(event), room)
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
        await self.live.send(EVENT_VOIDED if voided else EVENT_SETTLED, data, room)

    async def chat_posted(self, note: ChatPosted) -> None:
        msg = note.message
        await self.live.send(CHAT_MESSAGE, chat_payload(msg), event_room(msg.event_id))

    async def chat_deleted(self, note: ChatDeleted) -> None:
        data = {"id": note.id, "event_id": note.event_id}
        await self.live.send(CHAT_DELETED, data, event_room(note.event_id))


def register_event_updates(live: LiveUpdates, events: EventService) -> None:
    """The events area's live updates (pools, results, chat), registered on ``live``."""
    updates = _EventUpdates(live, events)
    live.on(PoolChanged, updates.changed)
    live.on(EventChanged, updates.changed)
    live.on(EventResolved, updates.resolved)
    live.on(ChatPosted, updates.chat_posted)
    live.on(ChatDeleted, updates.chat_deleted)
