"""``wagerkit users add`` and ``wagerkit users list``."""

from __future__ import annotations

from cli_harness import Cli, table_text


def lines(text: str) -> list[str]:
    return [line.rstrip() for line in table_text(text).splitlines()]


def test_add_prints_the_user_as_json(cli: Cli) -> None:
    assert cli.json("users", "add", "Alice  Liddell", "--username", "alice") == {
        "id": 1,
        "display_name": "Alice Liddell",
        "username": "alice",
        "email": None,
        "telegram_id": None,
        "role": "player",
        "status": "active",
        "whitelisted": False,
        "created_at": "<ts>",
    }
    # the welcome grant (1000 COIN by default) was paid
    wallets = cli.json("wallet", "show", "1")["wallets"]
    assert [(w["currency"], w["balance"]) for w in wallets] == [("COIN", 1000)]


def test_add_prints_one_line_for_people(cli: Cli) -> None:
    assert (
        cli.ok("users", "add", "Alice", "--username", "alice")
        == "created user 1: Alice @alice (player)\n"
    )
    assert cli.ok("users", "add", "Bob", "--role", "operator") == "created user 2: Bob (operator)\n"


def test_no_welcome_grant_leaves_the_wallet_empty(cli: Cli) -> None:
    cli.ok("users", "add", "Bob", "--no-welcome-grant")
    wallet = cli.json("wallet", "show", "1")["wallets"][0]
    assert (wallet["currency"], wallet["balance"], wallet["balance_formatted"]) == ("COIN", 0, "0")


def test_list_prints_a_table(cli: Cli) -> None:
    cli.ok("users", "add", "Alice Liddell", "--username", "alice")
    cli.ok("users", "add", "Bob", "--role", "operator", "--no-welcome-grant")
    assert lines(cli.ok("users", "list")) == [
        "",
        "  ID   Name            Username   Role       Status   Created (UTC)",
        " " + "─" * 73,
        "   1   Alice Liddell   alice      player     active   YYYY-MM-DD hh:mm:ss",
        "   2   Bob                        operator   active   YYYY-MM-DD hh:mm:ss",
        "",
        "                                 2 user(s)",
    ]


def test_list_as_json_pages_with_limit_and_offset(cli: Cli) -> None:
    for name in ("Ann", "Ben", "Cat"):
        cli.ok("users", "add", name)
    page = cli.json("users", "list", "--limit", "2", "--offset", "1")
    assert [(u["id"], u["display_name"], u["role"]) for u in page["users"]] == [
        (2, "Ben", "player"),
        (3, "Cat", "player"),
    ]
    assert (page["limit"], page["offset"]) == (2, 1)


def test_taken_username_is_refused(cli: Cli) -> None:
    cli.ok("users", "add", "Alice", "--username", "alice")
    assert cli.fail("users", "add", "Other", "--username", "alice") == (
        "error: already_exists: username is already taken"
    )
    assert len(cli.json("users", "list")["users"]) == 1


def test_bad_name_and_role_are_refused(cli: Cli) -> None:
    assert (
        cli.fail("users", "add", "   ")
        == "error: invalid_input: display name must be 1-64 characters"
    )
    line = cli.fail("users", "add", "X", "--role", "boss")
    assert line.startswith("error: usage: Invalid value for '--role'")
    assert line.endswith("(see 'wagerkit users add --help')")
