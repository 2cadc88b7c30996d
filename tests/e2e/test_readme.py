"""README.md's commands, run as written (README and tests cannot drift apart).

The first ```sh block is the set-up command a newcomer pastes; after its install step
(``python3 -m venv .venv && .venv/bin/pip install ...``, which the test run has already
done) it runs here exactly as written, through ``sh -c``, in an empty directory with no
``WAGERKIT_*`` variables: ``.venv/bin/`` becomes the directory of this interpreter's
``wagerkit``. The third block (the curl sequence that acts as a demo player) then runs as
written against it. The second block must be what CI runs.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import stat
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from serverkit import WAGERKIT

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
INSTALL = "python3 -m venv .venv && .venv/bin/pip install -q -e '.[all]' && "
BASE = "http://127.0.0.1:8000"  # where the README's command serves (the defaults)
BIN = Path(WAGERKIT).parent


def _sh_blocks() -> list[str]:
    return [b.strip() for b in re.findall(r"```sh\n(.*?)```", README.read_text(), re.S)]


def _as_installed(command: str) -> str:
    """The README's ``.venv/bin/`` programs, taken from the venv running the tests."""
    return command.replace(".venv/bin/", f"{shlex.quote(str(BIN))}/")


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAGERKIT_")}
    for name in ("REDIS_URL", "TELEGRAM_ADMIN_IDS", "FORWARDED_ALLOW_IPS"):
        env.pop(name, None)
    return env


def _wait_health(proc: subprocess.Popen[bytes], log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the command ended ({proc.returncode}):\n{log.read_text()}")
        try:
            if httpx.get(f"{BASE}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"no /health within {timeout}s:\n{log.read_text()}")


def _interrupt(proc: subprocess.Popen[bytes]) -> None:
    """Ctrl-C, as in a terminal: SIGINT to the command's whole process group."""
    os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise AssertionError("the server did not stop on SIGINT") from None
    deadline = time.monotonic() + 15  # sh may end before the server it started
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    raise AssertionError("a process of the command outlived SIGINT")


@pytest.fixture
def port_8000() -> None:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", 8000))
        except OSError:
            pytest.fail("port 8000 is in use: the README's command serves there")


def _start(command: str, cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            ["sh", "-c", command],
            cwd=cwd,
            env=_clean_env(),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _act_as_demo_player(work: Path) -> list[object]:
    """The README's curl sequence, as written; one JSON document per line."""
    script = _sh_blocks()[2]
    assert "wagerkit auth token demo-alice" in script
    r = subprocess.run(
        ["sh", "-eu", "-c", _as_installed(script)],
        cwd=work,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    return [json.loads(line) for line in r.stdout.splitlines()]


def _token(work: Path, user: str) -> str:
    r = subprocess.run(
        [WAGERKIT, "auth", "token", user],
        cwd=work,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (r.returncode, r.stderr) == (0, ""), r.stderr
    return r.stdout.strip()


def test_the_second_command_is_what_ci_runs() -> None:
    second = _sh_blocks()[1]
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert second in ci


def test_the_first_command_serves_the_demo_to_a_newcomer(tmp_path: Path, port_8000: None) -> None:
    first = _sh_blocks()[0]
    assert first.startswith(INSTALL), first
    assert first.removeprefix(INSTALL) == ".venv/bin/wagerkit demo && .venv/bin/wagerkit serve"
    work = tmp_path / "fresh"
    work.mkdir()
    log = tmp_path / "readme-command.log"
    proc = _start(_as_installed(first.removeprefix(INSTALL)), work, log)
    try:
        _wait_health(proc, log)
        events, bet, wallet = _act_as_demo_player(work)
        # the same sequence again: the Idempotency-Key makes the bet a replay, nothing moves
        _, replay, again = _act_as_demo_player(work)
        bob = _token(work, "demo-bob")
    finally:
        _interrupt(proc)
    text = log.read_text()
    assert "Traceback" not in text, text
    assert text.count("generated a JWT secret in wagerkit.db.jwt-secret") == 1, text

    assert isinstance(events, dict)
    assert isinstance(bet, dict)
    assert isinstance(wallet, dict)
    [final] = events["events"]
    assert (final["id"], final["status"], final["allow_topup"]) == (1, "open", True)
    assert (final["outcomes"][0]["id"], final["outcomes"][0]["name"]) == (1, "Red")
    # Alice's 100 on Red, topped up by 25; her demo balance was 1233 (after the demo contracts and raffles)
    assert {k: bet[k] for k in ("event_id", "outcome_id", "amount", "placed", "replayed")} == {
        "event_id": 1,
        "outcome_id": 1,
        "amount": 125,
        "placed": 25,
        "replayed": False,
    }
    [coin] = wallet["balances"]
    assert (coin["currency"], coin["balance"]) == ("COIN", 1208)
    assert isinstance(replay, dict)
    assert isinstance(again, dict)
    assert (replay["replayed"], replay["amount"]) == (True, 125)
    assert again["balances"][0]["balance"] == 1208

    # a second start reuses the secret the first one made: Bob's token still works
    path = work / "wagerkit.db.jwt-secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert re.fullmatch(r"[0-9a-f]{64}\n", path.read_text())
    log2 = tmp_path / "second-start.log"
    proc = _start(f"exec {shlex.quote(WAGERKIT)} serve", work, log2)
    try:
        _wait_health(proc, log2)
        r = httpx.get(f"{BASE}/api/v1/wallet", headers={"Authorization": f"Bearer {bob}"})
        assert r.status_code == 200, r.text
    finally:
        _interrupt(proc)
    assert "generated" not in log2.read_text()
    assert "Traceback" not in log2.read_text()
    _assert_conserved(f"sqlite:///{work / 'wagerkit.db'}")


def _assert_conserved(url: str) -> None:
    import asyncio

    from wagerkit import Actor, WagerKit
    from wagerkit.adapters.sql import SqlStore

    async def check() -> None:
        store = SqlStore.from_url(url)
        try:
            for totals in await WagerKit(store).wallets.totals(Actor.system()):
                assert totals.conserved, totals
        finally:
            await store.dispose()

    asyncio.run(check())


@pytest.mark.postgres
def test_postgresql_without_a_secret_is_refused_before_binding(pg_url: str, tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = _clean_env() | {"WAGERKIT_DATABASE_URL": pg_url}
    r = subprocess.run(
        [WAGERKIT, "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr.count("\n") == 1, r.stderr
    assert r.stderr.startswith(
        "error: invalid_settings: no JWT secret configured: set WAGERKIT_JWT_SECRET"
    ), r.stderr
    with socket.socket() as s, pytest.raises(ConnectionRefusedError):
        s.connect(("127.0.0.1", port))
    assert list(tmp_path.iterdir()) == []  # no secret file, no SQLite file
