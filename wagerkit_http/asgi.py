"""The ASGI application: Socket.IO in front, the Sanic app behind it.

``socketio.ASGIApp`` answers ``/socket.io/`` itself and hands every other request, and the
ASGI lifespan, to Sanic (it forwards the lifespan only when given no ``on_startup`` /
``on_shutdown`` of its own, so none are passed). That is what makes Sanic's start-up and
shutdown listeners run under uvicorn.

Sanic's TouchUp: at start-up Sanic can rewrite its request path (``Sanic.handle_request`` and
the middleware runners) without the ``dispatch`` calls of the lifecycle signals nobody
listens to; left in, every request pays about ten signal look-ups, about half of Sanic's own
time per request under ASGI (docs/benchmarks.md, "Serving options"). The rewrite is of the
``Sanic`` class, so it can run once per process and suits only a process whose apps register
the same signals: a server process, with its one app. ``create_asgi`` turns it on when it is
the server's factory (called with no arguments, as ``uvicorn ... --factory`` does; ``serve.run``
passes ``touchup=True``) and, at start-up, only if no app of this process was rewritten
already; tests and embedding apps that build several apps in one process keep Sanic as it is.

The garbage collector: a server process holds ~200,000 long-lived objects after start-up
(routes, the OpenAPI document, SQLAlchemy's tables, pydantic's validators), and every full
collection walked all of them while requests waited (0.5-1.4 s of wall time, once per few
seconds under load, in a bench worker on the shared 2-core machine). The server factory moves them
out of the collector's reach once the app has started (``gc.freeze()``, after one collection);
what requests allocate is collected as before. Like TouchUp, only for a server process
(``freeze_gc``, default: as ``touchup``).

Run it with ``uvicorn wagerkit_http.asgi:create_asgi --factory`` (settings from the
environment) or ``wagerkit_http.serve.run(settings)``.
"""

from __future__ import annotations

import gc
from typing import Any

import socketio  # type: ignore[import-untyped]
from sanic import Sanic

from wagerkit.config import Settings

from .app import create_app
from .context import WagerkitApp

__all__ = ["SOCKETIO_PATH", "create_asgi"]

SOCKETIO_PATH = "socket.io"


class _SocketIOFront(socketio.ASGIApp):  # type: ignore[misc]
    """``socketio.ASGIApp`` that settles Sanic's TouchUp just before Sanic starts."""

    def __init__(self, sio: Any, sanic_app: WagerkitApp, *, touchup: bool) -> None:
        super().__init__(sio, other_asgi_app=sanic_app, socketio_path=SOCKETIO_PATH)
        self._sanic = sanic_app
        self._touchup = touchup

    async def lifespan(self, scope: Any, receive: Any, send: Any) -> None:
        # once per process: a second rewrite would fail (the rewritten methods have no source)
        self._sanic.config.TOUCHUP = self._touchup and not getattr(Sanic, "__touched__", False)
        await super().lifespan(scope, receive, send)


def create_asgi(
    settings: Settings | None = None,
    *,
    app: WagerkitApp | None = None,
    touchup: bool | None = None,
    freeze_gc: bool | None = None,
) -> Any:
    """Build the ASGI app (a ``socketio.ASGIApp``) for ``settings`` (default: from the
    environment). Pass ``app`` to mount an already-built Sanic app (embedding, tests).
    ``touchup``: let Sanic rewrite its request path at start-up (see the module docstring;
    default: only when called with no arguments, as a server's factory). ``freeze_gc``: put
    what start-up built out of the garbage collector's reach once the app has started (see the
    module docstring; default: as ``touchup``)."""
    if touchup is None:
        touchup = settings is None and app is None
    if freeze_gc is None:
        freeze_gc = touchup
    settings = settings if settings is not None else (app.ctx.settings if app else Settings())  # type: ignore[call-arg]
    sanic_app = app if app is not None else create_app(settings)
    if freeze_gc:
        sanic_app.register_listener(_freeze_gc, "after_server_start")
    return _SocketIOFront(sanic_app.ctx.sio, sanic_app, touchup=touchup)


async def _freeze_gc(*_: Any) -> None:
    """Collect once, then keep everything that survived out of later collections."""
    gc.collect()
    gc.freeze()
