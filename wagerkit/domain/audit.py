"""The audit trail: every operator or admin action, who did it, when, to what and why."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["AuditEntry", "AuditRecord"]


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """An audit entry before the store gives it an id."""

    at: datetime
    actor_id: int | None
    actor_name: str
    action: str
    target: str
    reason: str
    details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    actor_id: int | None
    actor_name: str
    action: str
    target: str
    reason: str
    details: dict[str, str] = field(default_factory=dict)
