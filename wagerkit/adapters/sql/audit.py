"""The audit log repository (``uow.audit``) on the SQL unit of work's connection: append-only,
read newest first."""

from __future__ import annotations

import json

from sqlalchemy import insert, select

from ...domain.audit import AuditEntry, AuditRecord
from .session import Repository
from .tables import audit_log

__all__ = ["SqlAudit"]


class SqlAudit(Repository):
    async def add(self, record: AuditRecord) -> AuditEntry:
        values = {
            "at": record.at,
            "actor_id": record.actor_id,
            "actor_name": record.actor_name[:64],
            "action": record.action,
            "target": record.target,
            "reason": record.reason,
            "details": json.dumps(record.details, sort_keys=True),
        }
        new_id = (
            await self._c.execute(insert(audit_log).values(values).returning(audit_log.c.id))
        ).scalar_one()
        return AuditEntry(
            id=new_id,
            at=record.at,
            actor_id=record.actor_id,
            actor_name=record.actor_name,
            action=record.action,
            target=record.target,
            reason=record.reason,
            details=dict(record.details),
        )

    async def list(
        self,
        *,
        limit: int = 50,
        before_id: int | None = None,
        action: str | None = None,
        target: str | None = None,
    ) -> list[AuditEntry]:
        q = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        if before_id is not None:
            q = q.where(audit_log.c.id < before_id)
        if action is not None:
            q = q.where(audit_log.c.action == action)
        if target is not None:
            q = q.where(audit_log.c.target == target)
        return [
            AuditEntry(
                r.id,
                r.at,
                r.actor_id,
                r.actor_name,
                r.action,
                r.target,
                r.reason,
                json.loads(r.details),
            )
            for r in await self._c.execute(q)
        ]
