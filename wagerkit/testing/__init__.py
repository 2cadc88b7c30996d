"""Fakes that are real classes: an in-memory store, a clock you set, ids you can predict.

Tests and embedding apps use these the way httpx users use ``MockTransport``: the in-memory
store runs the same ledger rules (``plan_batch``) as the SQL store, serialises transactions like
SQLite does, and rolls back everything a unit of work did unless it was committed.
"""

from .clock import FixedClock
from .ids import SequentialIds, UuidIds
from .memory.store import InMemoryStore
from .memory.store import InMemoryUnitOfWork as InMemoryUnitOfWork
from .notifier import NullNotifier, RecordingNotifier
from .publisher import RecordingPublisher

__all__ = [
    "FixedClock",
    "InMemoryStore",
    "NullNotifier",
    "RecordingNotifier",
    "RecordingPublisher",
    "SequentialIds",
    "UuidIds",
]
