"""Event chat (docs/events.md): post, history, and moderation.

Posting checks, in the use case: the author is a user, not banned (the actor comes from a
fresh ``authenticate``), not muted, within the ``chat`` rate limit (20 a minute by default),
and the event exists; the text is 1-500 characters after trimming. Operators delete messages
(soft, audited) and mute users for a number of minutes or until unmuted (audited).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from ..domain.audit import AuditRecord
from ..domain.chat import ChatMessage, Mute, clean_message
from ..domain.errors import (
    ChatMuted,
    EventNotFound,
    InvalidInput,
    MessageNotFound,
    PermissionDenied,
    UserNotFound,
)
from ..domain.identity import Actor
from ..domain.notifications import ChatDeleted, ChatPosted
from ..domain.refs import user_ref
from ..domain.text import clean_reason
from ..ports import UnitOfWork
from .base import Deps, check_page_limit

__all__ = ["ChatService"]

MAX_MUTE_MINUTES = 60 * 24 * 365


class ChatService:
    def __init__(
        self, deps: Deps, *, limit: Callable[[Actor, str], Awaitable[None]] | None = None
    ) -> None:
        self._d = deps
        self._limit = limit

    async def post(self, actor: Actor, event_id: int, text: str) -> ChatMessage:
        if actor.user_id is None:
            raise PermissionDenied("only a user can post in chat")
        cleaned = clean_message(text)
        uid = actor.user_id

        async def check(uow: UnitOfWork) -> None:
            mute = await uow.chat.get_mute(uid)
            if mute is not None and mute.active(self._d.clock.now()):
                until = f" until {mute.until.isoformat()}" if mute.until else ""
                raise ChatMuted(f"you are muted in chat{until}")

        await self._d.transaction(check)
        if self._limit is not None:
            await self._limit(actor, "chat")

        async def work(uow: UnitOfWork) -> ChatMessage:
            await check(uow)
            if await uow.events.get(event_id) is None:
                raise EventNotFound(f"no event {event_id}")
            return await uow.chat.add(
                event_id, uid, actor.name or f"user {uid}", cleaned, self._d.clock.now()
            )

        msg = await self._d.transaction(work)
        await self._d.publisher.publish(ChatPosted(msg))
        return msg

    async def history(
        self, event_id: int, *, limit: int = 50, before_id: int | None = None
    ) -> list[ChatMessage]:
        """Recent messages of an event, newest first (deleted ones left out)."""
        check_page_limit(limit, most=200)

        async def work(uow: UnitOfWork) -> list[ChatMessage]:
            if await uow.events.get(event_id) is None:
                raise EventNotFound(f"no event {event_id}")
            return await uow.chat.recent(event_id, limit=limit, before_id=before_id)

        return await self._d.transaction(work)

    async def delete(self, actor: Actor, message_id: int, *, reason: str = "") -> ChatMessage:
        actor.require_staff()
        reason = clean_reason(reason, required=False)

        async def work(uow: UnitOfWork) -> ChatMessage:
            msg = await uow.chat.get(message_id)
            if msg is None:
                raise MessageNotFound(f"no chat message {message_id}")
            if not msg.deleted:
                await uow.chat.delete(message_id)
                await uow.audit.add(
                    AuditRecord(
                        self._d.clock.now(),
                        actor.user_id,
                        actor.name,
                        "chat.delete",
                        f"chat:{message_id}",
                        reason,
                        {"event": str(msg.event_id), "author": str(msg.user_id)},
                    )
                )
            return msg

        msg = await self._d.transaction(work)
        await self._d.publisher.publish(ChatDeleted(msg.id, msg.event_id))
        return msg

    async def mute(
        self, actor: Actor, user_id: int, *, minutes: int | None = None, reason: str = ""
    ) -> Mute:
        """Mute a user in every chat, for ``minutes`` or (``None``) until unmuted."""
        actor.require_staff()
        reason = clean_reason(reason, required=False)
        if minutes is not None and (
            isinstance(minutes, bool)
            or not isinstance(minutes, int)
            or not 1 <= minutes <= MAX_MUTE_MINUTES
        ):
            raise InvalidInput(f"minutes must be 1-{MAX_MUTE_MINUTES}")

        async def work(uow: UnitOfWork) -> Mute:
            if await uow.users.get(user_id) is None:
                raise UserNotFound(f"no user {user_id}")
            now = self._d.clock.now()
            mute = Mute(
                user_id,
                now + timedelta(minutes=minutes) if minutes else None,
                reason,
                now,
                actor.user_id,
            )
            await uow.chat.set_mute(mute)
            await uow.audit.add(
                AuditRecord(
                    now,
                    actor.user_id,
                    actor.name,
                    "chat.mute",
                    user_ref(user_id),
                    reason,
                    {"minutes": str(minutes) if minutes else "until unmuted"},
                )
            )
            return mute

        return await self._d.transaction(work)

    async def unmute(self, actor: Actor, user_id: int, *, reason: str = "") -> None:
        actor.require_staff()
        reason = clean_reason(reason, required=False)

        async def work(uow: UnitOfWork) -> None:
            if await uow.users.get(user_id) is None:
                raise UserNotFound(f"no user {user_id}")
            await uow.chat.remove_mute(user_id)
            await uow.audit.add(
                AuditRecord(
                    self._d.clock.now(),
                    actor.user_id,
                    actor.name,
                    "chat.unmute",
                    user_ref(user_id),
                    reason,
                    {},
                )
            )

        await self._d.transaction(work)

    async def muted(self, user_id: int) -> Mute | None:
        """The user's mute if one is in force now."""

        async def work(uow: UnitOfWork) -> Mute | None:
            return await uow.chat.get_mute(user_id)

        mute = await self._d.transaction(work)
        return mute if mute is not None and mute.active(self._d.clock.now()) else None
