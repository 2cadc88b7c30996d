"""``wagerkit wallet show | adjust | transfer | statement``."""

from __future__ import annotations

import json
import re

import pytest
from cli_harness import Cli, table_text


@pytest.fixture
def two_users(cli: Cli) -> Cli:
    """Alice (user 1, COIN account 1) and Bob (user 2, COIN account 3), 1000 COIN each;
    account 2 is the COIN treasury."""
    cli.ok("users", "add", "Alice", "--username", "alice")
    cli.ok("users", "add", "Bob", "--username", "bob")
    return cli


def wallet(
    user_id: int, currency: str, balance: int, text: str, account_id: int
) -> dict[str, object]:
    zero = "0" if currency in ("COIN", "COP") else "0." + "0" * (2 if currency == "RUB" else 6)
    return {
        "user_id": user_id,
        "currency": currency,
        "balance": balance,
        "balance_formatted": text,
        "available": balance,
        "available_formatted": text,
        "held": 0,
        "held_formatted": zero,
        "frozen": False,
        "account_id": account_id,
    }


# -- show ------------------------------------------------------------------------------
def test_show_prints_a_table_per_currency(two_users: Cli) -> None:
    two_users.ok("wallet", "adjust", "1", "12.50", "--currency", "RUB", "--reason", "prize")
    out = two_users.ok("wallet", "show", "1")
    assert [line.rstrip() for line in out.splitlines()] == [
        "Wallets of Alice (user 1)",
        "",
        "  Currency   Balance   Available   Held   Frozen",
        " " + "─" * 48,
        "  COIN          1000        1000      0",
        "  RUB          12.50       12.50   0.00",
        "",
    ]


def test_show_as_json(two_users: Cli) -> None:
    two_users.ok("wallet", "adjust", "1", "12.50", "-c", "rub", "--reason", "prize")
    doc = two_users.json("wallet", "show", "1")
    assert doc["user"]["id"] == 1
    assert doc["user"]["display_name"] == "Alice"
    assert doc["wallets"] == [
        wallet(1, "COIN", 1000, "1000", 1),
        wallet(1, "RUB", 1250, "12.50", 4),
    ]
    # one currency only; a currency never used reads as zero
    assert two_users.json("wallet", "show", "2", "-c", "USDT")["wallets"] == [
        wallet(2, "USDT", 0, "0.000000", 0)
    ]


def test_show_unknown_user(cli: Cli) -> None:
    assert cli.fail("wallet", "show", "99") == "error: user_not_found: no user 99"
    assert cli.fail("wallet", "show", "abc").startswith("error: usage: Invalid value for 'user_id'")


# -- adjust ----------------------------------------------------------------------------
def test_adjust_as_json(two_users: Cli) -> None:
    assert two_users.json(
        "wallet", "adjust", "1", "12.50", "--currency", "RUB", "--reason", "prize", "--key", "k1"
    ) == {
        "transfer": {
            "id": "adjust:user:1:k1",
            "kind": "single",
            "code": "adjust",
            "currency": "RUB",
            "amount": 1250,
            "amount_formatted": "12.50",
            "debit_account_id": 5,  # the RUB treasury
            "credit_account_id": 4,  # Alice's new RUB wallet
            "pending_id": None,
            "reference": "user:1",
            "memo": "prize",
            "timestamp": "<ts>",
            "seq": 3,
        },
        "wallet": wallet(1, "RUB", 1250, "12.50", 4),
    }


def test_adjust_prints_one_line_for_people(two_users: Cli) -> None:
    assert two_users.ok("wallet", "adjust", "1", "-5", "--reason", "fee", "--key", "f") == (
        "adjusted user 1 by -5 COIN (transfer adjust:user:1:f); "
        "balance 995 COIN, available 995 COIN\n"
    )
    out = two_users.ok("wallet", "adjust", "2", "+0.5", "-c", "USDT", "--reason", "tip")
    assert re.fullmatch(
        r"adjusted user 2 by \+0\.500000 USDT \(transfer adjust-[0-9a-f]{32}\); "
        r"balance 0\.500000 USDT, available 0\.500000 USDT\n",
        out,
    )


