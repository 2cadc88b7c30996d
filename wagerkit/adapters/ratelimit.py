"""Rate limiters on the ``limits`` library, implementing ``wagerkit.ports.RateLimiter``.

``LimitsRateLimiter("memory://")`` counts in process memory; ``LimitsRateLimiter(
"redis://host:6379/0")`` counts in Redis, shared by every process that uses the same server
(``rediss://`` for TLS). Both use limits' asyncio API (``limits.aio``) with the moving-window
strategy: at most ``limit`` hits in any ``per_seconds`` window. When a key is over its limit,
``hit`` raises ``RateLimited`` with ``retry_after`` = whole seconds until the oldest hit in the
window expires (at least 1). If Redis cannot be reached, ``hit`` raises ``StoreError``.
"""

from __future__ import annotations

import math
import time
from typing import Any

from limits import RateLimitItemPerSecond
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string

from ..domain.errors import RateLimited, StoreError

__all__ = ["LimitsRateLimiter", "rate_limiter_from_url"]


def _async_uri(url: str) -> tuple[str, dict[str, Any]]:
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError("rate limit storage must be a URL: memory:// or redis://host:port/db")
    scheme = scheme.lower()
    if scheme == "memory":
        return "async+memory://", {}
    if scheme in ("redis", "rediss", "redis+unix"):
        return f"async+{scheme}://{rest}", {"implementation": "redispy"}
    raise ValueError("rate limit storage must be memory:// or a redis:// URL")


class LimitsRateLimiter:
    def __init__(self, url: str = "memory://", *, key_prefix: str = "wagerkit") -> None:
        uri, options = _async_uri(url)
        if uri.startswith("async+redis"):
            options["key_prefix"] = key_prefix
        storage = storage_from_string(uri, wrap_exceptions=True, **options)
        assert isinstance(storage, Storage)
        self._storage = storage
        self._strategy = MovingWindowRateLimiter(storage)
        self._shared = not uri.startswith("async+memory")

    @property
    def shared(self) -> bool:
        """True when counts are shared across processes (Redis)."""
        return self._shared

    async def hit(self, key: str, limit: int, per_seconds: int) -> None:
        if limit < 1 or per_seconds < 1:
            raise ValueError("limit and per_seconds must be positive")
        item = RateLimitItemPerSecond(limit, per_seconds)
        try:
            if await self._strategy.hit(item, key):
                return
            stats = await self._strategy.get_window_stats(item, key)
        except StorageError:
            raise StoreError("rate limit storage unavailable") from None
        wait = max(1, math.ceil(stats.reset_time - time.time()))
        raise RateLimited(f"too many requests; retry in {wait} s", retry_after=wait)

    async def check(self) -> bool:
        """True when the storage answers (for readiness probes)."""
        try:
            return bool(await self._storage.check())
        except Exception:
            return False

    async def reset(self) -> None:
        """Forget every count (tests, operators)."""
        await self._storage.reset()


def rate_limiter_from_url(url: str | None) -> LimitsRateLimiter:
    """``None`` or ``memory://`` → in-process; ``redis://…`` → shared through Redis."""
    return LimitsRateLimiter(url or "memory://")
