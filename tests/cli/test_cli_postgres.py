"""The CLI on PostgreSQL: the schema is never created implicitly there."""

from __future__ import annotations

import pytest
from cli_harness import Cli

pytestmark = pytest.mark.postgres


def test_postgres_upgrade_add_adjust_show(pg_cli: Cli) -> None:
    # a password in the URL (the test server trusts local connections) is never printed
    url = pg_cli.url.replace("postgresql://postgres@", "postgresql://postgres:topsecret@")
    shown = url.replace(":topsecret@", ":***@")
    cli = Cli(url)

    assert cli.fail("users", "add", "Alice") == (
        f"error: schema_missing: the database {shown} has no wagerkit schema; "
        "run 'wagerkit db upgrade'"
    )
    assert cli.ok("db", "upgrade") == f"{shown} is now at revision 0008 (head)\n"
    assert cli.json("db", "current") == {
        "database": shown,
        "revision": "0008",
        "head": "0008",
        "up_to_date": True,
    }

    assert cli.json("users", "add", "Alice", "--username", "alice")["id"] == 1
    adjusted = cli.json(
        "wallet", "adjust", "1", "12.50", "-c", "RUB", "--reason", "prize", "--key", "k1"
    )
    assert adjusted["transfer"]["id"] == "adjust:user:1:k1"
    assert (
        cli.json("wallet", "adjust", "1", "12.50", "-c", "RUB", "--reason", "prize", "--key", "k1")
        == adjusted
    )
    assert cli.fail("wallet", "adjust", "1", "-13", "-c", "RUB", "--reason", "x") == (
        "error: insufficient_funds: account 3 has 1250 available, needs 1300"
    )
    wallets = cli.json("wallet", "show", "1")["wallets"]
    assert [(w["currency"], w["balance"], w["balance_formatted"]) for w in wallets] == [
        ("COIN", 1000, "1000"),
        ("RUB", 1250, "12.50"),
    ]
    out = [line.rstrip() for line in cli.ok("wallet", "show", "1").splitlines()]
    assert out[4:6] == [
        "  COIN          1000        1000      0",
        "  RUB          12.50       12.50   0.00",
    ]
    cli.assert_conserved()