def test_adjust_with_the_same_key_moves_money_once(two_users: Cli) -> None:
    args = ("wallet", "adjust", "1", "250", "--reason", "bonus", "--key", "bonus-1", "--json")
    first = json.loads(two_users.ok(*args))
    second = json.loads(two_users.ok(*args))
    assert second == first  # same transfer, same timestamp
    assert first["transfer"]["id"] == "adjust:user:1:bonus-1"
    assert first["wallet"]["balance"] == 1250
    entries = two_users.json("wallet", "statement", "1")["entries"]
    assert [e["transfer_id"] for e in entries] == ["adjust:user:1:bonus-1", "welcome:1:COIN"]
    assert len(two_users.json("audit", "--action", "wallet.adjust")["entries"]) == 1
    # the same key for a different amount is a conflict, not a second movement
    assert two_users.fail(
        "wallet", "adjust", "1", "300", "--reason", "bonus", "--key", "bonus-1"
    ) == (
        "error: idempotency_conflict: "
        "transfer id 'adjust:user:1:bonus-1' was used for another transfer"
    )
    assert two_users.json("wallet", "show", "1")["wallets"][0]["balance"] == 1250


def test_adjust_never_takes_a_wallet_below_zero(two_users: Cli) -> None:
    assert two_users.fail("wallet", "adjust", "1", "-1000.0", "--reason", "x", "-c", "COP") == (
        "error: insufficient_funds: account 4 has 0 available, needs 1000"
    )
    assert two_users.fail("wallet", "adjust", "1", "-1001", "--reason", "x") == (
        "error: insufficient_funds: account 1 has 1000 available, needs 1001"
    )
    assert two_users.json("wallet", "show", "1", "-c", "COIN")["wallets"][0]["balance"] == 1000


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("1", "1.005", "-c", "RUB", "--reason", "x"),
            "error: invalid_amount: '1.005' has more than 2 decimal place(s) for RUB",
        ),
        (
            ("1", "1.5", "--reason", "x"),
            "error: invalid_amount: '1.5' has more than 0 decimal place(s) for COIN",
        ),
        (("1", "12,50", "--reason", "x"), "error: invalid_amount: not an amount: '12,50'"),
        (("1", "0", "--reason", "x"), "error: invalid_amount: amount must be a non-zero integer"),
        (
            ("1", "5", "-c", "XYZ", "--reason", "x"),
            "error: unknown_currency: unknown currency 'XYZ'; configured: COIN, RUB, COP, USDT",
        ),
        (
            ("1", "5", "--reason", "  "),
            "error: invalid_input: a reason of 1-500 characters is required",
        ),
        (
            ("1", "5"),
            "error: usage: Missing option '--reason'. (see 'wagerkit wallet adjust --help')",
        ),
        (("99", "5", "--reason", "x"), "error: user_not_found: no user 99"),
        (
            ("1", "5", "--reason", "x", "--key", "no spaces"),
            "error: invalid_input: idempotency key must be 1-64 characters of A-Z a-z 0-9 . _ : -",
        ),
    ],
)
def test_adjust_refuses_bad_input(two_users: Cli, args: tuple[str, ...], message: str) -> None:
    assert two_users.fail("wallet", "adjust", *args) == message
    assert two_users.json("audit", "--action", "wallet.adjust")["entries"] == []


# -- transfer --------------------------------------------------------------------------
def test_transfer_as_json_and_replay(two_users: Cli) -> None:
    args = ("wallet", "transfer", "1", "2", "150", "--memo", "lunch", "--key", "t1")
    expected = {
        "transfer": {
            "id": "transfer:user:1:t1",
            "kind": "single",
            "code": "transfer",
            "currency": "COIN",
            "amount": 150,
            "amount_formatted": "150",
            "debit_account_id": 1,
            "credit_account_id": 3,
            "pending_id": None,
            "reference": "user:2",
            "memo": "lunch",
            "timestamp": "<ts>",
            "seq": 3,
        },
        "from_wallet": wallet(1, "COIN", 850, "850", 1),
        "to_wallet": wallet(2, "COIN", 1150, "1150", 3),
    }
    assert two_users.json(*args) == expected
    assert two_users.json(*args) == expected  # replayed: nothing moved twice


