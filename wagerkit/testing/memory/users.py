"""Users in memory, with the SQL table's unique username, email and Telegram id."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from ...domain.errors import AlreadyExists
from ...domain.identity import Role, User, UserStatus
from ...ports import NewUser
from .state import State, Undo

__all__ = ["MemoryUsers"]


class MemoryUsers:
    def __init__(self, s: State, undo: Undo) -> None:
        self._s, self._undo = s, undo

    def _check_unique(self, u: NewUser | User, skip: int | None = None) -> None:
        for other in self._s.users.values():
            if other.id == skip:
                continue
            for attr in ("username", "email", "telegram_id"):
                mine = getattr(u, attr)
                if mine is not None and mine == getattr(other, attr):
                    raise AlreadyExists(f"{attr} is already taken")

    async def add(self, user: NewUser) -> User:
        self._check_unique(user)
        uid = max(self._s.users, default=0) + 1
        created = User(id=uid, **dataclasses.asdict(user))
        self._s.users[uid] = created
        self._undo.append(lambda: self._s.users.pop(uid, None))
        return dataclasses.replace(created)

    async def get(self, user_id: int, *, for_update: bool = False) -> User | None:
        # units of work run one at a time here, so every read is already "for update"
        u = self._s.users.get(user_id)
        return dataclasses.replace(u) if u else None

    async def get_many(self, user_ids: Sequence[int]) -> dict[int, User]:
        users = self._s.users
        return {i: dataclasses.replace(users[i]) for i in set(user_ids) if i in users}

    async def get_by_username(self, username: str) -> User | None:
        for u in self._s.users.values():
            if u.username == username:
                return dataclasses.replace(u)
        return None

    async def get_by_email(self, email: str) -> User | None:
        return self._find(lambda u: u.email == email)

    async def get_by_telegram_id(self, telegram_id: int) -> User | None:
        return self._find(lambda u: u.telegram_id == telegram_id)

    def _find(self, match: Callable[[User], bool]) -> User | None:
        found = next((u for u in self._s.users.values() if match(u)), None)
        return dataclasses.replace(found) if found else None

    async def count_active_admins(self) -> int:
        return sum(
            1
            for u in self._s.users.values()
            if u.role is Role.ADMIN and u.status is UserStatus.ACTIVE
        )

    async def list(self, *, limit: int = 100, offset: int = 0) -> list[User]:
        ordered = sorted(self._s.users.values(), key=lambda u: u.id)
        return [dataclasses.replace(u) for u in ordered[offset : offset + limit]]

    async def update(self, user: User) -> None:
        self._check_unique(user, skip=user.id)
        old = self._s.users[user.id]
        self._s.users[user.id] = dataclasses.replace(user)
        self._undo.append(lambda: self._s.users.__setitem__(user.id, old))
