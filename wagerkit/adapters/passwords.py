"""Password hashes with argon2id (argon2-cffi), implementing ``wagerkit.ports.PasswordHasher``.

The defaults are argon2-cffi's (RFC 9106's low-memory profile: 3 passes over 64 MiB, 4 lanes).
Tests pass ``time_cost=1, memory_cost=8, parallelism=1`` to stay fast. A hash made with other
parameters still verifies; ``needs_rehash`` says when to replace it (the login use case does).
"""

from __future__ import annotations

from argon2 import PasswordHasher as _Argon2
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = ["Argon2PasswordHasher"]


class Argon2PasswordHasher:
    def __init__(
        self,
        *,
        time_cost: int | None = None,
        memory_cost: int | None = None,
        parallelism: int | None = None,
    ) -> None:
        defaults = _Argon2()
        self._ph = _Argon2(
            time_cost=time_cost if time_cost is not None else defaults.time_cost,
            memory_cost=memory_cost if memory_cost is not None else defaults.memory_cost,
            parallelism=parallelism if parallelism is not None else defaults.parallelism,
            type=Type.ID,
        )

    def hash(self, password: str) -> str:
        return self._ph.hash(password)

    def verify(self, hash: str, password: str) -> bool:
        try:
            return self._ph.verify(hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError, ValueError):
            return False

    def needs_rehash(self, hash: str) -> bool:
        try:
            return self._ph.check_needs_rehash(hash)
        except (InvalidHashError, ValueError):
            return True

    def __repr__(self) -> str:
        p = self._ph
        return (
            f"Argon2PasswordHasher(time_cost={p.time_cost}, memory_cost={p.memory_cost}, "
            f"parallelism={p.parallelism})"
        )
