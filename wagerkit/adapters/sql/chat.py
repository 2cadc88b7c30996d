"""Event chat (``uow.chat``) on the SQL unit of work's connection: messages (soft-deleted,
read newest first) and one mute per user (``set_mute`` replaces it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Row

from ...domain.chat import ChatMessage, Mute
from .session import Repository, utc
from .tables import chat_messages, chat_mutes

__all__ = ["SqlChat"]


def _message(r: Row[Any]) -> ChatMessage:
    return ChatMessage(r.id, r.event_id, r.user_id, r.author, r.text, r.created_at, r.deleted)


def _mute(r: Row[Any]) -> Mute:
    return Mute(r.user_id, r.until, r.reason, r.created_at, r.created_by)


class SqlChat(Repository):
    async def add(
        self, event_id: int, user_id: int, author: str, text: str, now: datetime
    ) -> ChatMessage:
        values = {
            "event_id": event_id,
            "user_id": user_id,
            "author": author,
            "text": text,
            "created_at": now,
            "deleted": False,
        }
        message_id = (
            await self._c.execute(
                insert(chat_messages).values(values).returning(chat_messages.c.id)
            )
        ).scalar_one()
        return ChatMessage(message_id, event_id, user_id, author, text, utc(now))

    async def get(self, message_id: int) -> ChatMessage | None:
        q = select(chat_messages).where(chat_messages.c.id == message_id)
        r = (await self._c.execute(q)).first()
        return _message(r) if r else None

    async def delete(self, message_id: int) -> None:
        await self._c.execute(
            update(chat_messages).where(chat_messages.c.id == message_id).values(deleted=True)
        )

    async def recent(
        self, event_id: int, *, limit: int = 50, before_id: int | None = None
    ) -> list[ChatMessage]:
        m = chat_messages.c
        q = (
            select(chat_messages)
            .where(m.event_id == event_id, ~m.deleted)
            .order_by(m.id.desc())
            .limit(limit)
        )
        if before_id is not None:
            q = q.where(m.id < before_id)
        return [_message(r) for r in await self._c.execute(q)]

    async def get_mute(self, user_id: int) -> Mute | None:
        r = (
            await self._c.execute(select(chat_mutes).where(chat_mutes.c.user_id == user_id))
        ).first()
        return _mute(r) if r else None

    async def set_mute(self, mute: Mute) -> None:
        values = {
            "user_id": mute.user_id,
            "until": mute.until,
            "reason": mute.reason,
            "created_at": mute.created_at,
            "created_by": mute.created_by,
        }
        stmt = self._insert(chat_mutes).values(values)
        await self._c.execute(
            stmt.on_conflict_do_update(
                index_elements=[chat_mutes.c.user_id],
                set_={k: stmt.excluded[k] for k in values if k != "user_id"},
            )
        )

    async def remove_mute(self, user_id: int) -> None:
        await self._c.execute(delete(chat_mutes).where(chat_mutes.c.user_id == user_id))
