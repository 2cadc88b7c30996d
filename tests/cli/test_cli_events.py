"""``wagerkit events``, ``wagerkit bets`` and ``wagerkit chat``.

Bets and chat messages are players' actions (HTTP / Socket.IO), so the tests place them
through the library against the same database file, then drive the operator side by CLI.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

import pytest
from cli_harness import Cli, table_text

from wagerkit import Actor, WagerKit
from wagerkit.adapters.sql import SqlStore
from wagerkit.testing import FixedClock

T = TypeVar("T")

START = "2099-06-01T20:00:00+02:00"  # far in the future: open events stay open
START_UTC = "2099-06-01T18:00:00+00:00"
FINAL = ("events", "create", "Final", "-o", "A", "-o", "B", "--start", START)


def lines(text: str) -> list[str]:
    """Output lines, with times that depend on the clock replaced by a placeholder."""
    return [line.rstrip() for line in table_text(text).splitlines()]


def plain(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines()]


def library(url: str, work: Callable[[WagerKit], Awaitable[T]], at: datetime | None = None) -> T:
    """Run ``work`` with the library on the CLI's database (at a fixed time if given)."""

    async def main() -> T:
        store = SqlStore.from_url(url)
        try:
            return await work(WagerKit(store, clock=FixedClock(at) if at else None))
        finally:
            await store.dispose()

    return asyncio.run(main())


def bet(cli: Cli, user_id: int, event_id: int, outcome_id: int, amount: int) -> Any:
    """A player's bet, placed as players do (through the use case, as that user)."""

    async def work(kit: WagerKit) -> Any:
        user = await kit.users.get(Actor.system(), user_id)
        return await kit.events.place_bet(Actor.of(user), event_id, outcome_id, amount)

    return library(cli.url, work)


def post(cli: Cli, user_id: int, event_id: int, text: str) -> Any:
    async def work(kit: WagerKit) -> Any:
        user = await kit.users.get(Actor.system(), user_id)
        return await kit.chat.post(Actor.of(user), event_id, text)

    return library(cli.url, work)


def balances(cli: Cli, *user_ids: int) -> list[int]:
    return [
        cli.json("wallet", "show", str(u), "-c", "COIN")["wallets"][0]["balance"] for u in user_ids
    ]


@pytest.fixture
def players(cli: Cli) -> Cli:
    """Alice, Bob and Carol (users 1-3, 1000 COIN each) and Oscar (4, operator)."""
    for name in ("Alice", "Bob", "Carol"):
        cli.ok("users", "add", name)
    cli.ok("users", "add", "Oscar", "--role", "operator")
    return cli


@pytest.fixture
def seeded(players: Cli) -> Cli:
    """Event 1 'Final' (open, outcomes 1 A and 2 B) with the seed's bets: Alice 100 and Bob
    300 on A, Carol 200 on B."""
    players.ok(*FINAL, "--open")
    bet(players, 1, 1, 1, 100)
    bet(players, 2, 1, 1, 300)
    bet(players, 3, 1, 2, 200)
    return players


# -- help and lazy imports ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("group", "commands"),
    [
        ("events", ("create", "list", "show", "open", "lock", "settle", "void")),
        ("bets", ("list",)),
        ("chat", ("mute", "unmute", "delete", "history")),
        ("jobs", ("tick", "run")),
    ],
)
def test_group_help_lists_its_commands(cli: Cli, group: str, commands: tuple[str, ...]) -> None:
    out = cli.ok(group, "--help", db=False)
    for command in commands:
        assert command in out
    assert group in cli.ok("--help", db=False)
    res = cli.invoke(group, db=False)  # a bare group prints its help
    assert res.exit_code == 2
    assert f"Usage: wagerkit {group}" in res.stdout


