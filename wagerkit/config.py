"""Settings, read once by a composition root (the CLI or the server) from the environment and
``.env``. Every variable is prefixed ``WAGERKIT_`` except the conventional ``REDIS_URL``.

The core never imports this module: use cases get their configuration through ``Deps``.
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .domain.cities import CityDirectory, bundled_cities
from .domain.errors import InvalidInput
from .domain.money import CurrencyRegistry

if TYPE_CHECKING:
    from .adapters.telegram_bot import TelegramBotNotifier
    from .domain.predictions import PredictionPolicy
    from .ports import PriceFeed, RandomnessBeacon
    from .services.prices import PricePolicy

__all__ = ["JWT_SECRET_SUFFIX", "Settings", "SettingsError", "sqlite_file"]

JWT_SECRET_SUFFIX = ".jwt-secret"  # noqa: S105 - a file name's ending, not a secret
_NO_SECRET = (
    "no JWT secret configured: set WAGERKIT_JWT_SECRET to at least 32 random bytes, e.g. "  # noqa: S105
    "python3 -c 'import secrets; print(secrets.token_hex(32))'"
)


class SettingsError(ValueError):
    """Settings that cannot work, found at start-up: the message is one line for the operator
    and names the variable to set (never a secret's value)."""

    code = "invalid_settings"


def sqlite_file(url: str) -> str | None:
    """The file of a SQLite URL as SQLAlchemy reads it (``sqlite:///x.db`` is ``x.db`` in the
    working directory, ``sqlite:////srv/x.db`` is absolute), ``""`` for an in-memory database,
    ``None`` for any other database."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.split("+", 1)[0].lower() != "sqlite":
        return None
    path = rest.split("?", 1)[0]
    path = path[1:] if path.startswith("/") else path
    return "" if path in ("", ":memory:") else path


def _read_secret(path: Path) -> str:
    try:
        secret = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"cannot read the JWT secret file {path}: {exc}") from None
    if len(secret.encode()) < 32:
        raise SettingsError(
            f"the JWT secret file {path} is damaged (shorter than 32 bytes): delete it "
            "(the next start makes a new one) or set WAGERKIT_JWT_SECRET"
        )
    return secret


def _read_or_create_secret(path: Path) -> tuple[str, bool]:
    """The secret kept in ``path``, made on first use: ``(secret, created)``.

    A new secret is written to a private temporary file (``mkstemp``: mode 0600, ``O_EXCL``)
    and published with ``os.link``, which fails if the name exists: of two starts racing,
    exactly one secret wins, it is complete when anyone can read it, and the loser reads it.
    """
    if path.exists():
        return _read_secret(path), False
    secret = secrets.token_hex(32)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise SettingsError(f"cannot write the JWT secret file {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(secret + "\n")
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return _read_secret(path), False
        except OSError as exc:
            raise SettingsError(
                f"cannot write the JWT secret file {path}: {exc.strerror}"
            ) from None
    finally:
        os.unlink(tmp)
    return secret, True


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WAGERKIT_", env_file=".env", extra="ignore")

    database_url: str = Field(
        "sqlite:///wagerkit.db",
        description="sqlite:///path.db (default, a file in the working directory) or "
        "postgresql://user:pass@host/db",
    )
    currencies: str = Field(
        "COIN:0,RUB:2,COP:0,USDT:6", description="CODE:exponent, first is default"
    )
    welcome_grant: str = Field("COIN:1000", description="CODE:minor units granted to new users")
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    workers: int = Field(1, ge=1, le=64)
    log_level: str = "info"
    redis_url: str | None = Field(
        None, validation_alias=AliasChoices("REDIS_URL", "WAGERKIT_REDIS_URL")
    )
    jobs_in_server: bool = Field(
        True, description="run the job runner loop inside `wagerkit serve`"
    )

    @field_validator("log_level")
    @classmethod
    def _log_level_known(cls, v: str) -> str:
        if v.lower() not in ("critical", "error", "warning", "info", "debug", "trace"):
            raise ValueError("must be critical, error, warning, info, debug or trace")
        return v

    @field_validator("currencies")
    @classmethod
    def _currencies_parse(cls, v: str) -> str:
        CurrencyRegistry.parse_spec(v)
        return v

    def currency_registry(self) -> CurrencyRegistry:
        return CurrencyRegistry.parse_spec(self.currencies)

    def welcome_grants(self) -> dict[str, int]:
        registry = self.currency_registry()
        out: dict[str, int] = {}
        for part in filter(None, (p.strip() for p in self.welcome_grant.split(","))):
            code, _, amount = part.partition(":")
            try:
                out[registry[code].code] = int(amount)
            except ValueError as exc:
                raise InvalidInput(f"bad welcome grant {part!r}: expected CODE:units") from exc
        return out

    # -- identity and access (docs/auth.md) ----------------------------------------------
    jwt_secret: SecretStr | None = Field(
        None,
        description="HMAC key for access tokens, at least 32 bytes; the server refuses to "
        "start without it (commands that issue no tokens do not need it)",
    )
    jwt_algorithm: str = Field("HS256", description="HS256, HS384 or HS512")
    access_token_minutes: int = Field(60, ge=1, le=60 * 24 * 30)
    telegram_bot_token: SecretStr | None = Field(None, description="from @BotFather")
    telegram_bot_id: int | None = Field(
        None, ge=1, description="for the Ed25519 initData check without the bot token"
    )
    telegram_admin_ids: str = Field(
        "",
        validation_alias=AliasChoices("TELEGRAM_ADMIN_IDS", "WAGERKIT_TELEGRAM_ADMIN_IDS"),
        description="comma-separated Telegram user ids that become admins on sign-in",
    )
    whitelist_mode: bool = Field(False, description="admit only whitelisted users (and staff)")
    auth_max_age_seconds: int = Field(
        86400, ge=1, description="oldest Telegram auth_date accepted, in seconds"
    )
    rate_limit_storage: str | None = Field(
        None, description="memory:// or redis://host:port/db (default: REDIS_URL, else memory)"
    )
    forwarded_allow_ips: str = Field(
        "",
        max_length=4096,
        description="comma-separated addresses or networks of the reverse proxies whose "
        "X-Forwarded-For / X-Forwarded-Proto the server believes ('*': any); empty (the "
        "default): forwarded headers are ignored and the client address is the peer's",
    )

    def with_jwt_secret(self) -> tuple[Settings, str | None]:
        """These settings with the JWT secret a server (or ``wagerkit auth token``) signs
        with, and a line to tell the operator (``None``: nothing to say).

        A configured ``WAGERKIT_JWT_SECRET`` always wins and nothing is written. Otherwise,
        on a SQLite file the secret is kept next to it (``<database>.jwt-secret``, mode
        0600), made with ``secrets.token_hex(32)`` the first time and read back later, so
        tokens survive a restart; on an in-memory SQLite database it lives as long as the
        process. Any other database (PostgreSQL) needs the setting: ``SettingsError``."""
        if self.jwt_secret is not None:
            return self, None
        file = sqlite_file(self.database_url)
        if file is None:
            raise SettingsError(_NO_SECRET)
        note: str | None
        if file == "":
            secret = secrets.token_hex(32)
            note = (
                "generated a JWT secret for this process (in-memory database); "
                "set WAGERKIT_JWT_SECRET to keep tokens valid across starts"
            )
        else:
            path = Path(file + JWT_SECRET_SUFFIX)
            secret, created = _read_or_create_secret(path)
            note = (
                f"generated a JWT secret in {path} (mode 0600, reused by later starts; "
                "WAGERKIT_JWT_SECRET overrides it)"
                if created
                else None
            )
        return self.model_copy(update={"jwt_secret": SecretStr(secret)}), note

    @field_validator("telegram_admin_ids")
    @classmethod
    def _admin_ids_parse(cls, v: str) -> str:
        cls._parse_admin_ids(v)
        return v

    @field_validator("jwt_algorithm")
    @classmethod
    def _jwt_algorithm_known(cls, v: str) -> str:
        if v not in ("HS256", "HS384", "HS512"):
            raise ValueError("must be HS256, HS384 or HS512")
        return v

    @staticmethod
    def _parse_admin_ids(v: str) -> frozenset[int]:
        out: set[int] = set()
        for part in filter(None, (p.strip() for p in v.split(","))):
            if not part.isdigit() or int(part) <= 0:
                raise ValueError(f"not a Telegram user id: {part!r}")
            out.add(int(part))
        return frozenset(out)

    def telegram_admin_id_set(self) -> frozenset[int]:
        return self._parse_admin_ids(self.telegram_admin_ids)

    def rate_limit_url(self) -> str:
        """Where rate-limit counts live: the explicit setting, else Redis when ``REDIS_URL``
        is set, else process memory."""
        return self.rate_limit_storage or self.redis_url or "memory://"

    # -- payments: deposits and withdrawals (docs/payments.md) ---------------------------
    dev_payments: bool = Field(
        False,
        description="enable the `dev` payment provider (instant credit, no real money); "
        "never in production",
    )
    webhook_secrets: dict[str, SecretStr] = Field(
        default_factory=dict,
        description='signed-webhook providers and their HMAC secrets, JSON: {"acme": "..."}',
    )

    @field_validator("webhook_secrets")
    @classmethod
    def _webhook_secrets_valid(cls, v: dict[str, SecretStr]) -> dict[str, SecretStr]:
        for name, secret in v.items():
            if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,31}", name) or name == "dev":
                raise ValueError(f"bad payment provider name {name[:40]!r}")
            if len(secret.get_secret_value()) < 16:
                raise ValueError(f"the webhook secret of {name!r} is shorter than 16 characters")
        return v

    # -- raffles: the drand randomness beacon (docs/raffles.md, docs/draw.md) ----------------
    drand_relays: str = Field(
        "https://api.drand.sh,https://api2.drand.sh,https://api3.drand.sh",
        max_length=2000,
        description="comma-separated drand HTTP relays serving quicknet, tried in order; "
        "empty: no beacon (beacon draws then take a text public value only)",
    )

    def drand_relay_list(self) -> list[str]:
        """The ``drand_relays`` setting as a list (empty: no beacon)."""
        return [r.strip() for r in self.drand_relays.split(",") if r.strip()]

    def randomness_beacon(self) -> RandomnessBeacon | None:
        """The drand beacon on ``drand_relays`` (a ``RandomnessBeacon``), or None when no
        relay is configured or the ``drand`` extra is not installed."""
        relays = self.drand_relay_list()
        if not relays:
            return None
        try:
            from .adapters.drand import DrandBeacon
        except ImportError:  # pragma: no cover - the drand extra is part of "all"
            return None
        return DrandBeacon(relays=relays)

    # -- the in-server job loop (docs/realtime.md) -----------------------------------------
    jobs_interval_seconds: float = Field(
        1.0,
        gt=0,
        le=3600,
        description="seconds between two passes of the job loop run by `wagerkit serve` "
        "(when jobs_in_server)",
    )

    # -- the service-order marketplace (docs/orders.md) ------------------------------------
    orders_currency: str | None = Field(
        None,
        description="currency of order fees and refunds (default: the first configured one); "
        "the default categories' fee is 2 of its major unit",
    )
    orders_cities: str = Field(
        "bundled",
        pattern=r"^(bundled|any)$",
        description="'bundled': an order's city must be in the bundled list (plus "
        "orders_extra_cities), spelled as the list does; 'any': any clean name",
    )
    orders_extra_cities: str = Field(
        "", max_length=100_000, description="comma-separated city names added to the list"
    )

    def city_directory(self) -> CityDirectory | None:
        """The cities orders are checked against (None: any city)."""
        if self.orders_cities == "any":
            return None
        extra = [c.strip() for c in self.orders_extra_cities.split(",") if c.strip()]
        return bundled_cities().extended(extra) if extra else bundled_cities()

    # -- rate limits (docs/auth.md, docs/events.md) ----------------------------------------
    rate_limits: str = Field("", description="overrides, e.g. 'bet=600/60,chat=20/60'")

    @field_validator("rate_limits")
    @classmethod
    def _rate_limits_parse(cls, v: str) -> str:
        cls._parse_rate_limits(v)
        return v

    @staticmethod
    def _parse_rate_limits(v: str) -> dict[str, tuple[int, int]]:
        """``action=hits/seconds`` pairs, comma-separated, for the actions wagerkit limits
        (``login``, ``login_ip``, ``register``, ``telegram``, ``bet``, ``chat``)."""
        from .services.identity import DEFAULT_LIMITS

        out: dict[str, tuple[int, int]] = {}
        for part in filter(None, (p.strip() for p in v.split(","))):
            m = re.fullmatch(r"([a-z_]{1,32})\s*=\s*(\d{1,10})\s*/\s*(\d{1,7})", part)
            if m is None:
                raise ValueError(f"bad rate limit {part[:40]!r}: expected action=hits/seconds")
            action, hits, seconds = m.group(1), int(m.group(2)), int(m.group(3))
            if action not in DEFAULT_LIMITS:
                known = ", ".join(sorted(DEFAULT_LIMITS))
                raise ValueError(f"unknown rate-limited action {action!r} (one of {known})")
            if not 1 <= hits <= 10**9 or not 1 <= seconds <= 86400:
                raise ValueError(f"bad rate limit {part!r}: hits 1-1000000000, seconds 1-86400")
            out[action] = (hits, seconds)
        return out

    def rate_limit_overrides(self) -> dict[str, tuple[int, int]]:
        """The ``rate_limits`` setting as action -> (hits, per seconds)."""
        return self._parse_rate_limits(self.rate_limits)

    # -- notifications through a Telegram bot (docs/notifications.md) ----------------------
    # (the bot token is ``telegram_bot_token`` above)
    telegram_mini_app_url: str | None = Field(
        None,
        pattern=r"^https://\S+$",
        description="the Mini App's direct link, https://t.me/<bot>/<app>: message buttons "
        "open it with ?startapp=order_<id>",
    )
    telegram_api_base: str = Field(
        "https://api.telegram.org",
        pattern=r"^https?://\S+$",
        description="the Bot API server (a local stub in tests, or a self-hosted Bot API)",
    )
    telegram_timeout_seconds: float = Field(
        10.0, gt=0, le=120, description="timeout of one Bot API request"
    )

    def telegram_notifier_options(self) -> dict[str, object] | None:
        """The ``TelegramBotNotifier`` arguments (``token`` and keywords), or None when no
        bot token is configured (then nothing is sent: ``NullNotifier``)."""
        if self.telegram_bot_token is None:
            return None
        return {
            "token": self.telegram_bot_token.get_secret_value(),
            "api_base": self.telegram_api_base,
            "mini_app_url": self.telegram_mini_app_url,
            "timeout": self.telegram_timeout_seconds,
        }

    def telegram_notifier(self) -> TelegramBotNotifier | None:
        """The Telegram bot that announces new orders and sends digests (docs/orders.md), or
        None without a bot token. It owns an HTTP client: ``await aclose()`` when done."""
        options = self.telegram_notifier_options()
        if options is None:
            return None
        from .adapters.telegram_bot import TelegramBotNotifier

        token = str(options.pop("token"))
        return TelegramBotNotifier(token, **options)  # type: ignore[arg-type]

    # -- the access-token cookie (docs/auth.md) ---------------------------------------------
    allowed_origins: str = Field(
        "",
        max_length=4096,
        description="comma-separated origins (https://app.example.org) whose pages may make "
        "state-changing requests authenticated by the access-token cookie; empty (the "
        "default): none may",
    )

    @field_validator("allowed_origins")
    @classmethod
    def _allowed_origins_parse(cls, v: str) -> str:
        cls._parse_origins(v)
        return v

    @staticmethod
    def _parse_origins(v: str) -> frozenset[str]:
        out: set[str] = set()
        for part in filter(None, (p.strip() for p in v.split(","))):
            origin = part.rstrip("/").lower()
            if re.fullmatch(r"https?://[a-z0-9.\-\[\]:]+", origin) is None:
                raise ValueError(f"not an origin (scheme://host[:port]): {part[:60]!r}")
            out.add(origin)
        return frozenset(out)

    def allowed_origin_set(self) -> frozenset[str]:
        """The ``allowed_origins`` setting, lower-cased, without trailing slashes."""
        return self._parse_origins(self.allowed_origins)

    # -- prices: the recorder's symbols and feed, and the price rule (docs/prices.md) -------
    price_symbols: str = Field(
        "DEMO-USD", description="comma-separated symbols the job runner records, e.g. BTC-USD"
    )
    price_feed: str = Field(
        "random", description="manual, random (seeded walk), csv:PATH (replay) or http"
    )
    price_feed_url: str = Field(
        "https://api.exchange.coinbase.com/products/{symbol}/ticker",
        description="the http feed's ticker URL ({symbol} is replaced)",
    )
    price_feed_timeout: float = Field(2.0, gt=0, le=60, description="http feed timeout, seconds")
    price_seed: str = Field("wagerkit", description="the random feed's seed")
    price_max_age: int = Field(10, description="entry price: latest tick at most this old (10s)")
    price_buffer: int = Field(15, description="exit price: first tick at most this late (15s)")
    tick_retention: str = Field(
        "7d", description="recorded ticks older than this are pruned (s/m/h/d; 0: never)"
    )

    @field_validator("price_symbols")
    @classmethod
    def _price_symbols_parse(cls, v: str) -> str:
        cls._parse_price_symbols(v)
        return v

    @staticmethod
    def _parse_price_symbols(v: str) -> tuple[str, ...]:
        from .domain.prices import parse_symbol

        try:
            symbols = tuple(parse_symbol(s) for s in v.split(",") if s.strip())
        except InvalidInput as exc:
            raise ValueError(exc.detail) from None
        if len(set(symbols)) != len(symbols):
            raise ValueError("symbols must be distinct")
        return symbols

    @field_validator("price_feed")
    @classmethod
    def _price_feed_known(cls, v: str) -> str:
        kind, _, arg = v.strip().partition(":")
        if not ((kind in ("manual", "random", "http") and not arg) or (kind == "csv" and arg)):
            raise ValueError("must be manual, random, csv:PATH or http")
        return v.strip()

    @field_validator("price_max_age", "price_buffer", mode="before")
    @classmethod
    def _price_durations(cls, v: object) -> int:
        from .domain.prices import parse_duration

        try:
            return parse_duration(v.strip() if isinstance(v, str) else v)
        except InvalidInput as exc:
            raise ValueError(exc.detail) from None

    @field_validator("tick_retention", mode="before")
    @classmethod
    def _tick_retention_parse(cls, v: object) -> str:
        from .domain.prices import parse_retention

        text = v.strip() if isinstance(v, str) else str(v)
        try:
            parse_retention(text)
        except InvalidInput as exc:
            raise ValueError(exc.detail) from None
        return text

    def price_symbol_list(self) -> tuple[str, ...]:
        return self._parse_price_symbols(self.price_symbols)

    def price_policy(self) -> PricePolicy:
        from datetime import timedelta

        from .domain.prices import parse_retention
        from .services.prices import PricePolicy

        return PricePolicy(
            symbols=self.price_symbol_list(),
            max_age=timedelta(seconds=self.price_max_age),
            buffer=timedelta(seconds=self.price_buffer),
            retention=parse_retention(self.tick_retention),
        )

    def price_options(self) -> dict[str, Any]:
        """``WagerKit`` keyword arguments for prices: ``price_feed`` and ``price_policy``
        (an http feed holds a connection pool: close it with ``aclose()`` when done)."""
        return {"price_feed": self.build_price_feed(), "price_policy": self.price_policy()}

    def build_price_feed(self) -> PriceFeed:
        """The configured ``PriceFeed`` (``wagerkit.adapters.pricefeeds.build_feed``)."""
        from .adapters.pricefeeds import build_feed

        return build_feed(
            self.price_feed,
            url=self.price_feed_url,
            timeout=self.price_feed_timeout,
            seed=self.price_seed,
        )

    # -- price predictions: contracts, house risk and rounds (docs/predictions.md) ---------
    prediction_currency: str = Field("COIN", description="the currency contracts and rounds use")
    prediction_durations: str = Field(
        "1m,5m,15m,1h", description="contract durations offered (s, m, h suffixes)"
    )
    prediction_payout_bps: str = Field(
        "8000",
        description="fixed-odds payout in basis points: a default, then SYMBOL:bps overrides, "
        "e.g. '8000,BTC-USD:8500'",
    )
    prediction_tie_rule: str = Field("push", description="exit = entry: push (refund) or lose")
    prediction_leverages: str = Field("2,5,10,50", description="multiplier leverages offered")
    prediction_cap: int = Field(10, ge=1, le=1000, description="multiplier profit cap, × stake")
    prediction_commission_bps: int = Field(
        0, ge=0, le=1000, description="multiplier opening fee, bps of stake × leverage"
    )
    prediction_exposure_limit_symbol: int = Field(
        0, ge=0, description="house exposure limit per symbol, minor units (0: none)"
    )
    prediction_exposure_limit_total: int = Field(
        0, ge=0, description="house exposure limit in total, minor units (0: none)"
    )
    round_interval: str = Field("5m", description="pari-mutuel round interval")
    round_margin: str = Field("2s", description="round betting closes this long before lock")
    round_symbols: str = Field(
        "DEMO-USD", description="symbols with rounds, comma-separated (empty: none)"
    )
    round_rake_bps: int = Field(0, ge=0, le=1000, description="round rake, bps of losing side")

    @field_validator(
        "prediction_durations",
        "prediction_payout_bps",
        "prediction_tie_rule",
        "prediction_leverages",
        "round_interval",
        "round_margin",
        "round_symbols",
    )
    @classmethod
    def _prediction_text(cls, v: str) -> str:
        return v.strip()

    def prediction_policy(self) -> PredictionPolicy:
        """The ``PredictionPolicy`` of these settings (``SettingsError`` names a bad one)."""
        from datetime import timedelta

        from .domain.predictions import PredictionPolicy, TieRule
        from .domain.prices import parse_duration, parse_durations, parse_symbol

        try:
            payout: dict[str, int] = {}
            for part in filter(None, (p.strip() for p in self.prediction_payout_bps.split(","))):
                sym, sep, bps = part.rpartition(":")
                payout[parse_symbol(sym) if sep else "*"] = int(bps)
            return PredictionPolicy(
                currency=self.currency_registry()[self.prediction_currency].code,
                durations=parse_durations(self.prediction_durations),
                payout_bps=payout,
                tie_rule=TieRule(self.prediction_tie_rule),
                leverages=tuple(int(x) for x in self.prediction_leverages.split(",") if x.strip()),
                cap=self.prediction_cap,
                commission_bps=self.prediction_commission_bps,
                max_age=timedelta(seconds=self.price_max_age),
                buffer=timedelta(seconds=self.price_buffer),
                exposure_limit_symbol=self.prediction_exposure_limit_symbol,
                exposure_limit_total=self.prediction_exposure_limit_total,
                round_interval=parse_duration(self.round_interval),
                round_margin=timedelta(seconds=parse_duration(self.round_margin)),
                round_symbols=tuple(
                    parse_symbol(s) for s in self.round_symbols.split(",") if s.strip()
                ),
                round_rake_bps=self.round_rake_bps,
            )
        except (InvalidInput, ValueError) as exc:
            detail = getattr(exc, "detail", None) or str(exc)
            raise SettingsError(
                f"bad prediction settings (WAGERKIT_PREDICTION_*): {detail}"
            ) from None
