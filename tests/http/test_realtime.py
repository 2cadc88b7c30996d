"""Socket.IO mounted beside Sanic: a real python-socketio client over WebSocket."""

from __future__ import annotations

import asyncio

import socketio

from wagerkit.config import Settings
from wagerkit_http import create_asgi


async def test_websocket_client_gets_pong(base_url: str) -> None:
    import httpx
    from authkit import register

    with httpx.Client(base_url=base_url) as http:
        token = register(http)["access_token"]
    client = socketio.AsyncClient(reconnection=False)
    pongs: asyncio.Queue[object] = asyncio.Queue()

    @client.on("pong")
    async def on_pong(data: object) -> None:
        await pongs.put(data)

    await client.connect(base_url, transports=["websocket"], wait_timeout=5, auth={"token": token})
    try:
        assert client.transport() == "websocket"
        await client.emit("ping", {"n": 1})
        assert await asyncio.wait_for(pongs.get(), 5) == {"n": 1}
        ack = await client.call("ping", {"n": 2}, timeout=5)
        assert ack == "pong"
        assert await asyncio.wait_for(pongs.get(), 5) == {"n": 2}
    finally:
        await client.disconnect()


async def test_http_routes_still_served_beside_socketio(base_url: str) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=base_url) as http:
        r = await http.get("/socket.io/", params={"EIO": "4", "transport": "polling"})
        assert r.status_code == 200
        assert r.text.startswith("0{")
        assert (await http.get("/health")).status_code == 200


def test_redis_url_selects_the_redis_manager(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """With REDIS_URL the server shares rooms through Redis (no connection is made until
    the first emit, so no Redis server is needed to build it)."""
    settings = Settings(  # type: ignore[call-arg]
        database_url=f"sqlite:///{tmp_path / 'x.db'}",
        redis_url="redis://127.0.0.1:6399/0",
        jwt_secret="test-secret-for-http-tests-0123456789abcdef",
        _env_file=None,
    )
    asgi = create_asgi(settings)
    sio = asgi.engineio_server
    assert isinstance(sio.manager, socketio.AsyncRedisManager)
    assert sio.manager.redis_url == "redis://127.0.0.1:6399/0"
    plain = create_asgi(
        Settings(
            database_url=f"sqlite:///{tmp_path / 'y.db'}",
            jwt_secret="test-secret-for-http-tests-0123456789abcdef",
            _env_file=None,
        )
    )  # type: ignore[call-arg]
    assert not isinstance(plain.engineio_server.manager, socketio.AsyncRedisManager)
