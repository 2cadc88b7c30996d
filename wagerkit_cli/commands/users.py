"""``wagerkit users``: create and list users."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from ..output import user_json, when
from ..runtime import state
from ..terminal import Column
from . import JsonOpt

if TYPE_CHECKING:
    from wagerkit import User, WagerKit

app = typer.Typer(help="Users: create and list.", no_args_is_help=True)

USER_COLUMNS = [
    Column("ID", "right", no_wrap=True),
    Column("Name"),
    Column("Username"),
    Column("Role"),
    Column("Status"),
    Column("Created (UTC)", "left", no_wrap=True),
]


class RoleChoice(StrEnum):
    """Mirrors ``wagerkit.Role`` without importing wagerkit when the tree is built."""

    player = "player"
    operator = "operator"
    admin = "admin"


def user_row(u: User) -> list[object]:
    return [
        u.id,
        u.display_name,
        u.username or "",
        u.role.value,
        u.status.value,
        when(u.created_at),
    ]


@app.command()
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Display name (1-64 characters).")],
    role: Annotated[RoleChoice, typer.Option(help="Role of the new user.")] = RoleChoice.player,
    username: Annotated[str | None, typer.Option(help="Unique login name.")] = None,
    email: Annotated[str | None, typer.Option(help="Unique e-mail address.")] = None,
    welcome_grant: Annotated[
        bool,
        typer.Option(
            "--welcome-grant/--no-welcome-grant", help="Pay the configured welcome grant."
        ),
    ] = True,
    as_json: JsonOpt = False,
) -> None:
    """Create a user, open its wallet and pay the welcome grant."""
    from wagerkit import Role

    st = state(ctx)

    async def work(kit: WagerKit) -> User:
        return await kit.users.add(
            st.actor,
            name,
            role=Role(role.value),
            username=username,
            email=email,
            welcome_grant=welcome_grant,
        )

    user = st.run(work)
    if as_json:
        st.terminal.json(user_json(user))
    else:
        handle = f" @{user.username}" if user.username else ""
        st.terminal.line(f"created user {user.id}: {user.display_name}{handle} ({user.role.value})")


@app.command("list")
def list_(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many users.")] = 100,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many users.")] = 0,
    as_json: JsonOpt = False,
) -> None:
    """List users, oldest first."""
    st = state(ctx)

    async def work(kit: WagerKit) -> list[User]:
        return await kit.users.list(st.actor, limit=limit, offset=offset)

    users = st.run(work)
    if as_json:
        st.terminal.json({"users": [user_json(u) for u in users], "limit": limit, "offset": offset})
    else:
        st.terminal.table(
            USER_COLUMNS, [user_row(u) for u in users], caption=f"{len(users)} user(s)"
        )
