"""A wallet change made by another process reaches the user's sockets: a real uvicorn server
process, a real redis-server, a real python-socketio client, and ``wagerkit wallet adjust``
run as a CLI subprocess. With ``REDIS_URL`` the CLI's live updates send through a
write-only ``AsyncRedisManager`` and the server relays ``balance_update`` to ``user:<id>``;
without it the CLI pushes nothing."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import socketio  # type: ignore[import-untyped]
from redisserver import free_port
from serverkit import SECRET, WAGERKIT, base_env, wait_ready


@pytest.fixture
def server(tmp_path: Path, redis_url: str) -> Iterator[tuple[str, str]]:
    """A uvicorn server process sharing ``redis_url``; yields its URL and database URL."""
    db_url = f"sqlite:///{tmp_path / 'e2e.db'}"
    env = base_env(db_url) | {"WAGERKIT_JWT_SECRET": SECRET, "REDIS_URL": redis_url}
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
        yield url, db_url
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()


async def _cli(env: dict[str, str], cwd: Path, *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        WAGERKIT, *args, env=env, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_cli_wallet_change_pushes_balance_update_through_redis(
    server: tuple[str, str], redis_url: str, tmp_path: Path
) -> None:
    url, db_url = server
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        name = f"u{uuid.uuid4().hex[:12]}"
        r = await http.post(
            "/api/v1/auth/register",
            json={"username": name, "password": "correct horse", "display_name": name},
        )
        assert r.status_code == 201, r.text
        session = r.json()
        token, user_id = session["access_token"], session["user"]["id"]
        headers = {"Authorization": f"Bearer {token}"}

        updates: asyncio.Queue[Any] = asyncio.Queue()
        sio = socketio.AsyncClient(reconnection=False)
        sio.on("balance_update", updates.put_nowait)
        await sio.connect(url, transports=["websocket"], auth={"token": token}, wait_timeout=10)
        try:
            # the link works: request_balance answers with the current balances
            ack = await sio.call("request_balance", timeout=10)
            assert ack["user_id"] == user_id
            await asyncio.wait_for(updates.get(), timeout=5)
            before = (await http.get("/api/v1/wallet", headers=headers)).json()["balances"]
            assert ack["balances"] == before

            cli_env = base_env(db_url)
            # control: a CLI without REDIS_URL changes the wallet but pushes nothing
            code, out, err = await _cli(
                cli_env, tmp_path, "wallet", "adjust", str(user_id), "1", "--reason", "quiet"
            )
            assert code == 0, (out, err)
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(updates.get(), timeout=1.0)
            quiet = (await http.get("/api/v1/wallet", headers=headers)).json()["balances"]
            assert quiet != before

            # with REDIS_URL the CLI's change reaches the socket held by the server process
            code, out, err = await _cli(
                cli_env | {"REDIS_URL": redis_url},
                tmp_path, "wallet", "adjust", str(user_id), "25", "--reason", "r",
            )  # fmt: skip
            assert code == 0, (out, err)
            assert "warning" not in err
            pushed = await asyncio.wait_for(updates.get(), timeout=5)
            after = (await http.get("/api/v1/wallet", headers=headers)).json()["balances"]
            assert pushed == {"user_id": user_id, "balances": after}
            assert after != quiet
            assert updates.empty()
        finally:
            await sio.disconnect()
