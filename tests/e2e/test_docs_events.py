"""The curl and python-socketio snippets of docs/events.md run as written against a live
server (a uvicorn process on a ``wagerkit demo`` database) and print what the docs say."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from redisserver import free_port
from serverkit import SECRET, WAGERKIT, base_env, wait_ready

DOC = Path(__file__).resolve().parents[2] / "docs" / "events.md"


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", DOC.read_text(), re.S)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """A demo database, an admin with a password, the server; yields (URL, env)."""
    env = base_env(f"sqlite:///{tmp_path / 'docs.db'}") | {"WAGERKIT_JWT_SECRET": SECRET}

    def cli(*args: str, stdin: str | None = None) -> str:
        r = subprocess.run(
            [WAGERKIT, *args], env=env, cwd=tmp_path, input=stdin, capture_output=True, text=True
        )
        assert r.returncode == 0, r.stderr
        return r.stdout

    cli("demo")
    cli(
        "users",
        "create-admin",
        "Root",
        "--username",
        "root",
        "--password-stdin",
        stdin="s3cret pw\n",
    )
    port = free_port()
    cmd = [
        sys.executable, "-m", "uvicorn", "wagerkit_http.asgi:create_asgi", "--factory",
        "--host", "127.0.0.1", "--port", str(port),
    ]  # fmt: skip
    proc = subprocess.Popen(
        cmd, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, proc)
        r = httpx.post(f"{url}/api/v1/auth/login", json={"login": "root", "password": "s3cret pw"})
        assert r.status_code == 200, r.text
        yield url, {**env, "BASE": url, "ADMIN": r.json()["access_token"]}
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        assert b"Traceback" not in err, err.decode()[-3000:]


def test_the_curl_flow_runs_and_pays_the_seed_example(live: tuple[str, dict[str, str]]) -> None:
    (script,) = _blocks("bash")
    r = subprocess.run(
        ["bash", "-c", script], env=live[1], capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert '{"replayed":true,"amount":100}' in lines
    pool = json.loads(lines[1])
    assert [(o["name"], o["bettors"], o["total"], o["multiplier"]) for o in pool] == [
        ("Team A", 2, 400, "1.5000"),
        ("Team B", 1, 200, "3.0000"),
    ]
    assert lines[2] == "settled"
    assert [json.loads(x) for x in lines[3:]] == [
        {"status": "won", "payout": 150},
        {"status": "won", "payout": 450},
        {"status": "lost", "payout": 0},
    ]


def test_the_socketio_snippet_runs(live: tuple[str, dict[str, str]]) -> None:
    (script,) = _blocks("python")
    r = subprocess.run(
        [sys.executable, "-c", script], env=live[1], capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 0, r.stderr
    out = r.stdout.splitlines()
    assert out[0] == "pool on join: 0"
    assert "'text': 'gl hf'" in out[1]  # the ack: the stored message, trimmed
    assert out[2] == "chat: gl hf"
    # a welcome grant of 1000, a stake of 50, the only bettor on the winner: paid 50 back
    assert out[3] == "settled; my balance: 1000"
