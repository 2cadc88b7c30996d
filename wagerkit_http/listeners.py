"""Server lifecycle: what happens when the server starts and stops.

Under uvicorn these run from the ASGI lifespan (``create_asgi`` lets it through to Sanic), as
``before_server_start`` and ``after_server_stop``:

- start: learn the Alembic heads; on a SQLite file run the migrations (in a thread, they are
  synchronous) so ``wagerkit serve`` works with no set-up. PostgreSQL is never migrated
  behind the operator's back: ``/ready`` answers 503 until ``wagerkit db upgrade`` has run.
  Start-up opens no connection to PostgreSQL, so an unreachable database cannot hang it.
- stop: close the connection pool if this app built it.

The job loop (``JobLoop``, one per app): with ``settings.jobs_in_server`` (the default) the
server runs ``kit.jobs.run(interval=settings.jobs_interval_seconds)`` as a background task
from ``after_server_start`` (once the schema is at the shipped migrations: on a PostgreSQL
database not yet upgraded it waits, checking every few seconds) and stops it in
``before_server_stop``: it finishes the pass under way (cancelled after
``JobLoop.stop_timeout`` seconds; every pass is resumable) before the pool closes. Several
server processes each run one; the runner's claims (``SKIP LOCKED``) keep them apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from wagerkit import StoreError
from wagerkit.adapters.sql import SqlStore
from wagerkit.adapters.sql.migrate import current, upgrade

from .context import WagerkitApp
from .schema import current_revisions, head_revisions

__all__ = ["JobLoop", "on_shutdown", "on_startup", "register_listeners"]

log = logging.getLogger("wagerkit_http")


def _sqlite_file(store: SqlStore) -> bool:
    db = store.engine.url.database
    return store.dialect == "sqlite" and bool(db) and db != ":memory:"


def _upgrade_sqlite(url: str, heads: frozenset[str] | None) -> None:
    """Migrate; if that fails because another worker process migrated at the same moment,
    the schema is at head anyway and that is fine."""
    try:
        upgrade(url)
    except StoreError:
        if heads is None or current(url) not in heads:
            raise
        log.info("schema was brought up to date by another process")


async def on_startup(app: WagerkitApp) -> None:
    ctx = app.ctx
    store = ctx.store
    if isinstance(store, SqlStore):
        ctx.schema.heads = await asyncio.to_thread(head_revisions)
        if _sqlite_file(store):
            log.info("bringing the SQLite schema at %s up to date", store.url)
            full_url = store.engine.url.render_as_string(hide_password=False)
            await asyncio.to_thread(_upgrade_sqlite, full_url, ctx.schema.heads)
            ctx.schema.at_head = ctx.schema.heads is not None
    ctx.started = True
    log.info("wagerkit server started (store: %s)", getattr(store, "url", type(store).__name__))


async def on_shutdown(app: WagerkitApp) -> None:
    ctx = app.ctx
    ctx.started = False
    if ctx.owns_store and isinstance(ctx.store, SqlStore):
        await ctx.store.dispose()


class JobLoop:
    """The job runner inside the server process (see the module docstring)."""

    #: seconds between two schema checks while the database is behind
    schema_poll_seconds = 5.0
    #: how long shutdown waits for the pass under way before cancelling it
    stop_timeout = 10.0

    def __init__(self) -> None:
        self.task: asyncio.Task[None] | None = None
        self._stop: asyncio.Event | None = None

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    async def start(self, app: WagerkitApp) -> None:
        settings = app.ctx.settings
        if not settings.jobs_in_server or self.running:
            return
        self._stop = asyncio.Event()
        self.task = asyncio.create_task(self._run(app, self._stop), name="wagerkit-jobs")
        log.info("job loop started (every %ss)", settings.jobs_interval_seconds)

    async def _schema_ready(self, app: WagerkitApp) -> bool:
        ctx = app.ctx
        if not isinstance(ctx.store, SqlStore) or ctx.schema.at_head or ctx.schema.heads is None:
            return True
        try:
            if await current_revisions(ctx.store) == ctx.schema.heads:
                ctx.schema.at_head = True
        except StoreError:
            pass
        return ctx.schema.at_head

    async def _run(self, app: WagerkitApp, stop: asyncio.Event) -> None:
        waited = False
        while not await self._schema_ready(app):
            if not waited:
                log.warning("job loop waits for the schema: run 'wagerkit db upgrade'")
                waited = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.schema_poll_seconds)
            if stop.is_set():
                return
        await app.ctx.kit.jobs.run(interval=app.ctx.settings.jobs_interval_seconds, stop=stop)

    async def stop(self, app: WagerkitApp) -> None:
        task, self.task = self.task, None
        if task is None:
            return
        if self._stop is not None:
            self._stop.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), self.stop_timeout)
        except TimeoutError:
            log.warning("job loop did not finish its pass in %ss: cancelled", self.stop_timeout)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        except Exception:
            log.exception("job loop failed")
        log.info("job loop stopped")


async def _close_live_updates(app: WagerkitApp) -> None:
    if app.ctx.kit.live is not None:
        await app.ctx.kit.live.aclose()


async def _close_price_feed(app: WagerkitApp) -> None:
    """An http price feed holds a connection pool (docs/prices.md)."""
    if close := getattr(app.ctx.kit.prices.feed, "aclose", None):
        await close()


def register_listeners(app: WagerkitApp) -> JobLoop:
    """Register the start-up and shutdown listeners; returns the app's ``JobLoop``."""
    jobs = JobLoop()
    app.register_listener(on_startup, "before_server_start")
    app.register_listener(jobs.start, "after_server_start")
    app.register_listener(jobs.stop, "before_server_stop")
    app.register_listener(_close_live_updates, "before_server_stop")
    app.register_listener(_close_price_feed, "after_server_stop")
    app.register_listener(on_shutdown, "after_server_stop")
    return jobs
