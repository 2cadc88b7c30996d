"""The Socket.IO ``RealtimeSink``: sends to rooms, reads nothing (docs/realtime.md).

``SocketIOSink(emitter)`` sends what the live updates (``wagerkit.services.realtime``) hand it
through an *emitter*: the server's ``socketio.AsyncServer``, or a write-only
``socketio.AsyncRedisManager(REDIS_URL, write_only=True)`` in a process without a Socket.IO
server (the CLI, a worker), whose emits reach the sockets held by the server processes through
Redis. No third-party import here: the emitter is duck-typed.

``disconnect(room)`` cuts off a room's sockets (a banned user's ``user:<id>``): those of this
process through the server's ``disconnect``, those of other processes by closing the room
through the Redis manager, which the server processes' manager
(``wagerkit_http.realtime.RedisManager``) turns into disconnects of the room's sockets.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

__all__ = ["NAMESPACE", "SocketIOSink"]

log = logging.getLogger("wagerkit.adapters.realtime")

NAMESPACE = "/"


class SocketIOSink:
    """A ``RealtimeSink`` over a Socket.IO emitter (``None``: every send is dropped)."""

    def __init__(self, emitter: Any = None) -> None:
        self.emitter = emitter

    @property
    def _manager(self) -> Any:
        """The client manager: the server's, or the emitter itself (a write-only manager)."""
        return getattr(self.emitter, "manager", self.emitter)

    def _local_rooms(self) -> Mapping[Any, Any] | None:
        """This namespace's room table when every room is in this process (a server emitter
        with no Redis pub/sub manager); ``None`` when sockets may be elsewhere or unknown."""
        manager = getattr(self.emitter, "manager", None)
        if manager is None or getattr(manager, "channel", None) is not None:
            return None
        rooms = getattr(manager, "rooms", None)
        if not isinstance(rooms, Mapping):
            return None
        found: Mapping[Any, Any] = rooms.get(NAMESPACE, {})
        return found

    def listening(self, room: str) -> bool:
        """Might a socket be in ``room``? With a server emitter whose rooms are all in this
        process (no Redis pub/sub manager) its room table answers exactly; with a shared
        manager, or a write-only one (the CLI), other processes may hold sockets: yes."""
        rooms = self._local_rooms()
        if rooms is None:
            return self.emitter is not None
        return bool(rooms.get(room))

    def listening_any(self, prefix: str) -> bool:
        """Might a socket be in any room whose name starts with ``prefix``? Exact, as
        ``listening``, only for a server whose rooms are all in this process."""
        rooms = self._local_rooms()
        if rooms is None:
            return self.emitter is not None
        return any(
            members and isinstance(name, str) and name.startswith(prefix)
            for name, members in rooms.items()
        )

    async def send(self, name: str, data: Mapping[str, Any], room: str) -> None:
        if self.emitter is None:
            return
        await self.emitter.emit(name, dict(data), room=room, namespace=NAMESPACE)

    async def disconnect(self, room: str) -> None:
        """Disconnect every socket in ``room``: here at once, elsewhere through Redis."""
        if self.emitter is None:
            return
        manager = self._manager
        if hasattr(self.emitter, "manager"):  # a server: its own sockets first
            sids = [sid for sid, _ in manager.get_participants(NAMESPACE, room)]
            for sid in sids:
                await self.emitter.disconnect(sid, namespace=NAMESPACE)
        if getattr(manager, "channel", None) is not None:  # pub/sub: the other processes
            await manager.close_room(room, namespace=NAMESPACE)
