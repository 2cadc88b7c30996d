"""``wagerkit demo``."""

from __future__ import annotations

from cli_harness import Cli, table_text


def test_demo_twice_leaves_the_same_balances(cli: Cli) -> None:
    first = cli.json("demo")
    summary = [
        (u["username"], u["role"], u["wallet"]["balance"], u["created"]) for u in first["users"]
    ]
    # 1000 welcome + 500 demo grant; alice -150 +20, bob +150 -75, carol +75 -20 -10;
    # bets: alice -100 -30 +43, bob -200 -60 +87, carol -50 -40 (second event: Blue won);
    # predictions: contracts of 10, 11, 12 and a round bet of 5 each (open);
    # raffles: alice -15 -20, bob -10 -20 +48 (the lightning raffle's prize), carol -10;
    # order fees: bob -2, carol -4
    assert summary == [
        ("demo-alice", "player", 1233, True),
        ("demo-bob", "player", 1402, True),
        ("demo-carol", "player", 1424, True),
        ("demo-oscar", "operator", 1000, True),
    ]
    assert first["currency"] == "COIN"
    events = [
        (e["id"], e["title"], e["status"], e["pool"], e["bet_count"], e["winner"], e["created"])
        for e in first["events"]
    ]
    assert events == [
        (1, "Demo: Red vs Blue, grand final", "open", 350, 3, None, True),
        (2, "Demo: who takes the first map?", "settled", 130, 3, "Blue", True),
    ]
    second = cli.json("demo")
    assert [
        (u["username"], u["role"], u["wallet"]["balance"], u["created"]) for u in second["users"]
    ] == [(name, role, balance, False) for name, role, balance, _ in summary]
    assert [u["id"] for u in second["users"]] == [u["id"] for u in first["users"]]
    assert [(*e[:-1], False) for e in events] == [
        (e["id"], e["title"], e["status"], e["pool"], e["bet_count"], e["winner"], e["created"])
        for e in second["events"]
    ]
    assert len(cli.json("users", "list")["users"]) == 4
    assert len(cli.json("events", "list")["events"]) == 2
    assert len(cli.json("bets", "list")["bets"]) == 6
    carol = [
        (e["transfer_id"], e["amount"]) for e in cli.json("wallet", "statement", "3")["entries"]
    ]
    # the demo orders (docs/orders.md): carol took two, paying the fee of 2 COIN each
    assert [(t.split(":")[:2], a) for t, a in carol[:2]] == [(["orders", "fee"], -2)] * 2
    assert carol[2:] == [
        ("raffles:buy:2:3:demo-raffle-5", -10),
        ("predictions:rbet:3:demo-round-2", -5),
        ("predictions:stake:3:demo-contract-2", -12),
        ("stake:3:demo-bet-6", -40),
        ("stake:3:demo-bet-3", -50),
        ("adjust:user:3:demo-adjust", -10),
        ("transfer:user:3:demo-3", -20),
        ("transfer:user:2:demo-2", 75),
        ("grant:user:3:demo-grant", 500),
        ("welcome:3:COIN", 1000),
    ]
    # the open event takes bets: its pool and multipliers are live
    show = cli.json("events", "show", "1")
    assert [(o["name"], o["bettors"], o["total"], o["multiplier"]) for o in show["outcomes"]] == [
        ("Red", 2, 150, "2.2666"),  # (350 - 5% of 200) / 150
        ("Blue", 1, 200, "1.7150"),  # (350 - 5% of 150) / 200
    ]
    cli.assert_conserved()


def test_demo_adds_to_existing_data_and_prints_a_table(cli: Cli) -> None:
    cli.ok("users", "add", "Someone Else")
    rows = [line.rstrip() for line in table_text(cli.ok("demo")).splitlines()]
    assert rows[0] == "Demo users (balances in COIN)"
    assert [r.split() for r in rows[4:8]] == [
        # other user ids, another raffle listing: alice wins the lightning raffle here
        ["2", "Alice", "Demo", "demo-alice", "player", "1281", "new"],
        ["3", "Bob", "Demo", "demo-bob", "player", "1354", "new"],
        ["4", "Carol", "Demo", "demo-carol", "player", "1424", "new"],
        ["5", "Oscar", "Demo", "demo-oscar", "operator", "1000", "new"],
    ]
    assert rows[9] == "Demo events"
    assert [" ".join(r.split()) for r in rows[13:15]] == [
        "1 Demo: Red vs Blue, grand final open 350 COIN 3 YYYY-MM-DD hh:mm:ss new",
        "2 Demo: who takes the first map? settled 130 COIN 3 YYYY-MM-DD hh:mm:ss Blue new",
    ]
    assert rows[-2:] == [
        "try: wagerkit users list; wagerkit wallet statement 2; wagerkit events show 1; "
        "wagerkit bets list",
        "and: wagerkit prices show; wagerkit rounds list; wagerkit predictions list --as 2; "
        "wagerkit raffles list; wagerkit orders list; wagerkit reviews list",
    ]
    assert "existing" in cli.ok("demo")
    assert cli.json("wallet", "show", "1")["wallets"][0]["balance"] == 1000
