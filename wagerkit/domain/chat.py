"""Event chat: short messages in an event's room, stored, rate-limited, moderated.

A message is 1-500 characters after trimming (control characters other than line breaks are
refused). Operators delete messages (soft: the text is kept for the audit, clients see
``deleted``) and mute users, for a while or until unmuted; muted and banned users cannot post.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from .errors import InvalidInput

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
    """The message as stored: trimmed, 1-500 characters, no control characters."""
    if not isinstance(text, str):
        raise InvalidInput("a chat message is text")
    cleaned = text.strip()
    if not cleaned:
        raise InvalidInput("a chat message must not be empty")
    if len(cleaned) > MAX_MESSAGE_LENGTH:
        raise InvalidInput(f"a chat message is at most {MAX_MESSAGE_LENGTH} characters")
    if any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in cleaned):
        raise InvalidInput("a chat message must not contain control characters")
    return cleaned
