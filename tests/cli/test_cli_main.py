"""The root command: help, version, the error boundary and lazy imports."""

from __future__ import annotations

import subprocess
import sys

import pytest
from cli_harness import Cli

# Typer itself loads pydantic to convert parameter values, so only importing the module is
# pydantic-free; the database stack and the server are never loaded for help.
HEAVY = ("sqlalchemy", "alembic", "pydantic_settings", "wagerkit", "wagerkit_http", "uvicorn")


def _loaded_after(code: str, heavy: tuple[str, ...] = HEAVY) -> list[str]:
    """Run ``code`` in a fresh interpreter; return the heavy top-level modules it loaded."""
    probe = f"""
import sys
{code}
print(sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy!r})))
"""
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return eval(out.stdout.strip().splitlines()[-1])  # a printed list of str


def test_importing_the_cli_loads_nothing_heavy() -> None:
    assert _loaded_after("import wagerkit_cli.main", (*HEAVY, "pydantic", "rich")) == []


def test_help_loads_nothing_heavy() -> None:
    code = """
import contextlib, io
sys.argv = ["wagerkit", "wallet", "adjust", "--help"]
from wagerkit_cli.main import run
with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
    run()
"""
    assert _loaded_after(code) == []


def test_help_shows_the_command_tree_and_exit_codes(cli: Cli) -> None:
    out = cli.ok("--help", db=False)
    for command in ("db", "serve", "users", "wallet", "audit", "demo", "--db", "--version"):
        assert command in out
    assert "Exit codes: 0 success; 1 internal error" in " ".join(out.split())
    wallet_help = cli.ok("wallet", "-h", db=False)
    for command in ("show", "adjust", "transfer", "statement"):
        assert command in wallet_help


def test_a_bare_group_shows_its_help(cli: Cli) -> None:
    for args in ((), ("wallet",)):
        res = cli.invoke(*args, db=False)
        assert res.exit_code == 2  # Click's convention: help, but nothing was done
        assert f"Usage: wagerkit {' '.join(args)}".strip() in res.stdout
        assert res.stderr == ""


def test_version(cli: Cli) -> None:
    from wagerkit import __version__

    assert cli.ok("--version", db=False) == f"wagerkit {__version__}\n"


def test_usage_errors_are_one_short_line(cli: Cli) -> None:
    assert cli.fail("nosuch") == "error: usage: No such command 'nosuch'. (see 'wagerkit --help')"
    assert cli.fail("users", "add") == (
        "error: usage: Missing argument 'name'. (see 'wagerkit users add --help')"
    )
    assert cli.fail("users", "list", "--limit", "0").startswith(
        "error: usage: Invalid value for '--limit'"
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("nonsense", "error: invalid_input: database URL is not valid"),
        (
            "mysql://u:pw@localhost/db",
            "error: invalid_input: unsupported database 'mysql': use sqlite:/// or postgresql://",
        ),
        (
            "postgresql://ops:s3cret@127.0.0.1:9/wagerkit",
            "error: store_error: cannot open the database postgresql://ops:***@127.0.0.1:9/wagerkit",
        ),
    ],
)
def test_bad_database_url_is_one_line_without_the_password(url: str, message: str) -> None:
    line = Cli(url).fail("users", "list")
    assert line == message
    assert "s3cret" not in line


def test_database_url_from_the_environment(cli: Cli) -> None:
    cli.ok("users", "add", "Alice")
    res = cli.invoke("users", "list", "--json", db=False, env={"WAGERKIT_DATABASE_URL": cli.url})
    assert res.exit_code == 0
    assert '"display_name": "Alice"' in res.stdout
    # --db wins over the environment
    res = cli.invoke("users", "list", "--json", env={"WAGERKIT_DATABASE_URL": "nonsense"})
    assert res.exit_code == 0
    assert '"display_name": "Alice"' in res.stdout


def test_invalid_settings_are_bad_input(cli: Cli) -> None:
    assert cli.fail("users", "list", env={"WAGERKIT_PORT": "abc"}) == (
        "error: invalid_settings: WAGERKIT_PORT: Input should be a valid integer, "
        "unable to parse string as an integer"
    )

    # a value the settings model accepts but the area's policy refuses: the same one line
    # (it was "internal error (SettingsError)" with exit 1)
    assert cli.fail("demo", env={"WAGERKIT_ROUND_MARGIN": "abc"}) == (
        "error: invalid_settings: bad prediction settings (WAGERKIT_PREDICTION_*): a duration "
        "is a number with s, m or h (30s, 5m, 1h): 'abc'"
    )


def test_configured_currencies_are_used(cli: Cli) -> None:
    env: dict[str, str | None] = {
        "WAGERKIT_CURRENCIES": "GEM:3,COIN:0",
        "WAGERKIT_WELCOME_GRANT": "GEM:1500",
    }
    cli.ok("users", "add", "Alice", env=env)
    wallets = cli.json("wallet", "show", "1", env=env)["wallets"]
    assert [(w["currency"], w["balance"], w["balance_formatted"]) for w in wallets] == [
        ("GEM", 1500, "1.500")
    ]
    assert cli.fail("wallet", "adjust", "1", "0.0001", "--reason", "x", env=env) == (
        "error: invalid_amount: '0.0001' has more than 3 decimal place(s) for GEM"
    )


def test_unexpected_errors_are_internal_without_traceback(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    from wagerkit.services.users import UserService

    async def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("secret detail")

    monkeypatch.setattr(UserService, "list", broken)
    assert cli.fail("users", "list", code=1) == "error: internal error (ZeroDivisionError)"

    res = cli.invoke("users", "list", env={"WAGERKIT_DEBUG": "1"})
    assert res.exit_code == 1
    assert "Traceback (most recent call last)" in res.stderr
    assert res.stderr.endswith("error: internal error (ZeroDivisionError)\n")