def test_help_of_the_new_commands_loads_nothing_heavy() -> None:
    heavy = ("sqlalchemy", "alembic", "pydantic_settings", "wagerkit", "wagerkit_http")
    for argv in (["events", "settle", "--help"], ["chat", "mute", "-h"], ["jobs", "run", "-h"]):
        code = f"""
import contextlib, io, sys
sys.argv = ["wagerkit", *{argv!r}]
from wagerkit_cli.main import run
with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
    run()
print(sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy!r})))
"""
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        assert out.stdout.strip().splitlines()[-1] == "[]", (argv, out.stdout)


# -- create, show, list -------------------------------------------------------------------
def test_create_prints_one_line_and_show_a_table(players: Cli) -> None:
    assert players.ok(
        "events",
        "create",
        "Grand final",
        "--outcome",
        "Red",
        "--outcome",
        "Blue",
        "-o",
        "Draw",
        "--start",
        START,
        "--lock-at",
        "2099-06-01T17:30:00Z",
        "--deadline",
        "2099-06-03T00:00:00+00:00",
        "--description",
        "Best of five.",
        "--stream-type",
        "twitch",
        "--stream-url",
        "https://twitch.tv/example",
        "--min-stake",
        "10",
        "--max-stake",
        "500",
        "--rake-bps",
        "250",
        "--allow-topup",
    ) == (
        "created event 1: Grand final (scheduled); outcomes 1 Red, 2 Blue, 3 Draw; "
        "betting closes 2099-06-01 17:30:00 UTC\n"
    )
    assert plain(players.ok("events", "show", "1")) == [
        "Event 1: Grand final (scheduled)",
        "  Best of five.",
        "  stream: twitch https://twitch.tv/example",
        "  start 2099-06-01 18:00:00 UTC; betting closes 2099-06-01 17:30:00 UTC; "
        "settle by 2099-06-03 00:00:00 UTC",
        "  stakes 10-500 COIN; rake 250 bps; top-ups allowed",
        "",
        "  ID   Outcome   Bettors   Total   Multiplier",
        " " + "─" * 48,
        "   1   Red             0       0",
        "   2   Blue            0       0",
        "   3   Draw            0       0",
        "",
        "              pool 0 COIN, 0 bet(s)",
    ]


def test_show_json_has_the_pool_per_outcome(seeded: Cli) -> None:
    doc = seeded.json("events", "show", "1")
    for key in ("updated_at", "locked_at", "resolved_at"):
        assert key in doc
        doc.pop(key)
    assert doc == {
        "id": 1,
        "title": "Final",
        "description": "",
        "status": "open",
        "stream_type": "custom",
        "stream_url": "",
        "currency": "COIN",
        "min_stake": 1,
        "min_stake_formatted": "1",
        "max_stake": 2**63 - 1,
        "max_stake_formatted": str(2**63 - 1),
        "rake_bps": 0,
        "allow_topup": False,
        "start_time": START_UTC,
        "betting_locked_at": START_UTC,
        "closes_at": START_UTC,
        "settle_deadline": "2099-06-02T18:00:00+00:00",
        "outcomes": [
            {
                "id": 1,
                "name": "A",
                "position": 0,
                "bettors": 2,
                "total": 400,
                "total_formatted": "400",
                "multiplier": "1.5000",
            },
            {
                "id": 2,
                "name": "B",
                "position": 1,
                "bettors": 1,
                "total": 200,
                "total_formatted": "200",
                "multiplier": "3.0000",
            },
        ],
        "pool": 600,
        "pool_formatted": "600",
        "bettors": 3,
        "bet_count": 3,
        "winning_outcome_id": None,
        "winner": None,
        "escrow_account_id": 6,
        "created_by": None,
        "created_at": "<ts>",
    }
    assert plain(seeded.ok("events", "show", "1"))[3:9] == [
        "",
        "  ID   Outcome   Bettors   Total   Multiplier",
        " " + "─" * 48,
        "   1   A               2     400       1.5000",
        "   2   B               1     200       3.0000",
        "",
    ]


