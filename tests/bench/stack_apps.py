"""Apps for the serving-options benchmark (http_stack_bench.py), importable by a server's
command line: settings come from the environment, as in ``wagerkit_http.asgi:create_asgi``.

- ``wagerkit_sanic``: the wagerkit Sanic app alone, no Socket.IO in front (under uvicorn it
  measures what ``socketio.ASGIApp`` costs; under Sanic's own server, what ASGI costs);
- ``asgi_without_touchup``: ``create_asgi`` as it was before Sanic's TouchUp was turned on for
  server processes (the factory itself now turns it on);
- ``ping``: a Sanic app answering ``GET /health`` with a small JSON body and nothing else,
  the ceiling of Sanic's own server on this machine.
"""

from __future__ import annotations

from typing import Any


def wagerkit_sanic() -> Any:
    from wagerkit.config import Settings
    from wagerkit_http.app import create_app

    app = create_app(Settings())  # type: ignore[call-arg]
    app.config.TOUCHUP = True  # Sanic's own default, as its server runs an app
    return app


def asgi_without_touchup() -> Any:
    from wagerkit.config import Settings
    from wagerkit_http.asgi import create_asgi

    return create_asgi(Settings(), touchup=False)  # type: ignore[call-arg]


def ping() -> Any:
    from sanic import Sanic
    from sanic.response import json

    app = Sanic("ping")

    @app.get("/health")
    async def health(request: Any) -> Any:
        return json({"status": "ok", "version": "0.1.0"})

    return app
