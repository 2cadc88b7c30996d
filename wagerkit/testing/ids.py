"""Id factories: predictable ids for tests, and the random production ones (re-exported)."""

from __future__ import annotations

import itertools

from ..ports import UuidIds

__all__ = ["SequentialIds", "UuidIds"]


class SequentialIds:
    """Predictable ids: ``prefix-00000001``, ``prefix-00000002`` …"""

    def __init__(self) -> None:
        self._n = itertools.count(1)

    def new_id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._n):08d}"
