"""A publisher that records what the use cases announce."""

from __future__ import annotations

from typing import TypeVar

from ..domain.notifications import Notification

__all__ = ["RecordingPublisher"]

N = TypeVar("N", bound=Notification)


class RecordingPublisher:
    """Keeps every published notification in ``notes``, in order, for tests to inspect."""

    def __init__(self) -> None:
        self.notes: list[Notification] = []

    async def publish(self, note: Notification) -> None:
        self.notes.append(note)

    def of(self, kind: type[N]) -> list[N]:
        """The notifications of one kind, in order."""
        return [n for n in self.notes if isinstance(n, kind)]
