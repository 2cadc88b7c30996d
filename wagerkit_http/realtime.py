"""The Socket.IO server (python-socketio, ASGI mode) mounted beside the Sanic app.

One ``AsyncServer`` per process, handlers grouped in ``WagerkitNamespace`` (namespace ``/``).
With ``REDIS_URL`` set, ``AsyncRedisManager`` relays emits and room membership between the
server processes, so an event emitted in one process reaches a client connected to another.

Today: every connection is accepted and ``ping`` is answered with ``pong`` (as an event and as
the acknowledgement). The shape is ready for the next steps: ``on_connect`` receives the
``auth`` payload, where a token will be checked (refuse with ``ConnectionRefusedError``), the
user id kept in the session (``save_session``) and the socket put in ``user_room(user_id)``;
use cases then publish to those rooms through ``app.ctx.sio``.
"""

from __future__ import annotations

import logging
from typing import Any

import socketio  # type: ignore[import-untyped]

from wagerkit.config import Settings

from .context import WagerkitApp

__all__ = ["NAMESPACE", "WagerkitNamespace", "create_sio", "user_room"]

log = logging.getLogger("wagerkit_http.realtime")

NAMESPACE = "/"


def user_room(user_id: str) -> str:
    """The room every socket of one user joins (for ``balance_update`` and the like)."""
    return f"user:{user_id}"


class WagerkitNamespace(socketio.AsyncNamespace):  # type: ignore[misc]
    """The event handlers; ``self.app`` reaches the use cases through ``app.ctx.kit``."""

    def __init__(self, app: WagerkitApp, namespace: str = NAMESPACE) -> None:
        super().__init__(namespace)
        self.app = app

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
        # Token authentication and per-user rooms arrive here in a later issue.
        log.debug("socket %s connected", sid)
        return True

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        log.debug("socket %s disconnected (%s)", sid, reason)

    async def on_ping(self, sid: str, data: Any = None) -> str:
        """Answer ``ping`` with a ``pong`` event carrying the same data, and ack ``"pong"``."""
        await self.emit("pong", data, to=sid)
        return "pong"


def create_sio(settings: Settings, app: WagerkitApp) -> socketio.AsyncServer:
    """The Socket.IO server for ``app``, sharing rooms through Redis when configured."""
    manager = socketio.AsyncRedisManager(settings.redis_url) if settings.redis_url else None
    sio = socketio.AsyncServer(
        async_mode="asgi",
        client_manager=manager,
        logger=False,
        engineio_logger=False,
    )
    sio.register_namespace(WagerkitNamespace(app))
    return sio