def test_transfer_prints_one_line_for_people(two_users: Cli) -> None:
    assert two_users.ok("wallet", "transfer", "2", "1", "1000", "--key", "all") == (
        "transferred 1000 COIN from user 2 to user 1 (transfer transfer:user:2:all); "
        "balances: user 2 0 COIN, user 1 2000 COIN\n"
    )


def test_transfer_refusals(two_users: Cli) -> None:
    assert two_users.fail("wallet", "transfer", "2", "1", "5000") == (
        "error: insufficient_funds: account 3 has 1000 available, needs 5000"
    )
    assert (
        two_users.fail("wallet", "transfer", "1", "99", "5") == "error: user_not_found: no user 99"
    )
    assert two_users.fail("wallet", "transfer", "1", "2", "-5") == (
        "error: usage: No such option: -5 (see 'wagerkit wallet transfer --help')"
    )
    assert two_users.fail("wallet", "transfer", "1", "2", "0.01", "-c", "RUB") == (
        "error: insufficient_funds: account 4 has 0 available, needs 1"
    )
    balances = [
        two_users.json("wallet", "show", str(u), "-c", "COIN")["wallets"][0]["balance"]
        for u in (1, 2)
    ]
    assert balances == [1000, 1000]


# -- statement -------------------------------------------------------------------------
def test_statement_pages_newest_first(two_users: Cli) -> None:
    two_users.ok("wallet", "transfer", "1", "2", "150", "--memo", "lunch", "--key", "t1")
    two_users.ok("wallet", "adjust", "1", "-50", "--reason", "fine", "--key", "a1")
    page = two_users.json("wallet", "statement", "1", "--limit", "2")
    assert page == {
        "user_id": 1,
        "currency": "COIN",
        "entries": [
            {
                "seq": 4,
                "transfer_id": "adjust:user:1:a1",
                "timestamp": "<ts>",
                "code": "adjust",
                "kind": "single",
                "amount": -50,
                "amount_formatted": "-50",
                "balance_after": 800,
                "balance_after_formatted": "800",
                "available_after": 800,
                "available_after_formatted": "800",
                "counterparty_account_id": 2,
                "reference": "user:1",
                "memo": "fine",
            },
            {
                "seq": 3,
                "transfer_id": "transfer:user:1:t1",
                "timestamp": "<ts>",
                "code": "transfer",
                "kind": "single",
                "amount": -150,
                "amount_formatted": "-150",
                "balance_after": 850,
                "balance_after_formatted": "850",
                "available_after": 850,
                "available_after_formatted": "850",
                "counterparty_account_id": 3,
                "reference": "user:2",
                "memo": "lunch",
            },
        ],
        "next_before": 3,
    }
    older = two_users.json("wallet", "statement", "1", "--limit", "2", "--before", "3")
    assert [(e["seq"], e["code"], e["amount"], e["balance_after"]) for e in older["entries"]] == [
        (1, "grant", 1000, 1000)
    ]
    assert older["next_before"] is None


def test_statement_table(two_users: Cli) -> None:
    two_users.ok("wallet", "adjust", "1", "12.50", "-c", "RUB", "--reason", "prize")
    two_users.ok("wallet", "adjust", "1", "-2.25", "-c", "RUB", "--reason", "fee")
    out = table_text(two_users.ok("wallet", "statement", "1", "-c", "RUB"))
    rows = [line.rstrip() for line in out.splitlines()]
    assert rows[0] == "Statement of user 1 in RUB"
    assert rows[2].split() == [
        "Seq",
        "Time",
        "(UTC)",
        "Code",
        "Amount",
        "Balance",
        "Counterparty",
        "Memo",
    ]
    assert rows[4].split() == [
        "4",
        "YYYY-MM-DD",
        "hh:mm:ss",
        "adjust",
        "-2.25",
        "10.25",
        "5",
        "fee",
    ]
    assert rows[5].split() == [
        "3",
        "YYYY-MM-DD",
        "hh:mm:ss",
        "adjust",
        "+12.50",
        "12.50",
        "5",
        "prize",
    ]
    assert rows[-1].strip() == "2 entries"


def test_statement_of_unknown_user(cli: Cli) -> None:
    assert cli.fail("wallet", "statement", "5") == "error: user_not_found: no user 5"
