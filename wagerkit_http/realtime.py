"""The Socket.IO server (python-socketio, ASGI mode) mounted beside the Sanic app.

One ``AsyncServer`` per process, handlers grouped in ``WagerkitNamespace`` (namespace ``/``).
With ``REDIS_URL`` set, ``AsyncRedisManager`` relays emits and room membership between the
server processes, so an event emitted in one process reaches a client connected to another.

- **connect** with ``auth: {"token": "<access token>"}`` (or ``{"init_data": "<initData>"}``
  from a Telegram Mini App). A missing, bad or expired token, a banned or non-whitelisted
  user is refused: the client gets a ``connect_error`` whose data is ``{"code", "message"}``
  (the same stable codes as the HTTP problems). An accepted socket joins ``user:<id>``.
- **request_balance** → ``balance_update`` ``{"user_id", "balances": [...]}`` to that socket
  (and the same payload as the acknowledgement). The user is read fresh: a user banned since
  connecting gets the ack ``{"error": {"code", "message"}}`` and is disconnected.
- **ping** → ``pong`` (event and acknowledgement), for clients checking the link.
- ``BalancePublisher`` (``wagerkit.adapters.realtime``, re-exported here) is the
  ``EventPublisher`` the server passes to ``WagerKit``: after every ``wallet.changed`` (any
  use case, any adapter in this process) it reads the users' balances and emits
  ``balance_update`` to each ``user:<id>`` room, through Redis when configured. The CLI
  builds the same publisher over a write-only ``AsyncRedisManager`` when ``REDIS_URL`` is
  set, so its wallet changes reach these sockets too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import socketio  # type: ignore[import-untyped]

from wagerkit.adapters.realtime import (
    BALANCE_UPDATE,
    NAMESPACE,
    BalancePublisher,
    balance_payload,
    user_room,
)
from wagerkit.config import Settings
from wagerkit.domain.errors import WagerkitError

from .auth import actor_from_credentials
from .context import WagerkitApp
from .errors import ProblemError

__all__ = [
    "BALANCE_UPDATE",
    "NAMESPACE",
    "BalancePublisher",
    "ChainPublisher",
    "WagerkitNamespace",
    "balance_payload",
    "create_sio",
    "user_room",
]

log = logging.getLogger("wagerkit_http.realtime")


class ChainPublisher:
    """Several publishers, in order (an embedder's own publisher and the server's)."""

    def __init__(self, *publishers: Any) -> None:
        self.publishers = publishers

    async def publish(self, topic: str, payload: Mapping[str, Any]) -> None:
        for p in self.publishers:
            await p.publish(topic, payload)


def _refusal(exc: Exception) -> dict[str, str]:
    if isinstance(exc, WagerkitError):
        return {"code": exc.code, "message": exc.detail}
    if isinstance(exc, ProblemError):
        return {"code": exc.code, "message": exc.detail}
    return {"code": "unauthenticated", "message": "authentication failed"}


def _refuse(reason: dict[str, str]) -> Exception:
    """A refused connection: the client's ``connect_error`` gets ``{"message", "data"}``,
    ``data`` being ``{"code", "message"}``."""
    return socketio.exceptions.ConnectionRefusedError(reason["message"], reason)  # type: ignore[no-any-return]


class WagerkitNamespace(socketio.AsyncNamespace):  # type: ignore[misc]
    """The event handlers; ``self.app`` reaches the use cases through ``app.ctx.kit``."""

    def __init__(self, app: WagerkitApp, namespace: str = NAMESPACE) -> None:
        super().__init__(namespace)
        self.app = app
        self._tasks: set[asyncio.Task[None]] = set()

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
        """Authenticate with ``auth: {token}`` or ``auth: {init_data}``; refuse otherwise."""
        if isinstance(auth, Mapping) and isinstance(auth.get("token"), str):
            scheme, credentials = "bearer", auth["token"]
        elif isinstance(auth, Mapping) and isinstance(auth.get("init_data"), str):
            scheme, credentials = "tma", auth["init_data"]
        else:
            raise _refuse(
                {"code": "unauthenticated", "message": "connect with auth: {token: <token>}"}
            )
        try:
            actor = await actor_from_credentials(self.app.ctx, scheme, credentials)
        except (WagerkitError, ProblemError) as exc:
            raise _refuse(_refusal(exc)) from None
        if actor.user_id is None:  # pragma: no cover - tokens always name a user
            raise _refuse({"code": "unauthenticated", "message": "no user"})
        await self.save_session(sid, {"user_id": actor.user_id})
        await self.enter_room(sid, user_room(actor.user_id))
        log.debug("socket %s connected as user %s", sid, actor.user_id)
        return True

    async def _disconnect_later(self, sid: str) -> None:
        await asyncio.sleep(0.2)
        await self.disconnect(sid)

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        log.debug("socket %s disconnected (%s)", sid, reason)

    async def on_ping(self, sid: str, data: Any = None) -> str:
        """Answer ``ping`` with a ``pong`` event carrying the same data, and ack ``"pong"``."""
        await self.emit("pong", data, to=sid)
        return "pong"

    async def on_request_balance(self, sid: str, data: Any = None) -> dict[str, Any]:
        """Emit ``balance_update`` with the user's balances to this socket (and ack it)."""
        session = await self.get_session(sid)
        user_id = int(session["user_id"])
        kit = self.app.ctx.kit
        try:
            await kit.identity.actor_for(user_id)  # banned since connecting: refused
            payload = await balance_payload(kit, user_id)
        except WagerkitError as exc:
            # answer first (the ack), then cut the socket off
            task = asyncio.create_task(self._disconnect_later(sid))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return {"error": _refusal(exc)}
        await self.emit(BALANCE_UPDATE, payload, to=sid)
        return payload


def create_sio(settings: Settings, app: WagerkitApp) -> socketio.AsyncServer:
    """The Socket.IO server for ``app``, sharing rooms through Redis when configured; the
    app's ``BalancePublisher`` emits through it from now on."""
    manager = socketio.AsyncRedisManager(settings.redis_url) if settings.redis_url else None
    sio = socketio.AsyncServer(
        async_mode="asgi",
        client_manager=manager,
        logger=False,
        engineio_logger=False,
    )
    sio.register_namespace(WagerkitNamespace(app))
    if app.ctx.publisher is not None:
        app.ctx.publisher.emitter = sio
    return sio