def test_list_filters_by_status(seeded: Cli) -> None:
    seeded.ok("events", "create", "Semi", "-o", "X", "-o", "Y", "--start", START)
    assert plain(seeded.ok("events", "list")) == [
        "",
        "  ID   Title   Status          Pool   Bets   Closes (UTC)          Winner",
        " " + "─" * 73,
        "   2   Semi    scheduled     0 COIN      0   2099-06-01 18:00:00",
        "   1   Final   open        600 COIN      3   2099-06-01 18:00:00",
        "",
        "                                2 event(s)",
    ]
    assert [e["id"] for e in seeded.json("events", "list", "--status", "open")["events"]] == [1]
    page = seeded.json(
        "events", "list", "--status", "open", "--status", "scheduled", "--limit", "1"
    )
    assert ([e["id"] for e in page["events"]], page["next_before"]) == ([2], 2)
    assert [e["id"] for e in seeded.json("events", "list", "--before", "2")["events"]] == [1]
    assert seeded.fail("events", "list", "--status", "finished").startswith(
        "error: usage: Invalid value for '--status'"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--start", "2099-06-01T18:00:00"),
            "error: invalid_input: --start: give a time zone, e.g. 2099-06-01T18:00:00+00:00 or ...Z",
        ),
        (
            ("--start", "tomorrow"),
            "error: invalid_input: --start: not an ISO 8601 time: 'tomorrow' "
            "(e.g. 2030-05-01T18:00:00+00:00)",
        ),
        (
            ("--start", START, "--deadline", "2099-06-01T10:00:00Z"),
            "error: invalid_input: settle_deadline must be after betting closes",
        ),
        (("--start", START, "--rake-bps", "1001"), "error: invalid_input: rake_bps must be 0-1000"),
        (
            ("--start", START, "--min-stake", "1.5"),
            "error: invalid_amount: '1.5' has more than 0 decimal place(s) for COIN",
        ),
        (
            ("--start", START, "--min-stake", "50", "--max-stake", "10"),
            "error: invalid_amount: min_stake must not exceed max_stake",
        ),
        (
            ("--start", START, "--stream-url", "ftp://x"),
            "error: invalid_input: stream_url must be an http(s) URL",
        ),
        (
            ("--start", "2020-01-01T00:00:00Z", "--open"),
            "error: invalid_input: an open event must close for bets in the future",
        ),
        (
            ("--start", START, "-c", "XYZ"),
            "error: unknown_currency: unknown currency 'XYZ'; configured: COIN, RUB, COP, USDT",
        ),
        (
            ("--start", START, "--stream-type", "vimeo"),
            "error: usage: Invalid value for '--stream-type': Value error, 'vimeo' is not one "
            "of 'youtube', 'twitch', 'custom'. (see 'wagerkit events create --help')",
        ),
        (("--start", START, "--as", "1"), "error: forbidden: operators and admins only"),
        (("--start", START, "--as", "99"), "error: user_not_found: no user 99"),
    ],
)
def test_create_refuses_bad_input(players: Cli, args: tuple[str, ...], message: str) -> None:
    assert players.fail("events", "create", "Final", "-o", "A", "-o", "B", *args) == message
    assert players.json("events", "list")["events"] == []


def test_create_checks_the_outcomes(players: Cli) -> None:
    start = ("--start", START)
    assert players.fail("events", "create", "T", "-o", "A", *start) == (
        "error: invalid_input: an event has 2-10 outcomes"
    )
    eleven = [arg for i in range(11) for arg in ("-o", f"O{i}")]
    assert players.fail("events", "create", "T", *eleven, *start) == (
        "error: invalid_input: an event has 2-10 outcomes"
    )
    assert players.fail("events", "create", "T", "-o", "A", "-o", " a ", *start) == (
        "error: invalid_input: outcome names must be distinct"
    )
    assert players.fail("events", "create", "T", *start) == (
        "error: usage: Missing option '--outcome' / '-o'. (see 'wagerkit events create --help')"
    )
    ten = [arg for i in range(10) for arg in ("-o", f"O{i}")]
    assert players.json("events", "create", "T", *ten, *start, "--as", "4")["created_by"] == 4


