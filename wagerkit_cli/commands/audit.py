"""``wagerkit audit``: the trail of operator and admin actions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from ..output import audit_json, when
from ..runtime import state
from ..terminal import Column
from . import JsonOpt

if TYPE_CHECKING:
    from wagerkit import AuditEntry, WagerKit

AUDIT_COLUMNS = [
    Column("ID", "right", no_wrap=True),
    Column("Time (UTC)", "left", no_wrap=True),
    Column("Actor", no_wrap=True),
    Column("Action", no_wrap=True),
    Column("Target", no_wrap=True),
    Column("Reason"),
    Column("Details"),
]


def audit(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many entries.")] = 50,
    action: Annotated[
        str | None, typer.Option(help="Only this action, e.g. wallet.adjust.")
    ] = None,
    target: Annotated[str | None, typer.Option(help="Only this target, e.g. user:7.")] = None,
    before: Annotated[int | None, typer.Option(help="Only entries older than this id.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List the audit trail, newest first."""
    st = state(ctx)

    async def work(kit: WagerKit) -> list[AuditEntry]:
        return await kit.audit.list(
            st.actor, limit=limit, before_id=before, action=action, target=target
        )

    entries = st.run(work)
    next_before = entries[-1].id if len(entries) == limit else None
    if as_json:
        st.terminal.json({"entries": [audit_json(a) for a in entries], "next_before": next_before})
        return
    rows = [
        [
            a.id,
            when(a.at),
            a.actor_name or (a.actor_id or ""),
            a.action,
            a.target,
            a.reason,
            " ".join(f"{k}={v}" for k, v in sorted(a.details.items())),
        ]
        for a in entries
    ]
    more = f"; older: --before {next_before}" if next_before is not None else ""
    st.terminal.table(
        AUDIT_COLUMNS, rows, caption=f"{len(rows)} entr{'y' if len(rows) == 1 else 'ies'}{more}"
    )
