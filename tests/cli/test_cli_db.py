"""``wagerkit db upgrade | current`` and the automatic schema on a fresh SQLite file."""

from __future__ import annotations

from pathlib import Path

from cli_harness import Cli

from wagerkit.adapters.sql.migrate import current


def test_current_on_a_fresh_database(cli: Cli) -> None:
    assert cli.json("db", "current") == {
        "database": cli.url,
        "revision": None,
        "head": "0008",
        "up_to_date": False,
    }
    assert (
        cli.ok("db", "current") == f"{cli.url} is at revision none (not migrated) (head is 0008)\n"
    )


def test_upgrade_then_current_shows_the_head(cli: Cli) -> None:
    assert cli.ok("db", "upgrade") == f"{cli.url} is now at revision 0008 (head)\n"
    assert cli.json("db", "current") == {
        "database": cli.url,
        "revision": "0008",
        "head": "0008",
        "up_to_date": True,
    }
    assert cli.ok("db", "current") == f"{cli.url} is at revision 0008 (head)\n"
    assert cli.json("db", "upgrade")["revision"] == "0008"  # idempotent


def test_sqlite_gets_its_schema_on_first_use(cli: Cli, tmp_path: Path) -> None:
    assert not (tmp_path / "wagerkit.db").exists()
    assert cli.json("users", "list")["users"] == []
    assert current(cli.url) == "0008"


def test_default_database_is_wagerkit_db_in_the_working_directory(cli: Cli, tmp_path: Path) -> None:
    cli.ok("users", "add", "Alice", db=False)
    assert (tmp_path / "wagerkit.db").exists()
    assert cli.json("db", "current", db=False)["database"] == "sqlite:///wagerkit.db"
    Cli("sqlite:///wagerkit.db").assert_conserved()
