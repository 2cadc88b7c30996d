"""What a command runs on: the effective settings, the database and the use cases.

``CliState`` lives in the Click context (``ctx.obj``) for one invocation. Everything heavy
(pydantic settings, SQLAlchemy, Alembic, the services) is imported here on first use, never
when the command tree is built.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from .errors import CliError
from .terminal import Terminal

if TYPE_CHECKING:
    from wagerkit import Actor, Currency, CurrencyRegistry, WagerKit
    from wagerkit.config import Settings

__all__ = ["ACTOR_NAME", "AsOpt", "CliState", "state"]

T = TypeVar("T")

ACTOR_NAME = "cli"

AsOpt = Annotated[
    int | None,
    typer.Option(
        "--as",
        envvar="WAGERKIT_ACTOR",
        metavar="USER_ID",
        help="Act as this user (it must exist, not be banned, and have the role the command "
        "needs); recorded in the audit trail. Default: the operator console (system).",
        show_default=False,
    ),
]


@dataclass
class CliState:
    """Per-invocation state: the terminal, the ``--db`` override and lazily read settings."""

    terminal: Terminal = field(default_factory=Terminal)
    db_override: str | None = None
    _settings: Settings | None = None
    acting_user_id: int | None = None
    _acting: Actor | None = None

    # -- configuration -------------------------------------------------------------------
    @property
    def settings(self) -> Settings:
        """Settings from the environment and ``.env``; ``--db`` wins over the environment."""
        if self._settings is None:
            from wagerkit.config import Settings

            overrides = {"database_url": self.db_override} if self.db_override else {}
            self._settings = Settings(**overrides)  # type: ignore[arg-type]
        return self._settings

    @property
    def database_url(self) -> str:
        return self.settings.database_url

    @property
    def safe_url(self) -> str:
        """The database URL with any password hidden."""
        from wagerkit.adapters.sql import redact

        return redact(self.database_url)

    @property
    def currencies(self) -> CurrencyRegistry:
        return self.settings.currency_registry()

    def currency(self, code: str | None) -> Currency:
        """The configured currency ``code`` (the default one when ``None``)."""
        registry = self.currencies
        return registry[code] if code else registry.default

    def display_currency(self, code: str) -> Currency:
        """How to print amounts of ``code``, even if it was removed from the configuration."""
        from wagerkit import Currency

        registry = self.currencies
        return registry[code] if code in registry else Currency(code, 0)

    @property
    def actor(self) -> Actor:
        """The CLI acts as the operator console, or as the ``--as`` user (resolved by ``run``
        from the store before the command's work starts)."""
        from wagerkit import Actor

        if self._acting is not None:
            return self._acting
        return Actor.system(ACTOR_NAME)

    def act_as(self, user_id: int | None) -> None:
        """Remember ``--as USER_ID`` for ``run``."""
        if user_id is not None:
            self.acting_user_id = user_id

    # -- database ------------------------------------------------------------------------
    @property
    def is_sqlite(self) -> bool:
        from wagerkit.adapters.sql import sync_url

        return sync_url(self.database_url).startswith("sqlite")

    def head_revision(self) -> str | None:
        from alembic.script import ScriptDirectory

        from wagerkit.adapters.sql.migrate import migrations_dir

        return ScriptDirectory(str(migrations_dir())).get_current_head()

    def current_revision(self) -> str | None:
        """The schema revision of the database; a clear error if it cannot be reached."""
        from sqlalchemy.exc import InterfaceError, OperationalError

        from wagerkit.adapters.sql.migrate import current

        url = self.database_url
        try:
            return current(url)
        except (OperationalError, InterfaceError) as exc:
            raise CliError(f"cannot open the database {self.safe_url}", code="store_error") from exc

    def upgrade(self) -> str | None:
        """Migrate to the newest revision; returns it."""
        from wagerkit.adapters.sql.migrate import upgrade

        self.current_revision()  # fail on an unreachable database with the clear message
        upgrade(self.database_url)
        return self.current_revision()

    def ensure_schema(self) -> None:
        """SQLite: create the schema in a fresh file. PostgreSQL: require ``db upgrade``."""
        revision = self.current_revision()
        head = self.head_revision()
        if revision == head:
            return
        if revision is None and self.is_sqlite:
            self.upgrade()  # silently: stderr stays free for the one error line
            return
        if revision is None:
            raise CliError(
                f"the database {self.safe_url} has no wagerkit schema; run 'wagerkit db upgrade'",
                code="schema_missing",
            )
        raise CliError(
            f"the database schema is at revision {revision}, this wagerkit needs {head}; "
            "run 'wagerkit db upgrade'",
            code="schema_outdated",
        )

    def run(self, work: Callable[[WagerKit], Awaitable[T]]) -> T:
        """Make sure the schema is there, then run ``work`` against a fresh store."""
        self.ensure_schema()
        from wagerkit import WagerKit
        from wagerkit.adapters.sql import SqlStore

        settings = self.settings
        registry = self.currencies
        grants = settings.welcome_grants()
        identity = self.identity_options()

        async def main() -> T:
            notifier = self.telegram_notifier()  # before anything that needs closing
            prices = settings.price_options()  # the recorder's feed (docs/prices.md)
            store = SqlStore.from_url(self.database_url, pool_size=2)
            manager = self.redis_emitter()
            try:
                sink = None
                if manager is not None:
                    from wagerkit.adapters.realtime import SocketIOSink

                    sink = SocketIOSink(manager)
                kit = WagerKit(
                    store,
                    currencies=registry,
                    welcome_grant=grants,
                    realtime=sink,
                    realtime_coalesce=0,  # inline sends: the process ends with the command
                    beacon=settings.randomness_beacon(),  # drand rounds for raffle draws
                    orders_currency=settings.orders_currency,
                    cities=settings.city_directory(),
                    **identity,
                    **prices,
                    predictions=settings.prediction_policy(),
                    notifier=notifier,
                )
                if self.acting_user_id is not None:
                    self._acting = await kit.identity.actor_for(self.acting_user_id)
                return await work(kit)
            finally:
                await store.dispose()
                await _close_emitter(manager)
                if notifier is not None:
                    await notifier.aclose()
                if close_feed := getattr(prices["price_feed"], "aclose", None):
                    await close_feed()

        return asyncio.run(main())

    def redis_emitter(self) -> Any:
        """With ``REDIS_URL`` set: a write-only ``socketio.AsyncRedisManager``, so the
        pushes of this command (``balance_update``, ``event_update``, ``event_settled``, chat)
        reach the sockets held by the server processes. ``None`` without ``REDIS_URL``, or
        (with a one-line warning) when python-socketio is not installed (the ``redis`` extra
        brings it)."""
        url = self.settings.redis_url
        if not url:
            return None
        try:
            import socketio  # type: ignore[import-untyped]
        except ImportError:
            self.terminal.note(
                "warning: REDIS_URL is set but python-socketio is not installed: no balance_update "
                "pushes (pip install 'wagerkit[redis]')"
            )
            return None
        return socketio.AsyncRedisManager(url, write_only=True)

    def telegram_notifier(self) -> Any:
        """With ``WAGERKIT_TELEGRAM_BOT_TOKEN`` set: the Telegram bot that tells instant
        subscribers about the orders this command creates (awaited after the commit, since
        the process ends with the command) and sends the digests a ``jobs`` pass finds due;
        ``run`` closes it. ``None`` without a token. The token never reaches the terminal: a
        malformed one is refused by name only."""
        settings = self.settings  # invalid settings fail here, with their own message
        try:
            return settings.telegram_notifier()
        except ValueError:
            raise CliError(
                "WAGERKIT_TELEGRAM_BOT_TOKEN is empty or malformed", code="invalid_settings"
            ) from None

    def identity_options(self) -> dict[str, Any]:
        """The identity ports and policy the CLI needs: a password hasher (argon2id, when the
        ``auth`` extra is installed) and the community policy from the settings. The CLI
        issues no access tokens, so it needs no JWT secret."""
        from wagerkit import IdentityPolicy

        settings = self.settings
        options: dict[str, Any] = {
            "identity_policy": IdentityPolicy(
                telegram_admin_ids=settings.telegram_admin_id_set(),
                whitelist_mode=settings.whitelist_mode,
            )
        }
        try:
            from wagerkit.adapters.passwords import Argon2PasswordHasher
        except ImportError:  # pragma: no cover - the auth extra is not installed
            return options
        options["passwords"] = Argon2PasswordHasher()
        return options


async def _close_emitter(manager: Any) -> None:
    """Close the Redis connection a write-only manager opened on its first emit (it starts
    no background task), so ``asyncio.run`` ends cleanly."""
    redis = getattr(manager, "redis", None)
    if redis is None:
        return
    with contextlib.suppress(Exception):  # a broken connection: nothing left to close
        await redis.aclose()


def state(ctx: typer.Context) -> CliState:
    """The invocation's state (created by the root command)."""
    obj = ctx.find_root().obj
    if not isinstance(obj, CliState):
        obj = CliState()
        ctx.find_root().obj = obj
    return obj
