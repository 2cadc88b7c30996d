"""Event chat in memory: messages (soft-deleted) and one mute per user."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from functools import partial

from ...domain.chat import ChatMessage, Mute
from .state import State, Undo, set_undoable

__all__ = ["MemoryChat"]


class MemoryChat:
    def __init__(self, s: State, undo: Undo) -> None:
        self._s, self._undo = s, undo

    async def add(
        self, event_id: int, user_id: int, author: str, text: str, now: datetime
    ) -> ChatMessage:
        mid = max(self._s.chat, default=0) + 1
        msg = ChatMessage(mid, event_id, user_id, author, text, now)
        set_undoable(self._s.chat, self._undo, mid, msg)
        return msg

    async def get(self, message_id: int) -> ChatMessage | None:
        return self._s.chat.get(message_id)

    async def delete(self, message_id: int) -> None:
        m = self._s.chat[message_id]
        set_undoable(self._s.chat, self._undo, message_id, dataclasses.replace(m, deleted=True))

    async def recent(
        self, event_id: int, *, limit: int = 50, before_id: int | None = None
    ) -> list[ChatMessage]:
        out = [
            m
            for m in sorted(self._s.chat.values(), key=lambda m: -m.id)
            if m.event_id == event_id and not m.deleted and (before_id is None or m.id < before_id)
        ]
        return out[:limit]

    async def get_mute(self, user_id: int) -> Mute | None:
        return self._s.mutes.get(user_id)

    async def set_mute(self, mute: Mute) -> None:
        set_undoable(self._s.mutes, self._undo, mute.user_id, mute)

    async def remove_mute(self, user_id: int) -> None:
        if user_id in self._s.mutes:
            self._undo.append(partial(self._s.mutes.__setitem__, user_id, self._s.mutes[user_id]))
            del self._s.mutes[user_id]
