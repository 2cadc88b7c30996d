"""``wagerkit audit``."""

from __future__ import annotations

from cli_harness import Cli, table_text


def test_audit_lists_operator_actions_newest_first(cli: Cli) -> None:
    cli.ok("users", "add", "Alice")
    cli.ok("wallet", "adjust", "1", "12.50", "-c", "RUB", "--reason", "prize", "--key", "k1")
    assert cli.json("audit") == {
        "entries": [
            {
                "id": 2,
                "at": "<ts>",
                "actor_id": None,
                "actor_name": "cli",
                "action": "wallet.adjust",
                "target": "user:1",
                "reason": "prize",
                "details": {"amount": "1250", "currency": "RUB", "transfer": "adjust:user:1:k1"},
            },
            {
                "id": 1,
                "at": "<ts>",
                "actor_id": None,
                "actor_name": "cli",
                "action": "user.create",
                "target": "user:1",
                "reason": "",
                "details": {"role": "player"},
            },
        ],
        "next_before": None,
    }


def test_audit_filters_and_pages(cli: Cli) -> None:
    cli.ok("users", "add", "Alice")
    cli.ok("users", "add", "Bob")
    cli.ok("wallet", "adjust", "2", "5", "--reason", "r1")
    cli.ok("wallet", "adjust", "2", "-5", "--reason", "r2")
    ids = lambda doc: [e["id"] for e in doc["entries"]]  # noqa: E731
    assert ids(cli.json("audit", "--action", "user.create")) == [2, 1]
    assert ids(cli.json("audit", "--target", "user:2")) == [4, 3, 2]
    page = cli.json("audit", "--limit", "2")
    assert (ids(page), page["next_before"]) == ([4, 3], 3)
    assert ids(cli.json("audit", "--limit", "2", "--before", "3")) == [2, 1]


def test_audit_table(cli: Cli) -> None:
    cli.ok("users", "add", "Alice")
    cli.ok("wallet", "adjust", "1", "7", "--reason", "bonus", "--key", "b")
    rows = [line.rstrip() for line in table_text(cli.ok("audit")).splitlines()]
    assert rows[1].split() == [
        "ID",
        "Time",
        "(UTC)",
        "Actor",
        "Action",
        "Target",
        "Reason",
        "Details",
    ]
    assert rows[3].split() == [
        "2", "YYYY-MM-DD", "hh:mm:ss", "cli", "wallet.adjust", "user:1", "bonus",
        "amount=7", "currency=COIN", "transfer=adjust:user:1:b",
    ]  # fmt: skip
    assert rows[4].split() == [
        "1",
        "YYYY-MM-DD",
        "hh:mm:ss",
        "cli",
        "user.create",
        "user:1",
        "role=player",
    ]
    assert rows[-1].strip() == "2 entries"