def test_create_in_another_currency_and_an_operator_acting(players: Cli) -> None:
    doc = players.json(
        "events", "create", "T", "-o", "A", "-o", "B", "--start", START,
        "-c", "rub", "--min-stake", "0.50", "--open", "--as", "4",
    )  # fmt: skip
    assert (doc["currency"], doc["min_stake"], doc["min_stake_formatted"], doc["status"]) == (
        "RUB",
        50,
        "0.50",
        "open",
    )
    [entry] = players.json("audit", "--action", "event.create")["entries"]
    assert (entry["actor_id"], entry["actor_name"], entry["target"]) == (4, "Oscar", "event:1")


def test_show_unknown_event(cli: Cli) -> None:
    assert cli.fail("events", "show", "99") == "error: event_not_found: no event 99"
    assert cli.fail("events", "show", "x").startswith("error: usage: Invalid value for 'event_id'")


# -- open and lock ------------------------------------------------------------------------
def test_open_and_lock(players: Cli) -> None:
    players.ok(*FINAL)
    assert players.ok("events", "open", "1") == "event 1 (Final) is open\n"
    assert players.fail("events", "open", "1") == (
        "error: event_state_conflict: cannot open event 1: it is open"
    )
    bet(players, 1, 1, 2, 10)
    assert players.json("events", "lock", "1", "--as", "4")["status"] == "locked"
    with pytest.raises(Exception, match="event 1 is locked, not open for bets"):
        bet(players, 2, 1, 2, 10)
    assert players.fail("events", "lock", "1") == (
        "error: event_state_conflict: cannot lock event 1: it is locked"
    )
    assert players.fail("events", "open", "1", "--as", "2") == (
        "error: forbidden: operators and admins only"
    )
    actions = [e["action"] for e in players.json("audit", "--target", "event:1")["entries"]]
    assert actions == ["event.lock", "event.open", "event.create"]
    assert balances(players, 1, 2) == [990, 1000]


# -- settle -------------------------------------------------------------------------------
def test_settle_the_seed_example_by_name(seeded: Cli) -> None:
    assert seeded.ok("events", "settle", "1", "--outcome", "a", "--reason", "A won 3-1") == (
        "settled event 1 (Final): A won; 2 winning bet(s) paid 600 COIN, rake 0 COIN\n"
    )
    assert balances(seeded, 1, 2, 3) == [1050, 1150, 800]
    bets = seeded.json("bets", "list", "--event", "1")["bets"]
    assert [(b["user_id"], b["outcome"], b["amount"], b["status"], b["payout"]) for b in bets] == [
        (3, "B", 200, "lost", 0),
        (2, "A", 300, "won", 450),
        (1, "A", 100, "won", 150),
    ]
    # exactly once: a second settle (same or other outcome) is refused and moves nothing
    for outcome in ("A", "2"):
        assert seeded.fail("events", "settle", "1", "--outcome", outcome) == (
            "error: event_already_resolved: event 1 is already settled"
        )
    assert seeded.fail("events", "void", "1") == (
        "error: event_already_resolved: event 1 is already settled"
    )
    assert balances(seeded, 1, 2, 3) == [1050, 1150, 800]
    [entry] = seeded.json("audit", "--action", "event.settle")["entries"]
    assert (entry["target"], entry["reason"], entry["details"]) == (
        "event:1",
        "A won 3-1",
        {"title": "Final", "outcome": "1", "winner": "A"},
    )
    assert plain(seeded.ok("events", "show", "1"))[0] == "Event 1: Final (settled)"
    assert plain(seeded.ok("events", "show", "1"))[6:8] == [
        "   1   A               2     400       1.5000   winner",
        "   2   B               1     200       3.0000",
    ]


