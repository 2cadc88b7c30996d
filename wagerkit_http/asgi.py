"""The ASGI application: Socket.IO in front, the Sanic app behind it.

``socketio.ASGIApp`` answers ``/socket.io/`` itself and hands every other request, and the
ASGI lifespan, to Sanic (it forwards the lifespan only when given no ``on_startup`` /
``on_shutdown`` of its own, so none are passed). That is what makes Sanic's start-up and
shutdown listeners run under uvicorn.

Run it with ``uvicorn wagerkit_http.asgi:create_asgi --factory`` (settings from the
environment) or ``wagerkit_http.serve.run(settings)``.
"""

from __future__ import annotations

from typing import Any

import socketio  # type: ignore[import-untyped]

from wagerkit.config import Settings

from .app import create_app
from .context import WagerkitApp

__all__ = ["SOCKETIO_PATH", "create_asgi"]

SOCKETIO_PATH = "socket.io"


def create_asgi(settings: Settings | None = None, *, app: WagerkitApp | None = None) -> Any:
    """Build the ASGI app (a ``socketio.ASGIApp``) for ``settings`` (default: from the
    environment). Pass ``app`` to mount an already-built Sanic app (embedding, tests)."""
    settings = settings if settings is not None else (app.ctx.settings if app else Settings())  # type: ignore[call-arg]
    sanic_app = app if app is not None else create_app(settings)
    return socketio.ASGIApp(
        sanic_app.ctx.sio, other_asgi_app=sanic_app, socketio_path=SOCKETIO_PATH
    )
