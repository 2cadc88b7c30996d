"""Drive the ``wagerkit`` command tree in-process and check what it printed and stored."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import datetime
from typing import Any

from typer.testing import CliRunner, Result

from wagerkit_cli.main import app

# What a person's terminal would have; nothing from the developer's shell leaks in.
ENV: dict[str, str | None] = {
    "COLUMNS": "120",
    "NO_COLOR": "1",
    "FORCE_COLOR": None,
    "TTY_COMPATIBLE": None,
    "WAGERKIT_DEBUG": None,
    "WAGERKIT_DATABASE_URL": None,
    "WAGERKIT_CURRENCIES": None,
    "WAGERKIT_WELCOME_GRANT": None,
    # no automatic prices or rounds unless a test asks (the default feed, a random walk,
    # would record a tick every pass, and DEMO-USD's rounds would be created)
    "WAGERKIT_PRICE_FEED": "manual",
    "WAGERKIT_ROUND_SYMBOLS": "",
}
TS_KEYS = {"timestamp", "created_at", "at"}
TABLE_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")


def normalize(doc: Any) -> Any:
    """Replace timestamps (checked to be timezone-aware ISO 8601) with ``"<ts>"``."""
    if isinstance(doc, dict):
        out = {}
        for k, v in doc.items():
            if k in TS_KEYS and isinstance(v, str):
                assert datetime.fromisoformat(v).utcoffset() is not None, v
                out[k] = "<ts>"
            else:
                out[k] = normalize(v)
        return out
    if isinstance(doc, list):
        return [normalize(v) for v in doc]
    return doc


def table_text(text: str) -> str:
    """A Rich table with its times replaced by a placeholder of the same width."""
    return TABLE_TIME.sub("YYYY-MM-DD hh:mm:ss", text)


class Cli:
    """``wagerkit --db <url> ...`` against one database."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.runner = CliRunner()

    def invoke(
        self, *args: str, db: bool = True, env: dict[str, str | None] | None = None
    ) -> Result:
        argv = ["--db", self.url, *args] if db else list(args)
        return self.runner.invoke(app, argv, env={**ENV, **(env or {})})

    def ok(self, *args: str, **kw: Any) -> str:
        """Run; it must succeed and print nothing on stderr beyond notes. Returns stdout."""
        res = self.invoke(*args, **kw)
        assert res.exit_code == 0, (res.exit_code, res.stdout, res.stderr, res.exception)
        return res.stdout

    def json(self, *args: str, **kw: Any) -> Any:
        """Run with ``--json``; returns the parsed document with timestamps normalised."""
        return normalize(json.loads(self.ok(*args, "--json", **kw)))

    def fail(self, *args: str, code: int = 2, **kw: Any) -> str:
        """Run; it must fail with ``code``, print nothing on stdout and exactly one line on
        stderr. Returns that line."""
        res = self.invoke(*args, **kw)
        assert res.exit_code == code, (res.exit_code, res.stdout, res.stderr, res.exception)
        assert res.stdout == ""
        assert res.stderr.endswith("\n"), res.stderr
        assert res.stderr.count("\n") == 1, res.stderr
        return res.stderr.rstrip("\n")

    def assert_conserved(self) -> None:
        """Every currency sums to zero and no user wallet is negative (read straight from
        the database, not through the CLI)."""
        from wagerkit import Actor, WagerKit
        from wagerkit.adapters.sql import SqlStore
        from wagerkit.adapters.sql.migrate import current

        if current(self.url) is None:
            return  # nothing was ever written

        async def check() -> None:
            store = SqlStore.from_url(self.url)
            try:
                kit = WagerKit(store)
                for totals in await kit.wallets.totals(Actor.system()):
                    assert totals.conserved, totals
                async with store() as uow:
                    for user in await uow.users.list(limit=1000):
                        for acc in await uow.ledger.accounts_of(user.owner_ref):
                            assert acc.balance >= 0, acc
                            assert acc.available >= 0, acc
            finally:
                await store.dispose()

        asyncio.run(check())
