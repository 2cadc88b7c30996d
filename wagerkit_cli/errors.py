"""The one way to abort, and how any exception becomes one line on stderr and an exit code.

Exit codes: ``0`` success; ``1`` internal error (a bug; the traceback is shown only with
``WAGERKIT_DEBUG=1``); ``2`` bad input or a refusal (usage errors, every ``WagerkitError``,
invalid settings, an unreachable or unmigrated database).
"""

from __future__ import annotations

import sys

__all__ = ["EXIT_BAD_INPUT", "EXIT_INTERNAL", "EXIT_OK", "CliError", "abort", "describe"]

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_BAD_INPUT = 2


class CliError(Exception):
    """Stop the command: print ``error: <code>: <message>`` and exit with ``exit_code``."""

    def __init__(
        self, message: str, *, code: str = "invalid_input", exit_code: int = EXIT_BAD_INPUT
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.exit_code = exit_code


def abort(message: str, *, code: str = "invalid_input") -> CliError:
    """Build the error to ``raise``: ``raise abort("...")``."""
    return CliError(message, code=code)


def _one_line(text: str) -> str:
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def describe(exc: BaseException) -> tuple[str, int]:
    """The line to print (without the ``error: `` prefix; empty: print nothing) and the exit
    code for ``exc``."""
    from typer._click import exceptions as click_exc  # typer vendors click; already imported

    if isinstance(exc, click_exc.NoArgsIsHelpError):  # a bare group: its help is the answer
        if exc.message:  # plain (non-Rich) help comes back as text instead of being printed
            sys.stdout.write(exc.message + "\n")
        return "", EXIT_BAD_INPUT
    if isinstance(exc, CliError):
        return f"{exc.code}: {_one_line(exc.message)}", exc.exit_code
    if isinstance(exc, click_exc.UsageError):
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
        return f"usage: {_one_line(exc.format_message())}{hint}", EXIT_BAD_INPUT
    if isinstance(exc, click_exc.ClickException):
        return _one_line(exc.format_message()), exc.exit_code
    wagerkit_errors = sys.modules.get("wagerkit.domain.errors")
    if wagerkit_errors is not None and isinstance(exc, wagerkit_errors.WagerkitError):
        return f"{exc.code}: {_one_line(exc.detail)}", EXIT_BAD_INPUT
    config = sys.modules.get("wagerkit.config")
    if config is not None and isinstance(exc, config.SettingsError):  # a bad WAGERKIT_* value
        return f"invalid_settings: {_one_line(str(exc))}", EXIT_BAD_INPUT
    pydantic_core = sys.modules.get("pydantic_core")
    if pydantic_core is not None and isinstance(exc, pydantic_core.ValidationError):
        problems = "; ".join(
            f"WAGERKIT_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in exc.errors()
        )
        return f"invalid_settings: {problems}", EXIT_BAD_INPUT
    sa_exc = sys.modules.get("sqlalchemy.exc")
    if sa_exc is not None and isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError):
        return "store_error: database unavailable", EXIT_BAD_INPUT
    return f"internal error ({type(exc).__name__})", EXIT_INTERNAL
