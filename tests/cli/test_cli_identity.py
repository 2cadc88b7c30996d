"""``wagerkit users create-admin | role | ban | unban | whitelist`` and ``--as``."""

from __future__ import annotations

import pytest
from cli_harness import ENV, Cli

from wagerkit_cli.main import app


def create_admin(cli: Cli, *args: str, password: str = "root pass 1") -> object:
    return cli.runner.invoke(
        app,
        ["--db", cli.url, "users", "create-admin", *args, "--password-stdin", "--json"],
        input=password + "\n",
        env=ENV,
    )


@pytest.fixture
def admin(cli: Cli) -> Cli:
    """User 1 is the admin Root (login ``root``); user 2 the player Pat."""
    res = create_admin(cli, "Root", "--username", "Root")
    assert res.exit_code == 0, (res.stdout, res.stderr)  # type: ignore[attr-defined]
    cli.ok("users", "add", "Pat", "--username", "pat")
    return cli


def test_create_admin_stores_an_argon2id_hash_and_never_echoes(cli: Cli) -> None:
    res = create_admin(cli, "Root", "--username", "Root", "--email", "R@X.io")
    assert res.exit_code == 0, res.stderr  # type: ignore[attr-defined]
    assert "root pass 1" not in res.stdout + res.stderr  # type: ignore[attr-defined]
    doc = cli.json("users", "list")
    (user,) = doc["users"]
    assert (user["role"], user["username"], user["email"], user["whitelisted"]) == (
        "admin",
        "root",
        "r@x.io",
        True,
    )
    import asyncio

    from wagerkit.adapters.sql import SqlStore

    async def stored_hash() -> str | None:
        store = SqlStore.from_url(cli.url)
        try:
            async with store() as uow:
                u = await uow.users.get(1)
                return u.password_hash if u else None
        finally:
            await store.dispose()

    assert (asyncio.run(stored_hash()) or "").startswith("$argon2id$")


def test_create_admin_prompts_twice_with_hidden_input(cli: Cli) -> None:
    res = cli.runner.invoke(
        app,
        ["--db", cli.url, "users", "create-admin", "Root", "--username", "root"],
        input="root pass 1\nroot pass 1\n",
        env=ENV,
    )
    # CliRunner's stdin is not a terminal: the command asks for --password-stdin instead
    assert res.exit_code == 2
    assert "--password-stdin" in res.stderr


def test_create_admin_refusals(cli: Cli) -> None:
    for args, password, code in [
        (["Root"], "root pass 1", "invalid_input"),
        (["Root", "--username", "ro"], "root pass 1", "invalid_input"),
        (["Root", "--username", "root"], "short", "invalid_input"),
    ]:
        res = create_admin(cli, *args, password=password)
        assert res.exit_code == 2, res.stdout  # type: ignore[attr-defined]
        assert res.stdout == ""  # type: ignore[attr-defined]
        assert res.stderr.startswith(f"error: {code}: ")  # type: ignore[attr-defined]
        assert res.stderr.count("\n") == 1  # type: ignore[attr-defined]
        assert password not in res.stderr  # type: ignore[attr-defined]
    assert create_admin(cli, "Root", "--username", "root").exit_code == 0  # type: ignore[attr-defined]
    res = create_admin(cli, "Other", "--username", "ROOT")
    assert res.exit_code == 2  # type: ignore[attr-defined]
    assert res.stderr.startswith("error: already_exists: ")  # type: ignore[attr-defined]


def test_role_ban_unban_whitelist_are_audited(admin: Cli) -> None:
    assert admin.ok("users", "role", "2", "operator", "--reason", "helps") == (
        "user 2 (Pat) is now operator\n"
    )
    assert admin.ok("users", "ban", "2", "--reason", "spam") == "user 2 (Pat) is banned\n"
    assert admin.json("users", "unban", "2", "--reason", "appeal")["status"] == "active"
    assert admin.ok("users", "whitelist", "2", "--reason", "friend") == (
        "user 2 (Pat) is on the whitelist\n"
    )
    doc = admin.json("users", "whitelist", "2", "--off", "--reason", "left", "--as", "1")
    assert doc["whitelisted"] is False
    entries = admin.json("audit", "--target", "user:2")["entries"]
    got = [(e["action"], e["actor_id"], e["reason"]) for e in entries]
    assert sorted(got, key=str) == sorted(
        [
            ("user.create", None, ""),
            ("user.role", None, "helps"),
            ("user.ban", None, "spam"),
            ("user.unban", None, "appeal"),
            ("user.whitelist", None, "friend"),
            ("user.whitelist", 1, "left"),
        ],
        key=str,
    )


def test_refusals_are_one_line_exit_2(admin: Cli) -> None:
    assert admin.fail("users", "role", "1", "player", "--reason", "x").startswith(
        "error: conflict: the last admin"
    )
    assert admin.fail("users", "ban", "9", "--reason", "x").startswith("error: user_not_found")
    assert admin.fail("users", "ban", "2", "--reason", " ").startswith("error: invalid_input")
    assert admin.fail("users", "role", "2", "king", "--reason", "x").startswith("error: usage:")
    # a player acting with --as is refused by the use case
    assert admin.fail("users", "ban", "1", "--reason", "coup", "--as", "2").startswith(
        "error: forbidden: "
    )
    assert admin.fail("users", "role", "2", "admin", "--reason", "x", "--as", "2").startswith(
        "error: forbidden: "
    )
    assert admin.fail("users", "ban", "2", "--reason", "x", "--as", "99").startswith(
        "error: user_not_found"
    )


def test_wallet_adjust_records_the_acting_admin(admin: Cli) -> None:
    admin.ok("wallet", "adjust", "2", "25", "--reason", "prize", "--as", "1")
    admin.ok("wallet", "adjust", "2", "-5", "--reason", "fix", env={"WAGERKIT_ACTOR": "1"})
    admin.ok("wallet", "adjust", "2", "1", "--reason", "console")
    entries = admin.json("audit", "--action", "wallet.adjust")["entries"]
    got = sorted((e["reason"], e["actor_id"], e["actor_name"]) for e in entries)
    assert got == [("console", None, "cli"), ("fix", 1, "Root"), ("prize", 1, "Root")]
    assert admin.json("wallet", "show", "2")["wallets"][0]["balance"] == 1021
    # a player cannot adjust, a banned admin cannot act at all
    assert admin.fail("wallet", "adjust", "2", "5", "--reason", "me", "--as", "2").startswith(
        "error: forbidden: "
    )
    create_admin(admin, "Two", "--username", "two")
    admin.ok("users", "ban", "3", "--reason", "compromised", "--as", "1")
    assert admin.fail("wallet", "adjust", "2", "5", "--reason", "x", "--as", "3").startswith(
        "error: account_banned: "
    )
