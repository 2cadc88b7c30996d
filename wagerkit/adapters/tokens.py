"""Access tokens as JWTs (PyJWT), implementing ``wagerkit.ports.TokenService``.

A token carries ``sub`` (the user id as text), ``iat``, ``exp``, ``typ: "access"`` and ``pwv``
(the version text the caller passed to ``issue``, returned by ``verify``; a token without it has
version ``""``), signed
with HMAC (HS256 by default; HS384 and HS512 may be configured). Decoding accepts exactly the
configured algorithm, so ``alg: none``, an RS256/HS256 confusion or any other algorithm is
refused as ``TokenInvalid``, like a tampered signature or a missing claim. Expiry is checked
against the ``now`` the service passes in (the Clock port), so tests control it; an expired
token is ``TokenExpired``.

The secret must be at least as long as the hash output (RFC 7518 section 3.2): 32 bytes for
HS256, 48 for HS384, 64 for HS512; a shorter or missing secret refuses to build the service with a clear ``ValueError``
that never shows the secret.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import jwt

from ..domain.errors import TokenExpired, TokenInvalid

__all__ = ["ALGORITHMS", "MIN_SECRET_BYTES", "JwtTokenService"]

ALGORITHMS = ("HS256", "HS384", "HS512")
MIN_SECRET_BYTES = 32
_MIN_KEY = {"HS256": 32, "HS384": 48, "HS512": 64}
MAX_TOKEN_CHARS = 4096
TOKEN_TYPE = "access"  # noqa: S105 - the value of the typ claim, not a secret
_FUTURE_SKEW = timedelta(minutes=5)
_MAX_VERSION_CHARS = 128


_VERIFIED_MAX = 100_000  # remembered verified tokens (then forgotten all at once)


class JwtTokenService:
    def __init__(
        self,
        secret: str | bytes | None,
        *,
        algorithm: str = "HS256",
        lifetime: timedelta = timedelta(minutes=60),
    ) -> None:
        if secret is None or secret in ("", b""):
            raise ValueError(
                "no JWT secret configured: set WAGERKIT_JWT_SECRET to a random value of at "
                f"least {MIN_SECRET_BYTES} bytes (e.g. python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))')"
            )
        if algorithm not in ALGORITHMS:
            raise ValueError(f"JWT algorithm must be one of {', '.join(ALGORITHMS)}")
        key = secret.encode() if isinstance(secret, str) else bytes(secret)
        if len(key) < _MIN_KEY[algorithm]:
            raise ValueError(
                f"the JWT secret is too short: {algorithm} needs at least "
                f"{_MIN_KEY[algorithm]} bytes"
            )
        if lifetime <= timedelta(0):
            raise ValueError("the access token lifetime must be positive")
        self._key = key
        self._algorithm = algorithm
        self._lifetime = lifetime
        # tokens whose signature and claims verified: a signed token's claims never change,
        # so a repeat costs a dict look-up and the time checks instead of an HMAC and two
        # JSON decodes (PyJWT was ~9 % of a server worker's CPU on the bet path)
        self._verified: dict[str, tuple[int, str, int, int]] = {}

    @property
    def lifetime(self) -> timedelta:
        return self._lifetime

    @property
    def algorithm(self) -> str:
        return self._algorithm

    def issue(self, user_id: int, *, now: datetime, version: str = "") -> str:
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        iat = int(now.timestamp())
        claims = {
            "sub": str(user_id),
            "iat": iat,
            "exp": iat + int(self._lifetime.total_seconds()),
            "typ": TOKEN_TYPE,
            "pwv": version,
        }
        return jwt.encode(claims, self._key, algorithm=self._algorithm)

    def verify(self, token: str, *, now: datetime) -> tuple[int, str]:
        if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_CHARS:
            raise TokenInvalid()
        hit = self._verified.get(token)
        if hit is not None:  # the same bytes verified before: only the times can change
            user_id, version, iat, exp = hit
            ts = now.timestamp()
            if iat > ts + _FUTURE_SKEW.total_seconds():
                raise TokenInvalid("access token issued in the future")
            if ts >= exp:
                raise TokenExpired()
            return user_id, version
        user_id, version, iat, exp = self._decode(token, now)
        if len(self._verified) >= _VERIFIED_MAX:
            self._verified.clear()
        self._verified[token] = (user_id, version, iat, exp)
        return user_id, version

    def _decode(self, token: str, now: datetime) -> tuple[int, str, int, int]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key,
                algorithms=[self._algorithm],
                options={
                    "require": ["sub", "iat", "exp"],
                    "verify_exp": False,  # checked below against the Clock port's now
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except jwt.InvalidTokenError:
            raise TokenInvalid() from None
        sub, iat, exp = claims.get("sub"), claims.get("iat"), claims.get("exp")
        if claims.get("typ") != TOKEN_TYPE or not isinstance(sub, str) or not sub.isdigit():
            raise TokenInvalid()
        if not isinstance(iat, int) or not isinstance(exp, int) or isinstance(exp, bool):
            raise TokenInvalid()
        ts = now.timestamp()
        if iat > ts + _FUTURE_SKEW.total_seconds():
            raise TokenInvalid("access token issued in the future")
        if ts >= exp:
            raise TokenExpired()
        version = claims.get("pwv", "")
        if not isinstance(version, str) or len(version) > _MAX_VERSION_CHARS:
            raise TokenInvalid()
        user_id = int(sub)
        if user_id <= 0:
            raise TokenInvalid()
        return user_id, version, iat, exp

    def __repr__(self) -> str:  # never show the key
        return f"JwtTokenService(algorithm={self._algorithm!r}, lifetime={self._lifetime!r})"
