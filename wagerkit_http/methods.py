"""Automatic ``HEAD`` and ``OPTIONS`` answers, added once when the app is built.

Every ``GET`` route also answers ``HEAD`` (the ``GET`` handler's answer, headers only), and
every path answers ``OPTIONS`` with ``204`` and an ``Allow`` header naming its methods. This is
what sanic-ext's HTTP extension does, but it adds the routes in a ``before_server_start``
listener: each one added to a started app re-finalizes Sanic's signal router, which cost
about 2.5 s of CPU per server process for our ~250 routes. Added here, after the blueprints
and before the app starts, the routers are finalized once. The OpenAPI document leaves both
methods out (sanic-ext's ``OAS_IGNORE_HEAD``/``OAS_IGNORE_OPTIONS``, on by default).
"""

from __future__ import annotations

from functools import partial
from inspect import isawaitable
from typing import Any

from sanic import HTTPResponse, Request, Sanic
from sanic.response import empty

__all__ = ["add_head_and_options"]


async def _head(request: Request, *args: Any, get_handler: Any, **kwargs: Any) -> Any:
    answer = get_handler(request, *args, **kwargs)
    return await answer if isawaitable(answer) else answer


async def _options(request: Request, *args: Any, methods: str, **kwargs: Any) -> HTTPResponse:
    resp = empty()
    resp.headers["allow"] = methods
    return resp


def add_head_and_options(app: Sanic[Any, Any]) -> None:
    """Add ``HEAD`` to every ``GET`` route and ``OPTIONS`` to every path of ``app``'s routes
    registered so far (call it last, before the app starts)."""
    plans: list[dict[str, Any]] = []
    for group in list(app.router.groups.values()):
        methods = set(group.methods)
        if "GET" in methods and "HEAD" not in methods:
            for route in group:
                if "GET" in route.methods:
                    handler = partial(_head, get_handler=route.handler)
                    handler.__auto_handler__ = True  # type: ignore[attr-defined]
                    plans.append(
                        {
                            "handler": handler,
                            "uri": group.uri,
                            "methods": ["HEAD"],
                            "strict_slashes": group.strict,
                            "name": f"{route.name}_head",
                            "host": route.requirements.get("host"),
                            "unquote": group.unquote,
                        }
                    )
                    methods.add("HEAD")
        if "OPTIONS" not in methods:
            base = group[0]
            allow = ",".join([*sorted(methods), "OPTIONS"])
            handler = partial(_options, methods=allow)
            handler.__auto_handler__ = True  # type: ignore[attr-defined]
            hosts = sorted({h for r in group.requirements if (h := r.get("host"))})
            plans.append(
                {
                    "handler": handler,
                    "uri": group.uri,
                    "methods": ["OPTIONS"],
                    "strict_slashes": group.strict,
                    "name": f"{base.name}_options",
                    "host": hosts or None,
                    "unquote": group.unquote,
                }
            )
    for plan in plans:
        app.add_route(**plan)
