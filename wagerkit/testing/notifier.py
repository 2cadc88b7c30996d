"""Notifiers for tests and for setups that send nothing."""

from __future__ import annotations

from ..domain.notifications import OutboundMessage

__all__ = ["NullNotifier", "RecordingNotifier"]


class RecordingNotifier:
    """Keeps every message in ``sent``, in order. ``fail_chats``: chats whose delivery fails
    (``send`` answers False and records nothing), to test how callers handle it."""

    def __init__(self, *, fail_chats: frozenset[int] = frozenset()) -> None:
        self.sent: list[OutboundMessage] = []
        self.fail_chats = fail_chats

    async def send(self, message: OutboundMessage) -> bool:
        if message.chat_id in self.fail_chats:
            return False
        self.sent.append(message)
        return True

    def to(self, chat_id: int) -> list[OutboundMessage]:
        """The messages delivered to one chat, in order."""
        return [m for m in self.sent if m.chat_id == chat_id]


class NullNotifier:
    """Sends nothing and says so (``send`` answers False): the default when no bot is
    configured."""

    async def send(self, message: OutboundMessage) -> bool:
        return False
