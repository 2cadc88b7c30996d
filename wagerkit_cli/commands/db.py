"""``wagerkit db``: the schema, managed by Alembic migrations."""

from __future__ import annotations

import typer

from ..runtime import state
from . import JsonOpt

app = typer.Typer(help="Database schema: migrate and inspect.", no_args_is_help=True)


def _report(ctx: typer.Context, as_json: bool, revision: str | None, verb: str) -> None:
    st = state(ctx)
    head = st.head_revision()
    if as_json:
        st.terminal.json(
            {
                "database": st.safe_url,
                "revision": revision,
                "head": head,
                "up_to_date": revision == head,
            }
        )
        return
    where = "head" if revision == head else f"head is {head}"
    shown = revision if revision is not None else "none (not migrated)"
    st.terminal.line(f"{st.safe_url} {verb} revision {shown} ({where})")


@app.command()
def upgrade(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Apply every pending migration (creates a SQLite file if needed)."""
    _report(ctx, as_json, state(ctx).upgrade(), "is now at")


@app.command()
def current(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Show the schema revision of the database and the newest one available."""
    _report(ctx, as_json, state(ctx).current_revision(), "is at")
