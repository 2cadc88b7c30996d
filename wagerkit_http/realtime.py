"""The Socket.IO server (python-socketio, ASGI mode) mounted beside the Sanic app.

One ``AsyncServer`` per process, handlers grouped in ``WagerkitNamespace`` (namespace ``/``).
With ``REDIS_URL`` set, ``AsyncRedisManager`` relays emits and room membership between the
server processes, so an event emitted in one process reaches a client connected to another.

- **connect** with ``auth: {"token": "<access token>"}`` (or ``{"init_data": "<initData>"}``
  from a Telegram Mini App, or, with no ``auth``, the ``__Host-wagerkit_token`` cookie from
  an Origin in ``WAGERKIT_ALLOWED_ORIGINS``: docs/auth.md). A missing, bad or expired token, a banned or non-whitelisted
  user is refused: the client gets a ``connect_error`` whose data is ``{"code", "message"}``
  (the same stable codes as the HTTP problems). An accepted socket joins ``user:<id>``.
- **request_balance** → ``balance_update`` ``{"user_id", "balances": [...]}`` to that socket
  (and the same payload as the acknowledgement). The user is read fresh: a user banned since
  connecting gets the ack ``{"error": {"code", "message"}}`` and is disconnected.
- **ping** → ``pong`` (event and acknowledgement), for clients checking the link.
- **join_event** ``{"event_id"}`` → the socket joins ``event:<id>``; the ack is
  ``{"pool": <pool view>, "chat": [recent messages, oldest first], "my_bet": {...} | None}``.
  **leave_event** ``{"event_id"}`` leaves it (ack ``{"event_id", "left": true}``).
- **chat_message** ``{"event_id", "text"}`` → ``kit.chat.post`` as the user, read fresh
  (banned: refused and cut off; muted: ``chat_muted``; too fast: ``rate_limited`` with
  ``retry_after``); the ack is the stored message, the room gets ``chat_message``.
- Every refusal is the ack ``{"error": {"code", "message"}}`` with the HTTP problems' codes.
- A ban cuts the user's sockets off at once: the ban's ``UserChanged`` notification reaches
  the live updates, whose sink disconnects ``user:<id>`` here and, with Redis, closes the
  room in every process; ``RedisManager`` turns the closing of a ``user:`` room into
  disconnects of its sockets.
- Pushes come from the live updates (``wagerkit.services.realtime.LiveUpdates``) that
  ``create_app`` gives ``WagerKit`` (``realtime=SocketIOSink(sio)``): ``balance_update`` to
  ``user:<id>``; pool changes → coalesced ``event_update``; results → ``event_settled`` /
  ``event_voided``; chat → ``chat_message`` / ``chat_deleted``, all through Redis when
  configured. The CLI builds the same over a write-only ``AsyncRedisManager`` when
  ``REDIS_URL`` is set, so its changes reach these sockets too. See docs/realtime.md.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import UTC
from typing import Any

import socketio  # type: ignore[import-untyped]

from wagerkit import Actor, Bet, InvalidInput, RateLimited, WagerkitError
from wagerkit.adapters.realtime import NAMESPACE
from wagerkit.config import Settings
from wagerkit.realtime import (
    BALANCE_UPDATE,
    balance_payload,
    chat_payload,
    event_room,
    pool_payload,
    user_room,
)

from .auth import actor_from_credentials, cookie_in_header, origin_allowed, origin_not_allowed
from .context import WagerkitApp
from .errors import ProblemError
from .sio_packets import harden

__all__ = [
    "BALANCE_UPDATE",
    "MAX_EVENT_ROOMS",
    "NAMESPACE",
    "RedisManager",
    "WagerkitNamespace",
    "create_sio",
    "event_room",
    "user_room",
]

log = logging.getLogger("wagerkit_http.realtime")

#: how many event rooms one socket may be in at once
MAX_EVENT_ROOMS = 20
#: how many recent chat messages the ``join_event`` answer carries
JOIN_CHAT_HISTORY = 50


class RedisManager(socketio.AsyncRedisManager):  # type: ignore[misc]
    """``AsyncRedisManager`` that cuts off a user's sockets when ``user:<id>`` is closed.

    ``close_room`` travels to every process through Redis (from a server or from the CLI's
    write-only manager); each process removes the room's sockets from the room, and this one
    first disconnects those of a ``user:`` room, which only a ban closes
    (``SocketIOSink.disconnect``). Rooms of other names keep the plain meaning.
    """

    async def _handle_close_room(self, message: dict[str, Any]) -> None:
        room = message.get("room")
        namespace = message.get("namespace") or NAMESPACE
        if isinstance(room, str) and room.startswith(user_room("")):
            sids = [sid for sid, _ in self.get_participants(namespace, room)]
            for sid in sids:
                await self.server.disconnect(sid, namespace=namespace, ignore_queue=True)
        await super()._handle_close_room(message)


def _refusal(exc: Exception) -> dict[str, str]:
    if isinstance(exc, WagerkitError):
        return {"code": exc.code, "message": exc.detail}
    if isinstance(exc, ProblemError):
        return {"code": exc.code, "message": exc.detail}
    return {"code": "unauthenticated", "message": "authentication failed"}


def _error(exc: WagerkitError) -> dict[str, Any]:
    """The acknowledgement of a refused request: ``{"error": {"code", "message"}}`` (plus
    ``retry_after`` seconds when rate-limited)."""
    body: dict[str, Any] = {"code": exc.code, "message": exc.detail}
    if isinstance(exc, RateLimited):
        body["retry_after"] = max(1, round(exc.retry_after))
    return {"error": body}


_INTERNAL = {"error": {"code": "internal_error", "message": "the request could not be handled"}}


def _event_id(data: Any) -> int:
    """``data["event_id"]``: a positive integer (a string of digits is accepted too)."""
    raw = data.get("event_id") if isinstance(data, Mapping) else None
    if isinstance(raw, str) and raw.isdigit() and len(raw) < 19:
        raw = int(raw)
    if isinstance(raw, bool) or not isinstance(raw, int) or raw <= 0 or raw >= 2**63:
        raise InvalidInput("expected {event_id: <positive integer>}")
    return raw


def _bet_view(bet: Bet | None, currency: str) -> dict[str, Any] | None:
    """A bet as ``GET /api/v1/events/{id}`` shows ``my_bet``."""
    if bet is None:
        return None
    return {
        "id": bet.id,
        "event_id": bet.event_id,
        "outcome_id": bet.outcome_id,
        "user_id": bet.user_id,
        "amount": bet.amount,
        "currency": currency,
        "status": bet.status.value,
        "payout": bet.payout,
        "placements": bet.placements,
        "placed_at": bet.placed_at.astimezone(UTC).isoformat(),
        "updated_at": bet.updated_at.astimezone(UTC).isoformat(),
    }


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
        elif (cookie := cookie_in_header(environ.get("HTTP_COOKIE"))) is not None:
            # a browser page with the HttpOnly access-token cookie (docs/auth.md): only from
            # an allowed Origin, as every state-changing request authenticated by the cookie
            if not origin_allowed(self.app.ctx, environ.get("HTTP_ORIGIN")):
                raise _refuse(_refusal(origin_not_allowed()))
            scheme, credentials = "bearer", cookie
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
            payload = await balance_payload(kit.wallets, kit.deps.currencies, user_id)
        except WagerkitError as exc:
            # answer first (the ack), then cut the socket off
            task = asyncio.create_task(self._disconnect_later(sid))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return {"error": _refusal(exc)}
        await self.emit(BALANCE_UPDATE, payload, to=sid)
        return payload

    # -- event rooms and chat ------------------------------------------------------------
    async def _actor(self, sid: str) -> Actor:
        """The socket's user, read fresh: banned since connecting raises (and the socket is
        cut off once the refusal was answered)."""
        session = await self.get_session(sid)
        try:
            actor: Actor = await self.app.ctx.kit.identity.actor_for(int(session["user_id"]))
        except WagerkitError:
            task = asyncio.create_task(self._disconnect_later(sid))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            raise
        return actor

    async def on_join_event(self, sid: str, data: Any = None) -> dict[str, Any]:
        """Join ``event:<id>``; answer with the pool view, recent chat and the user's bet."""
        kit = self.app.ctx.kit
        try:
            event_id = _event_id(data)
            actor = await self._actor(sid)
            rooms = [r for r in self.rooms(sid) if r.startswith("event:")]
            room = event_room(event_id)
            if room not in rooms and len(rooms) >= MAX_EVENT_ROOMS:
                raise InvalidInput(
                    f"a socket may watch at most {MAX_EVENT_ROOMS} events; leave_event one first"
                )
        except WagerkitError as exc:
            return _error(exc)
        except Exception:
            log.exception("join_event failed")
            return _INTERNAL
        # join first, then read: a change committed meanwhile is pushed or already read
        await self.enter_room(sid, room)
        try:
            event = await kit.events.get(event_id)
            history = await kit.chat.history(event_id, limit=JOIN_CHAT_HISTORY)
            bet = await kit.events.my_bet(actor, event_id)
        except Exception as exc:
            if room not in rooms:
                await self.leave_room(sid, room)
            if isinstance(exc, WagerkitError):
                return _error(exc)
            log.exception("join_event failed")
            return _INTERNAL
        return {
            "pool": pool_payload(event),
            "chat": [chat_payload(m) for m in reversed(history)],
            "my_bet": _bet_view(bet, event.currency),
        }

    async def on_leave_event(self, sid: str, data: Any = None) -> dict[str, Any]:
        """Leave ``event:<id>`` (answered the same whether the socket was in it or not)."""
        try:
            event_id = _event_id(data)
        except WagerkitError as exc:
            return _error(exc)
        await self.leave_room(sid, event_room(event_id))
        return {"event_id": event_id, "left": True}

    async def on_chat_message(self, sid: str, data: Any = None) -> dict[str, Any]:
        """Post ``{"event_id", "text"}`` to the event's chat; the ack is the stored message
        (the room, this socket included when it joined, gets it as ``chat_message``)."""
        try:
            event_id = _event_id(data)
            text = data.get("text")
            actor = await self._actor(sid)
            msg = await self.app.ctx.kit.chat.post(actor, event_id, text)
        except WagerkitError as exc:
            return _error(exc)
        except Exception:
            log.exception("chat_message failed")
            return _INTERNAL
        return chat_payload(msg)


def create_sio(settings: Settings) -> socketio.AsyncServer:
    """The Socket.IO server of one process, sharing rooms through Redis when configured.
    Built before the ``WagerKit`` (whose live updates send through it); ``create_app``
    registers the ``WagerkitNamespace`` on it."""
    manager = RedisManager(settings.redis_url) if settings.redis_url else None
    sio = socketio.AsyncServer(
        async_mode="asgi",
        client_manager=manager,
        logger=False,
        engineio_logger=False,
    )
    harden(sio)  # malformed packets are refused, never a traceback (sio_packets.py)
    return sio
