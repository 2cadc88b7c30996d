"""Fixtures for the CLI tests: a ``Cli`` on a fresh database, checked for conservation of
money after every test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_harness import Cli


@pytest.fixture
def cli(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    """The CLI on a fresh SQLite file, run from an empty directory (no stray ``.env``)."""
    monkeypatch.chdir(tmp_path)
    c = Cli(sqlite_url)
    yield c
    c.assert_conserved()


@pytest.fixture
def pg_cli(pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    """The CLI on a fresh, empty PostgreSQL database."""
    monkeypatch.chdir(tmp_path)
    c = Cli(pg_url)
    yield c
    c.assert_conserved()
