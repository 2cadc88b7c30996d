"""``wagerkit chat``: event chat moderation (mute, unmute, delete) and history."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..runtime import AsOpt, state
from ..terminal import Column
from . import JsonOpt
from .events import iso, utc

if TYPE_CHECKING:
    from wagerkit import ChatMessage, Mute, WagerKit
__all__ = ["app"]

app = typer.Typer(
    help="Event chat: mute and unmute users, delete messages, read the history.",
    no_args_is_help=True,
)

UserId = Annotated[int, typer.Argument(help="User id.", show_default=False)]
ReasonOpt = Annotated[str, typer.Option(help="Why (recorded in the audit trail).")]
MESSAGE_COLUMNS = [
    Column("ID", "right", no_wrap=True),
    Column("Time (UTC)", "left", no_wrap=True),
    Column("User", "right", no_wrap=True),
    Column("Author"),
    Column("Text"),
]


def message_json(m: ChatMessage, *, deleted: bool | None = None) -> dict[str, Any]:
    return {
        "id": m.id,
        "event_id": m.event_id,
        "user_id": m.user_id,
        "author": m.author,
        "text": m.text,
        "created_at": m.created_at.isoformat(),
        "deleted": m.deleted if deleted is None else deleted,
    }


def mute_json(m: Mute) -> dict[str, Any]:
    return {
        "user_id": m.user_id,
        "muted": True,
        "until": iso(m.until),
        "reason": m.reason,
        "created_at": m.created_at.isoformat(),
        "created_by": m.created_by,
    }


@app.command()
def mute(
    ctx: typer.Context,
    user_id: UserId,
    minutes: Annotated[
        int | None,
        typer.Option(
            min=1, help="Mute for this many minutes (default: until unmuted).", show_default=False
        ),
    ] = None,
    reason: ReasonOpt = "",
    as_json: JsonOpt = False,
    as_user: AsOpt = None,
) -> None:
    """Mute a user in every event chat, for a while or until unmuted; audited."""
    st = state(ctx)
    st.act_as(as_user)

    async def work(kit: WagerKit) -> Mute:
        return await kit.chat.mute(st.actor, user_id, minutes=minutes, reason=reason)

    m = st.run(work)
    if as_json:
        st.terminal.json(mute_json(m))
        return
    until = f"until {utc(m.until)} UTC" if m.until else "until unmuted"
    st.terminal.line(f"user {m.user_id} is muted in chat {until}")


@app.command()
def unmute(
    ctx: typer.Context,
    user_id: UserId,
    reason: ReasonOpt = "",
    as_json: JsonOpt = False,
    as_user: AsOpt = None,
) -> None:
    """Let a muted user post again; audited."""
    st = state(ctx)
    st.act_as(as_user)

    async def work(kit: WagerKit) -> None:
        await kit.chat.unmute(st.actor, user_id, reason=reason)

    st.run(work)
    if as_json:
        st.terminal.json({"user_id": user_id, "muted": False})
    else:
        st.terminal.line(f"user {user_id} may post in chat again")


@app.command()
def delete(
    ctx: typer.Context,
    message_id: Annotated[int, typer.Argument(help="Chat message id.", show_default=False)],
    reason: ReasonOpt = "",
    as_json: JsonOpt = False,
    as_user: AsOpt = None,
) -> None:
    """Delete a chat message (players no longer see it; the text is kept); audited."""
    st = state(ctx)
    st.act_as(as_user)

    async def work(kit: WagerKit) -> ChatMessage:
        return await kit.chat.delete(st.actor, message_id, reason=reason)

    m = st.run(work)
    if as_json:
        st.terminal.json(message_json(m, deleted=True))
    else:
        st.terminal.line(f"deleted chat message {m.id} (event {m.event_id}, by user {m.user_id})")


@app.command()
def history(
    ctx: typer.Context,
    event_id: Annotated[int, typer.Argument(help="Event id.", show_default=False)],
    limit: Annotated[int, typer.Option(min=1, max=200, help="At most this many messages.")] = 50,
    before: Annotated[int | None, typer.Option(help="Only messages older than this id.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """An event's chat messages, newest first (deleted ones left out)."""
    st = state(ctx)

    async def work(kit: WagerKit) -> list[ChatMessage]:
        return await kit.chat.history(event_id, limit=limit, before_id=before)

    messages = st.run(work)
    next_before = messages[-1].id if len(messages) == limit else None
    if as_json:
        st.terminal.json(
            {
                "event_id": event_id,
                "messages": [message_json(m) for m in messages],
                "next_before": next_before,
            }
        )
        return
    rows = [[m.id, utc(m.created_at), m.user_id, m.author, m.text] for m in messages]
    more = f"; older: --before {next_before}" if next_before is not None else ""
    st.terminal.table(
        MESSAGE_COLUMNS,
        rows,
        title=f"Chat of event {event_id}",
        caption=f"{len(rows)} message(s){more}",
    )