def test_settle_by_id_with_rake_as_json(players: Cli) -> None:
    players.ok(*FINAL, "--open", "--rake-bps", "1000")
    bet(players, 1, 1, 1, 100)
    bet(players, 2, 1, 1, 300)
    bet(players, 3, 1, 2, 200)
    doc = players.json("events", "settle", "1", "-o", "1", "--as", "4")
    assert doc["settlement"] == {
        "winning_outcome_id": 1,
        "winner": "A",
        "refund": False,
        "winning_bets": 2,
        "paid": 580,
        "paid_formatted": "580",
        "rake": 20,
        "rake_formatted": "20",
    }
    assert (doc["event"]["status"], doc["event"]["winner"]) == ("settled", "A")
    # L = 200, rake 20, 180 shared 1:3 -> 145 and 435
    assert balances(players, 1, 2, 3) == [1045, 1135, 800]
    assert escrow_and_rake(players, doc["event"]["escrow_account_id"], 1) == (0, 20)


def escrow_and_rake(cli: Cli, escrow_account_id: int, event_id: int) -> tuple[int, int | None]:
    """The escrow's balance (0 once resolved) and the rake transfer's amount, if any."""

    async def work(kit: WagerKit) -> tuple[int, int | None]:
        async with kit.deps.uow() as uow:
            escrow = await uow.ledger.get_account(escrow_account_id)
            rake = await uow.ledger.get_transfer(f"rake:{event_id}")
        assert escrow is not None
        return escrow.balance, None if rake is None else rake.amount

    return library(cli.url, work)


def test_settle_on_an_outcome_nobody_backed_refunds_everyone(seeded: Cli) -> None:
    seeded.ok("events", "create", "Other", "-o", "X", "-o", "Y", "--start", START)
    assert seeded.fail("events", "settle", "1", "--outcome", "3") == (
        "error: unknown_outcome: event 1 has no outcome '3' (outcomes: 1 A, 2 B)"
    )
    seeded.ok("events", "lock", "1")
    # a three-way event where the winner had no bets
    seeded.ok(
        "events", "create", "Three", "-o", "P", "-o", "Q", "-o", "R", "--start", START, "--open"
    )
    bet(seeded, 1, 3, 5, 70)
    bet(seeded, 2, 3, 6, 30)
    assert seeded.ok("events", "settle", "3", "--outcome", "R") == (
        "settled event 3 (Three): R won but nobody bet on it; 2 stake(s) refunded, 100 COIN\n"
    )
    assert balances(seeded, 1, 2) == [900, 700]  # only the Final stakes are still out


def test_settle_refusals(seeded: Cli) -> None:
    assert seeded.fail("events", "settle", "99", "-o", "A") == "error: event_not_found: no event 99"
    assert seeded.fail("events", "settle", "1", "-o", "A", "--as", "1") == (
        "error: forbidden: operators and admins only"
    )
    assert seeded.fail("events", "settle", "1") == (
        "error: usage: Missing option '--outcome' / '-o'. (see 'wagerkit events settle --help')"
    )
    assert balances(seeded, 1, 2, 3) == [900, 700, 800]
    assert seeded.json("events", "show", "1")["status"] == "open"


def test_settle_shows_a_progress_bar_only_on_a_terminal(seeded: Cli) -> None:
    tty: dict[str, str | None] = {"TTY_COMPATIBLE": "1"}
    res = seeded.invoke("events", "settle", "1", "-o", "A", "--json", env=tty)
    assert res.exit_code == 0
    assert res.stderr == ""  # --json: no bar
    seeded.ok("events", "create", "Two", "-o", "A", "-o", "B", "--start", START, "--open")
    bet(seeded, 1, 2, 3, 5)
    res = seeded.invoke("events", "void", "2", env=tty)
    assert res.exit_code == 0, res.stderr
    assert "Voiding event 2" in res.stderr
    assert "1/1 bets" in res.stderr
    assert res.stdout == "voided event 2 (Two): 1 stake(s) refunded, 5 COIN\n"
    res = seeded.invoke("events", "void", "2")  # not a terminal: no bar, one error line
    assert (res.exit_code, res.stderr) == (
        2,
        "error: event_already_resolved: event 2 is already voided\n",
    )


