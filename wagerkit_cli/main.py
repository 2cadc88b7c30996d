"""The command tree and the CLI's one error boundary.

Every invocation goes through ``WagerkitGroup.main``: it creates the invocation's
``CliState`` (with the one ``Terminal``), runs the command, and turns any exception into one
line on stderr and an exit code (see ``errors``). Nothing heavy is imported here.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

from .commands import (
    audit,
    auth,
    chat,
    db,
    demo,
    events,
    jobs,
    orders,
    predictions,
    prices,
    raffles,
    serve,
    users,
    wallet,
)
from .errors import EXIT_OK, describe
from .runtime import CliState, state

__all__ = ["app", "run"]

EPILOG = (
    "Exit codes: 0 success; 1 internal error (a bug: set WAGERKIT_DEBUG=1 to see the traceback); "
    "2 bad input or refused (usage errors, invalid amounts or settings, unknown users, "
    "currencies, events or outcomes, ledger refusals such as insufficient funds, an event "
    "already settled or voided, a database that is unreachable or not migrated); "
    "130 interrupted (Ctrl-C). Errors are one line on stderr: error: <code>: <message>."
)


class WagerkitGroup(TyperGroup):
    """The root command: one ``CliState`` per invocation, one place that handles errors."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> NoReturn:
        cli_state = CliState()
        extra.setdefault("obj", cli_state)
        try:
            rv = super().main(
                args,
                prog_name or "wagerkit",
                complete_var,
                standalone_mode=False,
                windows_expand_args=windows_expand_args,
                **extra,
            )
        except SystemExit:
            raise
        except BaseException as exc:  # the one error boundary of the CLI
            if isinstance(exc, KeyboardInterrupt):
                cli_state.terminal.error("interrupted")
                sys.exit(130)
            line, code = describe(exc)
            if os.environ.get("WAGERKIT_DEBUG") == "1":
                traceback.print_exception(exc)
            if line:
                cli_state.terminal.error(line)
            sys.exit(code)
        sys.exit(rv if isinstance(rv, int) else EXIT_OK)


app = typer.Typer(
    name="wagerkit",
    cls=WagerkitGroup,
    help=(
        "Operate a wagerkit community: database, server, users, wallets, events, chat, jobs, "
        "audit trail."
    ),
    epilog=EPILOG,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(db.app, name="db")
app.command("serve")(serve.serve)
app.add_typer(users.app, name="users")
app.add_typer(wallet.app, name="wallet")
app.add_typer(events.app, name="events")
app.add_typer(events.bets_app, name="bets")
app.add_typer(chat.app, name="chat")
app.add_typer(jobs.app, name="jobs")
app.add_typer(predictions.app, name="predictions")
app.add_typer(predictions.rounds_app, name="rounds")
app.command("audit")(audit.audit)
app.command("demo")(demo.demo)
app.add_typer(auth.app, name="auth")
app.add_typer(prices.app, name="prices")
app.add_typer(raffles.app, name="raffles")
app.add_typer(raffles.tickets_app, name="tickets")
app.add_typer(orders.app, name="orders")
app.add_typer(orders.reviews_app, name="reviews")


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"wagerkit {version('wagerkit')}")
        except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
            from wagerkit import __version__

            typer.echo(f"wagerkit {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db_url: Annotated[
        str | None,
        typer.Option(
            "--db",
            metavar="URL",
            help="Database URL: sqlite:///path.db or postgresql://user:pass@host/db "
            "(overrides WAGERKIT_DATABASE_URL; default sqlite:///wagerkit.db).",
            show_default=False,
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Operate a wagerkit community: database, server, users, wallets, events, chat, jobs,
    audit trail."""
    state(ctx).db_override = db_url


def run() -> None:
    """Console-script entry point (``wagerkit``)."""
    app(prog_name="wagerkit")
