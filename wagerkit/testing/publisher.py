"""A publisher that records what the use cases announce."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["RecordingPublisher"]


class RecordingPublisher:
    """Keeps every published event in ``events`` for tests to inspect."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    async def publish(self, topic: str, payload: Mapping[str, Any]) -> None:
        self.events.append((topic, dict(payload)))
