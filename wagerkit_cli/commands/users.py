"""``wagerkit users``: create and list users; create admins; roles, bans and the whitelist."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from ..errors import abort
from ..output import user_json, when
from ..runtime import AsOpt, CliState, state
from ..terminal import Column
from . import JsonOpt

if TYPE_CHECKING:
    from wagerkit import User, WagerKit

app = typer.Typer(
    help="Users: create and list; create admins; roles, bans and the whitelist.",
    no_args_is_help=True,
)

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
    as_user: AsOpt = None,
) -> None:
    """Create a user, open its wallet and pay the welcome grant."""
    from wagerkit import Role

    st = state(ctx)
    st.act_as(as_user)

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


# -- admins, roles, bans, whitelist ----------------------------------------------------------
UserIdArg = Annotated[int, typer.Argument(help="User id.", show_default=False)]
ReasonOpt = Annotated[
    str, typer.Option(help="Why (required, recorded in the audit trail).", show_default=False)
]


def _read_password(from_stdin: bool) -> str:
    """The new admin's password: one line from stdin, or typed twice at a hidden prompt."""
    import sys

    if from_stdin:
        line = sys.stdin.readline()
        password = line[:-1] if line.endswith("\n") else line
        if password.endswith("\r"):
            password = password[:-1]
        if not password:
            raise abort("no password on stdin")
        return password
    if not sys.stdin.isatty():
        raise abort("no terminal to ask for the password; use --password-stdin")
    typed: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    return typed


def _report(st: CliState, user: User, as_json: bool, text: str) -> None:
    if as_json:
        st.terminal.json(user_json(user))
    else:
        st.terminal.line(text)


@app.command("create-admin")
def create_admin(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Display name (1-64 characters).")],
    username: Annotated[
        str | None, typer.Option(help="Login name: 3-32 of A-Z a-z 0-9 _ (stored lower-case).")
    ] = None,
    email: Annotated[str | None, typer.Option(help="Login e-mail address.")] = None,
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin",
            help="Read the password from the first line of stdin instead of prompting.",
        ),
    ] = False,
    as_json: JsonOpt = False,
    as_user: AsOpt = None,
) -> None:
    """Create an admin who signs in with a password (8-256 characters; asked twice, never
    echoed). Use it for the first admin."""
    st = state(ctx)
    st.act_as(as_user)
    if username is None and email is None:
        raise abort("give --username or --email (or both)")
    password = _read_password(password_stdin)

    async def work(kit: WagerKit) -> User:
        return await kit.identity.create_admin(
            st.actor, display_name=name, password=password, username=username, email=email
        )

    user = st.run(work)
    login = user.username or user.email
    _report(st, user, as_json, f"created admin {user.id}: {user.display_name} (login {login})")


@app.command()
def role(
    ctx: typer.Context,
    user_id: UserIdArg,
    new_role: Annotated[RoleChoice, typer.Argument(metavar="ROLE", help="The new role.")],
    reason: ReasonOpt,
    as_json: JsonOpt = False,
    as_user: AsOpt = None,
) -> None:
    """Change a user's role (admins only; the last admin cannot be demoted)."""
    from wagerkit import Role

    st = state(ctx)
    st.act_as(as_user)

    async def work(kit: WagerKit) -> User:
        return await kit.identity.set_role(st.actor, user_id, Role(new_role.value), reason)

    user = st.run(work)
    _report(st, user, as_json, f"user {user.id} ({user.display_name}) is now {user.role.value}")


@app.command()
def ban(
    ctx: typer.Context,
    user_id: UserIdArg,
    reason: ReasonOpt,
    as_json: JsonOpt = False,
    as_user: AsOpt = None,
) -> None:
    """Ban a user: refused everywhere at once, existing sessions included."""
    st = state(ctx)
    st.act_as(as_user)

    async def work(kit: WagerKit) -> User:
        return await kit.identity.ban(st.actor, user_id, reason)

    user = st.run(work)
    _report(st, user, as_json, f"user {user.id} ({user.display_name}) is banned")


@app.command()
def unban(
    ctx: typer.Context,
    user_id: UserIdArg,
    reason: ReasonOpt,
    as_json: JsonOpt = False,
    as_user: AsOpt = None,
) -> None:
    """Lift a user's ban."""
    st = state(ctx)
    st.act_as(as_user)

    async def work(kit: WagerKit) -> User:
        return await kit.identity.unban(st.actor, user_id, reason)

    user = st.run(work)
    _report(st, user, as_json, f"user {user.id} ({user.display_name}) is active")


@app.command()
def whitelist(
    ctx: typer.Context,
    user_id: UserIdArg,
    reason: ReasonOpt,
    off: Annotated[bool, typer.Option("--off", help="Remove from the whitelist.")] = False,
    as_json: JsonOpt = False,
    as_user: AsOpt = None,
) -> None:
    """Put a user on the whitelist (or take it off with --off)."""
    st = state(ctx)
    st.act_as(as_user)

    async def work(kit: WagerKit) -> User:
        return await kit.identity.set_whitelisted(st.actor, user_id, not off, reason)

    user = st.run(work)
    where = "on" if user.whitelisted else "off"
    _report(st, user, as_json, f"user {user.id} ({user.display_name}) is {where} the whitelist")
