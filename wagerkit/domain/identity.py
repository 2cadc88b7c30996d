"""Users, roles and the actor that performs a use case.

A ``User`` owns wallets. Every use case receives an ``Actor`` — who is asking — and checks
authorisation itself, whichever adapter called it: a player acts only for itself, operators run
events and adjust wallets, admins also manage roles. ``Actor.system`` is the operator console
(CLI, job runner) acting with admin rights and no user id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from .errors import AccountBanned, PermissionDenied
from .refs import user_ref
from .text import MAX_NAME, clean_name

__all__ = ["Actor", "Role", "User", "UserStatus", "validate_display_name"]


class Role(StrEnum):
    PLAYER = "player"
    OPERATOR = "operator"
    ADMIN = "admin"


class UserStatus(StrEnum):
    ACTIVE = "active"
    BANNED = "banned"


@dataclass(slots=True)
class User:
    id: int
    display_name: str
    role: Role
    status: UserStatus
    created_at: datetime
    telegram_id: int | None = None
    username: str | None = None
    email: str | None = None
    password_hash: str | None = None
    whitelisted: bool = False
    rating_sum: int = 0
    rating_count: int = 0

    @property
    def owner_ref(self) -> str:
        """How the ledger names this user as an account owner."""
        return user_ref(self.id)


def validate_display_name(name: str) -> str:
    """A display name as stored: the text rule of ``wagerkit.domain.text`` (no control or bidi
    characters: refused, not cleaned), inner white space collapsed, 1-64 characters."""
    return clean_name(name, "display_name", max_length=MAX_NAME)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who performs a use case."""

    user_id: int | None
    role: Role
    name: str = ""

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        return cls(None, Role.ADMIN, name)

    @classmethod
    def of(cls, user: User) -> Actor:
        if user.status is UserStatus.BANNED:
            raise AccountBanned()
        return cls(user.id, user.role, user.display_name)

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.OPERATOR, Role.ADMIN)

    def require_staff(self) -> None:
        if not self.is_staff:
            raise PermissionDenied("operators and admins only")

    def require_admin(self) -> None:
        if self.role is not Role.ADMIN:
            raise PermissionDenied("admins only")

    def require_self_or_staff(self, user_id: int) -> None:
        if self.user_id != user_id and not self.is_staff:
            raise PermissionDenied("you may act only for yourself")

    def visible_user(self, user_id: int | None) -> int | None:
        """Whose records a listing may show: staff anyone's (``None``: everyone's); a player
        only their own (``None`` means them; another user's id is ``PermissionDenied``)."""
        if self.is_staff:
            return user_id
        if user_id is None:
            user_id = self.user_id
        self.require_self_or_staff(user_id if user_id is not None else -1)
        return user_id
