"""``wagerkit demo``."""

from __future__ import annotations

from cli_harness import Cli, table_text


def test_demo_twice_leaves_the_same_balances(cli: Cli) -> None:
    first = cli.json("demo")
    summary = [
        (u["username"], u["role"], u["wallet"]["balance"], u["created"]) for u in first["users"]
    ]
    # 1000 welcome + 500 demo grant; alice -150 +20, bob +150 -75, carol +75 -20 -10
    assert summary == [
        ("demo-alice", "player", 1370, True),
        ("demo-bob", "player", 1575, True),
        ("demo-carol", "player", 1545, True),
        ("demo-oscar", "operator", 1000, True),
    ]
    assert first["currency"] == "COIN"
    second = cli.json("demo")
    assert [
        (u["username"], u["role"], u["wallet"]["balance"], u["created"]) for u in second["users"]
    ] == [(name, role, balance, False) for name, role, balance, _ in summary]
    assert [u["id"] for u in second["users"]] == [u["id"] for u in first["users"]]
    assert len(cli.json("users", "list")["users"]) == 4
    carol = [
        (e["transfer_id"], e["amount"]) for e in cli.json("wallet", "statement", "3")["entries"]
    ]
    assert carol == [
        ("adjust:user:3:demo-adjust", -10),
        ("transfer:user:3:demo-3", -20),
        ("transfer:user:2:demo-2", 75),
        ("grant:user:3:demo-grant", 500),
        ("welcome:3:COIN", 1000),
    ]
    cli.assert_conserved()


def test_demo_adds_to_existing_data_and_prints_a_table(cli: Cli) -> None:
    cli.ok("users", "add", "Someone Else")
    rows = [line.rstrip() for line in table_text(cli.ok("demo")).splitlines()]
    assert rows[0] == "Demo users (balances in COIN)"
    assert [r.split() for r in rows[4:8]] == [
        ["2", "Alice", "Demo", "demo-alice", "player", "1370", "new"],
        ["3", "Bob", "Demo", "demo-bob", "player", "1575", "new"],
        ["4", "Carol", "Demo", "demo-carol", "player", "1545", "new"],
        ["5", "Oscar", "Demo", "demo-oscar", "operator", "1000", "new"],
    ]
    assert rows[-1] == "try: wagerkit users list; wagerkit wallet statement 2"
    assert "existing" in cli.ok("demo")
    assert cli.json("wallet", "show", "1")["wallets"][0]["balance"] == 1000
