"""The rules of accounts and the identity policy: usernames, e-mail addresses, passwords and
the token version they give, what a sign-in answers, and the per-action rate limits with the
in-process limiter used when no other is configured. ``IdentityService``
(``services/identity.py``) applies them; everything here is re-exported from there."""

from __future__ import annotations

import hashlib
import math
import re
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from ..domain.errors import InvalidInput, RateLimited
from ..domain.identity import User

__all__ = [
    "DEFAULT_LIMITS",
    "PASSWORD_MAX",
    "PASSWORD_MIN",
    "IdentityPolicy",
    "LocalRateLimiter",
    "Session",
    "normalize_email",
    "normalize_username",
    "password_version",
    "validate_password",
]

DEFAULT_LIMITS: Mapping[str, tuple[int, int]] = {
    "login": (10, 60),  # per login name + client address (the caller builds the key)
    "login_ip": (30, 60),  # per client address, whatever the login name
    "register": (10, 60),  # per client address
    "telegram": (30, 60),  # per client address (Login Widget and Mini App sign-in together)
    "bet": (5, 60),  # seed 000: 5 bets a minute per user
    "chat": (20, 60),  # seed 000: 20 chat messages a minute per user
    "order": (10, 3600),  # seed 001's roadmap: 10 new orders an hour per user
    "take": (60, 60),  # order takes per executor (docs/orders.md)
}
"""Action -> (at most this many hits, per this many seconds)."""

PASSWORD_MIN, PASSWORD_MAX = 8, 256
_USERNAME = re.compile(r"[A-Za-z0-9_]{3,32}")
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+")


def password_version(user: User) -> str:
    """What an access token carries as its version: the first 16 hex characters of SHA-256 of
    the user's password hash (``""`` without a password). A new password changes it, so
    tokens issued before no longer authenticate."""
    if user.password_hash is None:
        return ""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def validate_password(password: str) -> str:
    if not isinstance(password, str) or not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise InvalidInput(f"password must be {PASSWORD_MIN}-{PASSWORD_MAX} characters")
    return password


def normalize_username(username: str) -> str:
    """3-32 of ``A-Z a-z 0-9 _``, stored lower-case (``Alice`` and ``alice`` are one name)."""
    cleaned = username.strip()
    if not _USERNAME.fullmatch(cleaned):
        raise InvalidInput("username must be 3-32 characters of A-Z, a-z, 0-9 and _")
    return cleaned.lower()


def normalize_email(email: str) -> str:
    """A deliberately simple check (one ``@``, a dot in the domain, no spaces), lower-cased."""
    cleaned = email.strip().lower()
    if len(cleaned) > 254 or not _EMAIL.fullmatch(cleaned):
        raise InvalidInput("not a valid e-mail address")
    return cleaned


@dataclass(frozen=True, slots=True)
class Session:
    """The answer to a successful sign-in."""

    access_token: str
    expires_at: datetime
    user: User
    token_type: str = "bearer"  # noqa: S105 - the OAuth 2 token type, not a secret


@dataclass(frozen=True, slots=True)
class IdentityPolicy:
    """Community rules for identity (built by a composition root from the settings)."""

    telegram_admin_ids: frozenset[int] = frozenset()
    whitelist_mode: bool = False
    limits: Mapping[str, tuple[int, int]] = field(default_factory=lambda: dict(DEFAULT_LIMITS))


class LocalRateLimiter:
    """A sliding-window ``RateLimiter`` in process memory, standard library only: the default
    when no limiter is configured (composition roots pass ``wagerkit.adapters.ratelimit``'s,
    which can also share its counts across processes through Redis)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._longest = 0  # the longest window seen: older hits matter to no key
        self._sweep_at = 1024  # sweep when the table has doubled since the last sweep

    async def hit(self, key: str, limit: int, per_seconds: int) -> None:
        if limit < 1:
            raise ValueError("a rate limit must allow at least one hit")
        now = self._clock()
        self._longest = max(self._longest, per_seconds)
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - per_seconds:
            hits.popleft()
        if len(hits) >= limit:
            raise RateLimited(
                "too many requests", retry_after=max(1, math.ceil(hits[0] + per_seconds - now))
            )
        hits.append(now)
        if len(self._hits) >= self._sweep_at:
            # amortised O(1) per hit: a sweep costs O(keys) and happens only after the table
            # doubled, so many distinct keys (e.g. made-up login names) cannot make every hit
            # scan everything
            horizon = now - self._longest
            for k in [k for k, v in self._hits.items() if not v or v[-1] <= horizon]:
                del self._hits[k]
            self._sweep_at = max(1024, 2 * len(self._hits))
