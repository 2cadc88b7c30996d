"""The typed state one server app holds (``app.ctx``) and the request class that enforces the
body size limit.

Everything a route needs is reached through ``request.app.ctx``: the settings, the ``WagerKit``
use cases, the store they run on, the metrics and (when mounted through ``create_asgi``) the
Socket.IO server. Nothing lives in module globals, so several apps can share one process.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, TypeAlias

from sanic import Request, Sanic
from sanic.config import Config
from sanic.exceptions import PayloadTooLarge

from wagerkit import UnitOfWorkFactory, WagerKit
from wagerkit.config import Settings

from .telegram import TelegramConfig

if TYPE_CHECKING:
    from .metrics import Metrics

__all__ = ["AppContext", "SchemaState", "WagerkitApp", "WagerkitRequest"]

#: The cap on a request body (a JSON API needs little); ``SANIC_REQUEST_MAX_SIZE`` overrides.
DEFAULT_MAX_BODY = 1024 * 1024


@dataclass(slots=True)
class SchemaState:
    """What the server knows about the database schema, for ``/ready``.

    ``heads`` is the set of Alembic head revisions shipped with this code (``None`` when the
    migrations directory is not available); ``at_head`` turns true once the database was seen
    at those heads and then stays true (schemas do not move backwards under a running server).
    """

    heads: frozenset[str] | None = None
    at_head: bool = False
    checked: bool = False


@dataclass
class AppContext:
    """``app.ctx`` of a wagerkit server (built by ``create_app``). Not slotted: Sanic and
    sanic-ext keep their own attributes on it too."""

    settings: Settings
    kit: WagerKit
    store: UnitOfWorkFactory
    owns_store: bool
    metrics: Metrics
    schema: SchemaState = field(default_factory=SchemaState)
    sio: Any = None  # the socketio.AsyncServer (realtime.py), mounted by create_asgi
    telegram: TelegramConfig = field(default_factory=TelegramConfig)
    started: bool = False


WagerkitApp: TypeAlias = Sanic[Config, AppContext]


class WagerkitRequest(Request[WagerkitApp, SimpleNamespace]):
    """A request that refuses bodies over ``REQUEST_MAX_SIZE`` under any server.

    Sanic's own HTTP server enforces the limit, but under ASGI (uvicorn) Sanic reads whatever
    body arrives; this class checks ``Content-Length`` first and counts streamed chunks too.
    """

    async def receive_body(self) -> None:
        if self.body:
            return
        limit = int(self.app.config.REQUEST_MAX_SIZE)
        declared = self.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise PayloadTooLarge("request body exceeds the size limit")
        chunks: list[bytes] = []
        size = 0
        async for chunk in self.stream:  # type: ignore[union-attr]
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge("request body exceeds the size limit")
            chunks.append(chunk)
        self.body = b"".join(chunks)
