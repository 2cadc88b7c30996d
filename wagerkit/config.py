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

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .domain.cities import CityDirectory, bundled_cities
from .domain.errors import InvalidInput
from .domain.money import CurrencyRegistry

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
