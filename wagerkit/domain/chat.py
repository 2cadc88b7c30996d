"""Event chat: short messages in an event's room, stored, rate-limited, moderated.

A message is 1-500 characters after trimming, under the text rule of ``wagerkit.domain.text``
(multi-line: line feeds and tabs are kept; other control characters and bidi overrides are
refused). Operators delete messages (soft: the text is kept for the audit, clients see
``deleted``) and mute users, for a while or until unmuted; muted and banned users cannot post.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .text import clean_text

__all__ = ["MAX_MESSAGE_LENGTH", "ChatMessage", "Mute", "clean_message"]

MAX_MESSAGE_LENGTH = 500


@dataclass(frozen=True, slots=True)
class ChatMessage:
    id: int
    event_id: int
    user_id: int
    author: str
    text: str
    created_at: datetime
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class Mute:
    user_id: int
    until: datetime | None  # None: until unmuted
    reason: str
    created_at: datetime
    created_by: int | None = None

    def active(self, now: datetime) -> bool:
        return self.until is None or now < self.until


def clean_message(text: object) -> str:
    """The message as stored: trimmed, 1-500 characters, no control characters but line
    feeds and tabs, no bidi overrides."""
    return clean_text(text, "chat message", max_length=MAX_MESSAGE_LENGTH, multiline=True)
