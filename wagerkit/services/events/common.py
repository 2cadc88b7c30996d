"""What the events area's use cases share: the ports, the settings and small helpers.

``EventService`` (this package's ``__init__``) is one class built from three parts, one
module each: ``operations`` (reading, create, edit, open, lock), ``settlement`` (settle, void,
resume, on the shared payout runner) and ``betting`` (the bet path, on the shared group
commit). Each part inherits this base, which the service's constructor fills.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from ...domain.audit import AuditRecord
from ...domain.errors import (
    EventNotFound,
)
from ...domain.events import (
    Event,
)
from ...domain.identity import Actor, User
from ...domain.notifications import EventChanged
from ...domain.refs import (
    event_ref,
)
from ...ports import UnitOfWork
from ..base import Deps


async def get_event(uow: UnitOfWork, event_id: int, lock: str = "none") -> Event:
    """The event, read (and locked as asked), or ``EventNotFound``."""
    if isinstance(event_id, bool) or not isinstance(event_id, int):
        raise EventNotFound(f"no event {str(event_id)[:40]!r}")
    event = await uow.events.get(event_id, lock=lock)
    if event is None:
        raise EventNotFound(f"no event {event_id}")
    return event


class EventsBase:
    """The state every part of ``EventService`` reads (set by its constructor)."""

    _d: Deps
    _limit: Callable[[Actor, str], Awaitable[None]] | None
    _claims: Callable[[str], tuple[int, str]] | None
    _admit: Callable[[User | None, str], Actor] | None
    chunk_size: int
    stale_after_seconds: int

    def _audit(
        self, actor: Actor, action: str, event: Event, reason: str, **details: str
    ) -> AuditRecord:
        return AuditRecord(
            self._d.clock.now(),
            actor.user_id,
            actor.name,
            action,
            event_ref(event.id),
            reason[:500],
            {"title": event.title[:100], **details},
        )

    _get = staticmethod(get_event)

    async def _publish_event(self, event: Event) -> None:
        await self._d.publisher.publish(EventChanged(event.id, event.status))
