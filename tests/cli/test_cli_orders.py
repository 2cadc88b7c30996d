"""``wagerkit orders`` and ``wagerkit reviews``: a day of an order from the terminal, with
``--as`` for the client and executors, ``--json`` for scripts and one-line errors (exit 2)."""

from __future__ import annotations

import pytest
from cli_harness import Cli


@pytest.fixture
def people(cli: Cli) -> Cli:
    """Users 1 (client), 2 and 3 (executors), 1000 COIN each; 4 is an operator."""
    for name in ("Client", "Exec A", "Exec B"):
        cli.ok("users", "add", name)
    cli.ok("users", "add", "Olga", "--role", "operator")
    return cli


def test_an_order_from_create_to_review(people: Cli) -> None:
    cli = people
    made = cli.json(
        "orders", "create", "plumbing", "Москва", "Leaking tap", "--contact", "+7 1", "--as", "1"
    )
    oid = made["id"]
    assert made["contact"] == "+7 1"
    assert made["fee"] == 2
    assert made["free_slots"] == 3
    listed = cli.json("orders", "list", "--city", "москва")["orders"]
    assert [o["id"] for o in listed] == [oid]
    assert listed[0]["contact"] is None
    assert cli.json("orders", "show", oid)["contact"] is None
    took = cli.json("orders", "take", oid, "--as", "2")
    assert took["contact"] == "+7 1"
    assert took["replayed"] is False
    assert cli.json("orders", "take", oid, "--as", "2")["replayed"] is True
    assert "contact +7 1" in cli.ok("orders", "take", oid, "--as", "2")
    assert cli.json("orders", "show", oid, "--as", "2")["contact"] == "+7 1"
    assert cli.json("orders", "show", oid, "--as", "3")["contact"] is None
    assert cli.json("wallet", "show", "2")["wallets"][0]["balance"] == 998
    assert cli.json("orders", "respond", oid, "--as", "1")["responded"] is True
    assert cli.json("orders", "complete", oid, "--as", "1")["status"] == "completed"
    assert "completed" in cli.ok("orders", "list", "--status", "completed")
    assert cli.json("reviews", "list")["reviews"] == []


def test_reports_and_categories(people: Cli) -> None:
    cli = people
    oid = cli.json(
        "orders", "create", "locksmith", "Казань", "Locked out", "--contact", "c2", "--as", "1"
    )["id"]
    cli.ok("orders", "take", oid, "--as", "2")
    line = cli.fail("orders", "reports", "--as", "2")
    assert line.startswith("error: forbidden:")
    cats = cli.json("orders", "categories", "list")["categories"]
    assert len(cats) == 7
    assert cats[0]["fee"] == 2
    saved = cli.json(
        "orders", "categories", "set", "towing", "Towing", "--fee", "5", "--max-executors", "1"
    )
    assert saved["fee"] == 5
    assert "towing" in cli.ok("orders", "categories", "list")


def test_errors_are_one_line(people: Cli) -> None:
    cli = people
    assert cli.fail("orders", "take", "AAAAAAAAAAAA", "--as", "2").startswith(
        "error: order_not_found:"
    )
    assert cli.fail("orders", "create", "nope", "X", "Y", "--contact", "c", "--as", "1").startswith(
        "error: invalid_input:"
    )
    oid = cli.json("orders", "create", "plumbing", "Омск", "Tap", "--contact", "c3", "--as", "1")[
        "id"
    ]
    assert cli.fail("orders", "take", oid, "--as", "1").startswith("error: own_order:")
    assert cli.fail(
        "orders", "create", "plumbing", "Омск", "Tap", "--contact", "c3", "--as", "2"
    ).startswith("error: active_order_exists:")
    assert cli.fail("orders", "report", "accept", "99").startswith("error: report_not_found:")
    assert cli.fail("orders", "list", "--status", "weird").startswith("error: invalid_input:")
    line = cli.fail(
        "orders", "create", "plumbing", "Atlantis", "Tap", "--contact", "c4", "--as", "1"
    )
    assert line == "error: invalid_input: unknown city 'Atlantis'"


def test_jobs_report_shows_what_the_orders_source_did() -> None:
    from wagerkit.services import TickReport
    from wagerkit.services.orders import OrdersDue
    from wagerkit_cli.commands.jobs import report_json, report_line

    idle = TickReport(parts={"orders": OrdersDue()})
    assert "orders" not in report_json(idle)
    busy = TickReport(parts={"orders": OrdersDue(["a"], ["b", "c"], 5)})
    assert report_json(busy)["orders"] == {
        "expired": ["a"],
        "closed_no_response": ["b", "c"],
        "refunds": 5,
    }
    assert report_line(busy).endswith(
        "; expired orders: 1; orders closed unanswered: 2 (5 fees refunded)"
    )


def test_jobs_report_shows_what_the_digests_did() -> None:
    from wagerkit.services import TickReport
    from wagerkit.services.orders import DigestsDue
    from wagerkit_cli.commands.jobs import report_json, report_line

    idle = TickReport(parts={"order_digests": DigestsDue()})
    assert "order_digests" not in report_json(idle)
    busy = TickReport(parts={"order_digests": DigestsDue([3, 4], [5], [])})
    assert report_json(busy)["order_digests"] == {"sent": [3, 4], "failed": [5], "dropped": []}
    assert report_line(busy).endswith("; order digests sent: 2, to retry: 1, dropped: 0")
