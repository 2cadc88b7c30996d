"""How this server checks Telegram sign-in data (``TelegramConfig``, from the settings).

A leaf of the package: it imports nothing of ``wagerkit_http`` but ``errors``, so ``context``
(which holds one) and ``auth`` (which uses it) both import it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from wagerkit import TELEGRAM_PRODUCTION_PUBLIC_KEY as PRODUCTION_PUBLIC_KEY
from wagerkit import TelegramIdentity, verify_init_data, verify_login_widget
from wagerkit.adapters.crypto import ed25519_verify
from wagerkit.config import Settings

from .errors import ProblemError

__all__ = ["TelegramConfig"]


@dataclass(frozen=True, slots=True)
class TelegramConfig:
    """How this server checks Telegram sign-in data (from the settings)."""

    bot_token: str | None = None
    bot_id: int | None = None
    public_key: bytes = PRODUCTION_PUBLIC_KEY
    max_age: timedelta = timedelta(days=1)

    @property
    def configured(self) -> bool:
        return self.bot_token is not None or self.bot_id is not None

    @classmethod
    def from_settings(
        cls, settings: Settings, *, public_key: bytes | None = None
    ) -> TelegramConfig:
        token = settings.telegram_bot_token
        return cls(
            bot_token=token.get_secret_value() if token is not None else None,
            bot_id=settings.telegram_bot_id,
            public_key=public_key if public_key is not None else PRODUCTION_PUBLIC_KEY,
            max_age=timedelta(seconds=settings.auth_max_age_seconds),
        )

    def _require(self) -> None:
        if not self.configured:
            raise ProblemError(
                503,
                "telegram_not_configured",
                "Telegram sign-in is not configured on this server "
                "(WAGERKIT_TELEGRAM_BOT_TOKEN or WAGERKIT_TELEGRAM_BOT_ID)",
            )

    def verify_widget(self, fields: dict[str, Any], *, now: Any) -> TelegramIdentity:
        self._require()
        if self.bot_token is None:
            raise ProblemError(
                503,
                "telegram_not_configured",
                "the Login Widget needs WAGERKIT_TELEGRAM_BOT_TOKEN on this server",
            )
        return verify_login_widget(fields, self.bot_token, now=now, max_age=self.max_age)

    def verify_webapp(self, init_data: str, *, now: Any) -> TelegramIdentity:
        self._require()
        return verify_init_data(
            init_data,
            now=now,
            bot_token=self.bot_token,
            bot_id=self.bot_id,
            ed25519=ed25519_verify if self.bot_id is not None else None,
            public_key=self.public_key,
            max_age=self.max_age,
        )
