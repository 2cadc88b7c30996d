"""``wagerkit serve``: run the HTTP and Socket.IO server under uvicorn.

The server is built by ``wagerkit_http``, which the CLI never imports: the effective settings
are exported to the environment (``WAGERKIT_*``) and uvicorn loads the app factory by name, so
every worker process reads the same configuration.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from ..errors import abort
from ..runtime import CliState, state

APP_FACTORY = "wagerkit_http.asgi:create_asgi"


def export_settings(st: CliState, environ: os._Environ[str] | dict[str, str]) -> None:
    """Write every effective setting to ``environ`` as ``WAGERKIT_<NAME>``."""
    settings = st.settings
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if value is None:
            continue
        env = "REDIS_URL" if name == "redis_url" else f"WAGERKIT_{name.upper()}"
        environ[env] = str(value).lower() if isinstance(value, bool) else str(value)


def serve(
    ctx: typer.Context,
    host: Annotated[
        str | None, typer.Option(help="Interface to bind [default: WAGERKIT_HOST or 127.0.0.1].")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(min=0, max=65535, help="TCP port [default: WAGERKIT_PORT or 8000]."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(min=1, max=64, help="Worker processes [default: WAGERKIT_WORKERS or 1]."),
    ] = None,
    log_level: Annotated[
        str | None, typer.Option(help="uvicorn log level [default: WAGERKIT_LOG_LEVEL or info].")
    ] = None,
) -> None:
    """Start the HTTP API and Socket.IO server."""
    import importlib.util

    st = state(ctx)
    settings = st.settings
    if host is not None:
        settings.host = host
    if port is not None:
        settings.port = port
    if workers is not None:
        settings.workers = workers
    if log_level is not None:
        settings.log_level = log_level
    try:
        import uvicorn
    except ImportError:
        raise abort("the server needs the http extra: pip install 'wagerkit[http]'") from None
    if importlib.util.find_spec(APP_FACTORY.partition(".")[0]) is None:
        raise abort("the server package wagerkit_http is not installed")
    st.ensure_schema()
    export_settings(st, os.environ)
    st.terminal.note(
        f"serving on http://{settings.host}:{settings.port} with {settings.workers} worker(s), "
        f"database {st.safe_url}"
    )
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level=settings.log_level.lower(),
    )
