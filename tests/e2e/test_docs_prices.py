"""The curl and python-socketio snippets of docs/prices.md run as written against a live
server (a uvicorn process on a ``wagerkit demo`` database, recording DEMO-USD from the
seeded random walk) and print what the docs say."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from test_docs_events import live

__all__ = ["live"]  # the fixture: a demo database, an admin, the server

DOC = Path(__file__).resolve().parents[2] / "docs" / "prices.md"


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", DOC.read_text(), re.S)


def test_the_curl_snippet_runs(live: tuple[str, dict[str, str]]) -> None:
    (script,) = _blocks("bash")
    r = subprocess.run(
        ["bash", "-c", script], env=live[1], capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        '{"symbol":"DEMO-USD","source":"random","fresh":true}',
        "3",
        '{"symbol":"BTC-USD","price":"97000.12","source":"operator"}',
        "97000.12",
        "price_not_found",
        "validation_failed",
    ]


def test_the_socketio_snippet_runs(live: tuple[str, dict[str, str]]) -> None:
    (script, _library) = _blocks("python")
    r = subprocess.run(
        [sys.executable, "-c", script], env=live[1], capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "on join: None",
        "tick: ETH-USD 3500.25 operator",
        "recorded: DEMO-USD random",
    ]


def test_the_library_snippet_runs() -> None:
    (_socketio, script) = _blocks("python")
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["['101.73', '101']", "101.73 None"]
