"""The audit log in memory: append-only, read newest first."""

from __future__ import annotations

import dataclasses

from ...domain.audit import AuditEntry, AuditRecord
from .state import State, Undo

__all__ = ["MemoryAudit"]


class MemoryAudit:
    def __init__(self, s: State, undo: Undo) -> None:
        self._s, self._undo = s, undo

    async def add(self, record: AuditRecord) -> AuditEntry:
        entry = AuditEntry(id=len(self._s.audit) + 1, **dataclasses.asdict(record))
        self._s.audit.append(entry)
        self._undo.append(self._s.audit.pop)
        return entry

    async def list(
        self,
        *,
        limit: int = 50,
        before_id: int | None = None,
        action: str | None = None,
        target: str | None = None,
    ) -> list[AuditEntry]:
        out = [
            e
            for e in reversed(self._s.audit)
            if (before_id is None or e.id < before_id)
            and (action is None or e.action == action)
            and (target is None or e.target == target)
        ]
        return out[:limit]
