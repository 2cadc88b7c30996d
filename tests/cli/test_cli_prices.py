"""``wagerkit prices``: set (staff, audited), show, history, record; one-line errors."""

from __future__ import annotations

from datetime import UTC, datetime

from cli_harness import Cli, table_text

RANDOM = {"WAGERKIT_PRICE_FEED": "random", "WAGERKIT_PRICE_SYMBOLS": "DEMO-USD,BTC-USD"}


def test_set_show_and_history(cli: Cli) -> None:
    doc = cli.json("prices", "set", "BTC-USD", "97000.120", "--reason", "feed down")
    assert doc["symbol"] == "BTC-USD"
    assert doc["price"] == "97000.12"
    assert doc["source"] == "operator"
    assert datetime.fromisoformat(doc["observed_at"]).tzinfo is not None
    assert cli.json("prices", "show", "BTC-USD") == doc
    assert cli.json("prices", "history", "BTC-USD") == {"symbol": "BTC-USD", "ticks": [doc]}
    line = cli.ok("prices", "set", "BTC-USD", "0.000000012345678901")
    assert line.startswith("BTC-USD 0.000000012345678901 at ")
    ticks = cli.json("prices", "history", "BTC-USD", "--limit", "1")["ticks"]
    assert [t["price"] for t in ticks] == ["0.000000012345678901"]
    [entry, *_] = cli.json("audit", "--action", "price.set")["entries"]
    assert (entry["target"], entry["details"]) == (
        "price:BTC-USD",
        {"price": "0.000000012345678901"},
    )
    table = table_text(cli.ok("prices", "history", "BTC-USD"))
    assert "0.000000012345678901" in table
    assert "97000.12" in table
    assert "2 tick(s)" in table


def test_show_every_configured_symbol(cli: Cli) -> None:
    env = {"WAGERKIT_PRICE_SYMBOLS": "DEMO-USD,ETH-USD"}
    cli.ok("prices", "set", "DEMO-USD", "101.5", env=env)
    doc = cli.json("prices", "show", env=env)
    demo, eth = doc["prices"]
    assert (demo["symbol"], demo["price"], demo["source"], demo["fresh"]) == (
        "DEMO-USD", "101.5", "operator", True,
    )  # fmt: skip
    assert eth == {
        "symbol": "ETH-USD",
        "price": None,
        "observed_at": None,
        "source": None,
        "fresh": False,
    }
    table = cli.ok("prices", "show", env=env)
    assert "ETH-USD" in table
    assert "101.5" in table


def test_record_a_sampling_pass(cli: Cli) -> None:
    assert cli.json("prices", "record") == {"recorded": [], "missing": ["DEMO-USD"]}  # manual
    doc = cli.json("prices", "record", env=RANDOM)
    assert doc["missing"] == []
    assert set(doc["recorded"]) <= {"DEMO-USD", "BTC-USD"}  # none new within the same second
    assert len(cli.json("prices", "history", "DEMO-USD")["ticks"]) == 1
    assert cli.ok("prices", "record", env=RANDOM).startswith("recorded: ")


def test_jobs_tick_records_prices(cli: Cli) -> None:
    assert cli.ok("jobs", "tick", env=RANDOM) == "nothing due\n"  # sampling is routine
    prices = {p["symbol"]: p for p in cli.json("prices", "show", env=RANDOM)["prices"]}
    assert prices["DEMO-USD"]["source"] == "random"
    assert prices["BTC-USD"]["fresh"] is True
    observed = datetime.fromisoformat(prices["BTC-USD"]["observed_at"])
    assert abs((datetime.now(UTC) - observed).total_seconds()) < 60


def test_errors_are_one_line_exit_2(cli: Cli) -> None:
    cli.ok("users", "add", "Pat")
    assert cli.fail("prices", "set", "BTC-USD", "1", "--as", "1").startswith("error: forbidden:")
    for args, code in (
        (("prices", "set", "btc", "1"), "invalid_input"),
        (("prices", "set", "BTC", "1e5"), "invalid_input"),
        (("prices", "set", "BTC", "--", "-1"), "invalid_input"),
        (("prices", "set", "BTC", "-1"), "usage"),
        (("prices", "set", "BTC", "0"), "invalid_input"),
        (("prices", "show", "NOPE"), "price_not_found"),
        (("prices", "show", "no pe"), "invalid_input"),
        (("prices", "history", "BTC", "--since", "yesterday"), "invalid_input"),
        (("prices", "history", "BTC", "--since", "2026-01-01T00:00:00"), "invalid_input"),
    ):
        assert cli.fail(*args).startswith(f"error: {code}:"), args
    bad_feed = {"WAGERKIT_PRICE_FEED": "csv:/nonexistent/prices.csv"}
    assert cli.fail("prices", "record", env=bad_feed).startswith("error: invalid_input:")
    assert cli.json("prices", "history", "BTC") == {"symbol": "BTC", "ticks": []}


def test_the_demo_adds_a_random_walk_symbol_with_recent_ticks(cli: Cli) -> None:
    cli.ok("demo")
    ticks = cli.json("prices", "history", "DEMO-USD", "--limit", "1000")["ticks"]
    assert 301 <= len(ticks) <= 302  # five minutes a second (a second run may add one)
    assert {t["source"] for t in ticks} == {"random"}
    newest = datetime.fromisoformat(ticks[0]["observed_at"])
    assert abs((datetime.now(UTC) - newest).total_seconds()) < 30
    cli.ok("demo")  # again: the same series, nothing twice
    again = cli.json("prices", "history", "DEMO-USD", "--limit", "1000")["ticks"]
    assert {(t["observed_at"], t["price"]) for t in ticks} <= {
        (t["observed_at"], t["price"]) for t in again
    }
    assert len(again) - len(ticks) < 30
