"""Settings, read once by a composition root (the CLI or the server) from the environment and
``.env``. Every variable is prefixed ``WAGERKIT_`` except the conventional ``REDIS_URL``.

The core never imports this module: use cases get their configuration through ``Deps``.
"""

from __future__ import annotations

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .domain.errors import InvalidInput
from .domain.money import CurrencyRegistry

__all__ = ["Settings"]


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
