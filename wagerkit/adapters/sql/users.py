"""The users repository (``uow.users``) on the SQL unit of work's connection.

``get(…, for_update=True)`` and ``count_active_admins`` lock rows on PostgreSQL (in id order:
they wait, never deadlock); SQLite's ``BEGIN IMMEDIATE`` already serialises writers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Row

from ...domain.errors import AlreadyExists
from ...domain.identity import Role, User, UserStatus
from ...ports import NewUser
from .session import Repository, utc
from .tables import users

__all__ = ["USERS_JSON", "SqlUsers", "user_from_json"]


def _user(r: Row[Any]) -> User:
    return User(
        id=r.id,
        display_name=r.display_name,
        role=Role(r.role),
        status=UserStatus(r.status),
        created_at=r.created_at,
        telegram_id=r.telegram_id,
        username=r.username,
        email=r.email,
        password_hash=r.password_hash,
        whitelisted=r.whitelisted,
        rating_sum=r.rating_sum,
        rating_count=r.rating_count,
    )


# A batch read's users, by the ids in the driver parameter ``uids``: one JSON array of rows in
# ``user_from_json``'s columns (a select-list subquery of the bet, purchase, placement and take
# reads, which admit their access-token callers from it).
USERS_JSON = (
    "(SELECT json_agg(json_build_array(u.id, u.display_name, u.role, u.status, u.created_at,"
    " u.telegram_id, u.username, u.email, u.password_hash, u.whitelisted, u.rating_sum,"
    " u.rating_count)) FROM users AS u WHERE u.id = ANY(CAST(%(uids)s AS bigint[])))"
)


def user_from_json(r: Sequence[Any]) -> User:
    """A user from ``json_build_array(id, display_name, role, status, created_at, telegram_id,
    username, email, password_hash, whitelisted, rating_sum, rating_count)`` (timestamps
    arrive as ISO text)."""
    return User(
        id=r[0],
        display_name=r[1],
        role=Role(r[2]),
        status=UserStatus(r[3]),
        created_at=utc(r[4]),
        telegram_id=r[5],
        username=r[6],
        email=r[7],
        password_hash=r[8],
        whitelisted=r[9],
        rating_sum=r[10],
        rating_count=r[11],
    )


class SqlUsers(Repository):
    async def add(self, user: NewUser) -> User:
        values = {
            "display_name": user.display_name,
            "role": user.role.value,
            "status": user.status.value,
            "telegram_id": user.telegram_id,
            "username": user.username,
            "email": user.email,
            "password_hash": user.password_hash,
            "whitelisted": user.whitelisted,
            "created_at": user.created_at,
            "rating_sum": 0,
            "rating_count": 0,
        }
        for attr in ("username", "email", "telegram_id"):  # a clear error, not a failed INSERT
            val = values[attr]
            if (
                val is not None
                and (await self._c.execute(select(users.c.id).where(users.c[attr] == val))).first()
            ):
                raise AlreadyExists(f"{attr} is already taken")
        new_id = (
            await self._c.execute(insert(users).values(values).returning(users.c.id))
        ).scalar_one()
        return User(id=new_id, **dataclasses.asdict(user))

    async def get(self, user_id: int, *, for_update: bool = False) -> User | None:
        q = select(users).where(users.c.id == user_id)
        if for_update and self._pg:  # SQLite's BEGIN IMMEDIATE already serialises writers
            q = q.with_for_update()
        r = (await self._c.execute(q)).first()
        return _user(r) if r else None

    async def get_many(self, user_ids: Sequence[int]) -> dict[int, User]:
        wanted = sorted(set(user_ids))
        if not wanted:
            return {}
        rows = await self._c.execute(select(users).where(users.c.id.in_(wanted)))
        return {r.id: _user(r) for r in rows}

    async def get_by_username(self, username: str) -> User | None:
        r = (await self._c.execute(select(users).where(users.c.username == username))).first()
        return _user(r) if r else None

    async def get_by_email(self, email: str) -> User | None:
        r = (await self._c.execute(select(users).where(users.c.email == email))).first()
        return _user(r) if r else None

    async def get_by_telegram_id(self, telegram_id: int) -> User | None:
        stmt = select(users).where(users.c.telegram_id == telegram_id)
        r = (await self._c.execute(stmt)).first()
        return _user(r) if r else None

    async def count_active_admins(self) -> int:
        q = select(users.c.id).where(
            users.c.role == Role.ADMIN.value, users.c.status == UserStatus.ACTIVE.value
        )
        if self._pg:  # in id order, like every other lock: waits, never deadlocks
            q = q.order_by(users.c.id).with_for_update()
        return len((await self._c.execute(q)).all())

    async def list(self, *, limit: int = 100, offset: int = 0) -> list[User]:
        rows = await self._c.execute(select(users).order_by(users.c.id).limit(limit).offset(offset))
        return [_user(r) for r in rows]

    async def update(self, user: User) -> None:
        await self._c.execute(
            update(users)
            .where(users.c.id == user.id)
            .values(
                display_name=user.display_name,
                role=user.role.value,
                status=user.status.value,
                telegram_id=user.telegram_id,
                username=user.username,
                email=user.email,
                password_hash=user.password_hash,
                whitelisted=user.whitelisted,
                rating_sum=user.rating_sum,
                rating_count=user.rating_count,
            )
        )