# -- void ---------------------------------------------------------------------------------
def test_void_refunds_every_stake(seeded: Cli) -> None:
    assert seeded.ok("events", "void", "1", "--reason", "stream cancelled") == (
        "voided event 1 (Final): 3 stake(s) refunded, 600 COIN\n"
    )
    assert balances(seeded, 1, 2, 3) == [1000, 1000, 1000]
    statuses = [(b["status"], b["payout"]) for b in seeded.json("bets", "list")["bets"]]
    assert statuses == [("refunded", 200), ("refunded", 300), ("refunded", 100)]
    [entry] = seeded.json("audit", "--action", "event.void")["entries"]
    assert entry["reason"] == "stream cancelled"
    assert seeded.fail("events", "void", "1") == (
        "error: event_already_resolved: event 1 is already voided"
    )
    assert seeded.fail("events", "settle", "1", "-o", "A") == (
        "error: event_already_resolved: event 1 is already voided"
    )
    statement = seeded.json("wallet", "statement", "3")["entries"]
    assert [(e["code"], e["amount"]) for e in statement[:2]] == [("refund", 200), ("stake", -200)]


def test_void_as_json(players: Cli) -> None:
    players.ok(*FINAL)
    doc = players.json("events", "void", "1")
    assert (doc["event"]["status"], doc["refunded"], doc["refunded_formatted"]) == (
        "voided",
        0,
        "0",
    )


# -- bets ---------------------------------------------------------------------------------
def test_bets_list_table_and_filters(seeded: Cli) -> None:
    assert lines(seeded.ok("bets", "list")) == [
        "",
        "  ID   Event   Outcome   User      Stake   Status   Payout   Placed (UTC)",
        " " + "─" * 80,
        "   3       1   B            3   200 COIN   open              YYYY-MM-DD hh:mm:ss",
        "   2       1   A            2   300 COIN   open              YYYY-MM-DD hh:mm:ss",
        "   1       1   A            1   100 COIN   open              YYYY-MM-DD hh:mm:ss",
        "",
        "                                     3 bet(s)",
    ]
    assert [b["id"] for b in seeded.json("bets", "list", "--user", "2")["bets"]] == [2]
    page = seeded.json("bets", "list", "--limit", "2")
    assert ([b["id"] for b in page["bets"]], page["next_before"]) == ([3, 2], 2)
    assert [b["id"] for b in seeded.json("bets", "list", "--before", "2")["bets"]] == [1]
    # a player sees only their own bets, and nobody else's
    assert [b["user_id"] for b in seeded.json("bets", "list", "--as", "3")["bets"]] == [3]
    assert seeded.fail("bets", "list", "--user", "1", "--as", "3") == (
        "error: forbidden: you may act only for yourself"
    )
    assert seeded.fail("bets", "list", "--event", "7") == "error: event_not_found: no event 7"
    [b] = seeded.json("bets", "list", "--user", "1")["bets"]
    b.pop("placed_at")
    b.pop("updated_at")
    assert b == {
        "id": 1,
        "event_id": 1,
        "outcome_id": 1,
        "outcome": "A",
        "user_id": 1,
        "currency": "COIN",
        "amount": 100,
        "amount_formatted": "100",
        "status": "open",
        "payout": None,
        "payout_formatted": None,
        "placements": 1,
        "wallet_account_id": 1,
    }


