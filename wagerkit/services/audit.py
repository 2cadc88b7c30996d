"""Listing the audit trail (staff only)."""

from __future__ import annotations

from ..domain.audit import AuditEntry
from ..domain.errors import InvalidInput
from ..domain.identity import Actor
from .base import Deps

__all__ = ["AuditService"]


class AuditService:
    def __init__(self, deps: Deps) -> None:
        self._d = deps

    async def list(
        self,
        actor: Actor,
        *,
        limit: int = 50,
        before_id: int | None = None,
        action: str | None = None,
        target: str | None = None,
    ) -> list[AuditEntry]:
        """Newest first; page with ``before_id``."""
        actor.require_staff()
        if not 1 <= limit <= 1000:
            raise InvalidInput("limit must be 1-1000")
        async with self._d.uow() as uow:
            return await uow.audit.list(
                limit=limit, before_id=before_id, action=action, target=target
            )