# -- chat ---------------------------------------------------------------------------------
def test_chat_history_delete_mute_unmute(seeded: Cli) -> None:
    post(seeded, 1, 1, "  go A!  ")
    post(seeded, 2, 1, "B all the way")
    post(seeded, 3, 1, "spam spam")
    assert lines(seeded.ok("chat", "history", "1")) == [
        "Chat of event 1",
        "",
        "  ID   Time (UTC)            User   Author   Text",
        " " + "─" * 58,
        "   3   YYYY-MM-DD hh:mm:ss      3   Carol    spam spam",
        "   2   YYYY-MM-DD hh:mm:ss      2   Bob      B all the way",
        "   1   YYYY-MM-DD hh:mm:ss      1   Alice    go A!",
        "",
        "                        3 message(s)",
    ]
    assert seeded.ok("chat", "delete", "3", "--reason", "spam", "--as", "4") == (
        "deleted chat message 3 (event 1, by user 3)\n"
    )
    history = seeded.json("chat", "history", "1")
    assert [m["id"] for m in history["messages"]] == [2, 1]
    assert history["messages"][1] == {
        "id": 1,
        "event_id": 1,
        "user_id": 1,
        "author": "Alice",
        "text": "go A!",
        "created_at": "<ts>",
        "deleted": False,
    }
    assert seeded.ok("chat", "mute", "3", "--minutes", "30", "--reason", "spam").startswith(
        "user 3 is muted in chat until "
    )
    with pytest.raises(Exception, match="you are muted in chat until"):
        post(seeded, 3, 1, "let me talk")
    assert seeded.json("chat", "mute", "3", "--reason", "again") == {
        "user_id": 3,
        "muted": True,
        "until": None,
        "reason": "again",
        "created_at": "<ts>",
        "created_by": None,
    }
    assert seeded.ok("chat", "unmute", "3") == "user 3 may post in chat again\n"
    post(seeded, 3, 1, "sorry")
    assert [m["text"] for m in seeded.json("chat", "history", "1", "--limit", "1")["messages"]] == [
        "sorry"
    ]
    actions = [e["action"] for e in seeded.json("audit", "--target", "user:3")["entries"]]
    assert actions == ["chat.unmute", "chat.mute", "chat.mute", "user.create"]
    [deleted] = seeded.json("audit", "--action", "chat.delete")["entries"]
    assert (deleted["actor_id"], deleted["target"], deleted["reason"]) == (4, "chat:3", "spam")


def test_chat_refusals(seeded: Cli) -> None:
    assert seeded.fail("chat", "delete", "9") == "error: message_not_found: no chat message 9"
    assert seeded.fail("chat", "mute", "99") == "error: user_not_found: no user 99"
    assert seeded.fail("chat", "mute", "2", "--as", "1") == (
        "error: forbidden: operators and admins only"
    )
    assert seeded.fail("chat", "mute", "2", "--minutes", "0").startswith(
        "error: usage: Invalid value for '--minutes'"
    )
    assert seeded.fail("chat", "mute", "2", "--minutes", "999999999") == (
        "error: invalid_input: minutes must be 1-525600"
    )
    assert seeded.fail("chat", "history", "5") == "error: event_not_found: no event 5"


# -- PostgreSQL -----------------------------------------------------------------------------
@pytest.mark.postgres
def test_postgres_settle_void_and_bets(pg_cli: Cli) -> None:
    cli = pg_cli
    assert cli.fail("events", "list").startswith("error: schema_missing: ")
    cli.ok("db", "upgrade")
    for name in ("Alice", "Bob", "Carol"):
        cli.ok("users", "add", name)
    cli.ok(*FINAL, "--open")
    bet(cli, 1, 1, 1, 100)
    bet(cli, 2, 1, 1, 300)
    bet(cli, 3, 1, 2, 200)
    assert cli.json("events", "show", "1")["pool"] == 600
    assert cli.ok("events", "settle", "1", "--outcome", "A") == (
        "settled event 1 (Final): A won; 2 winning bet(s) paid 600 COIN, rake 0 COIN\n"
    )
    assert cli.fail("events", "settle", "1", "--outcome", "B") == (
        "error: event_already_resolved: event 1 is already settled"
    )
    assert balances(cli, 1, 2, 3) == [1050, 1150, 800]
    payouts = [(b["user_id"], b["payout"]) for b in cli.json("bets", "list")["bets"]]
    assert payouts == [(3, 0), (2, 450), (1, 150)]

    cli.ok("events", "create", "Rematch", "-o", "A", "-o", "B", "--start", START, "--open")
    bet(cli, 3, 2, 4, 800)
    assert cli.ok("events", "void", "2", "--reason", "no stream") == (
        "voided event 2 (Rematch): 1 stake(s) refunded, 800 COIN\n"
    )
    assert balances(cli, 3) == [800]
    assert cli.ok("jobs", "tick") == "nothing due\n"
    cli.assert_conserved()
