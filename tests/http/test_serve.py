"""The two ways the CLI starts the server, as real processes: uvicorn's factory import string,
and ``wagerkit_http.serve.run`` (here with two worker processes)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from wagerkit.adapters.sql.migrate import current
from wagerkit.config import Settings
from wagerkit_http.schema import head_revisions
from wagerkit_http.serve import settings_env


def _wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 90) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited early: {proc.communicate()}")
        try:
            r = httpx.get(f"{url}/ready", timeout=2)
            if r.status_code == 200:
                return r
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("server did not become ready")


def _stop(proc: subprocess.Popen[bytes]) -> tuple[int, str]:
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return proc.returncode, err.decode()


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAGERKIT_")}
    env.pop("REDIS_URL", None)
    env["WAGERKIT_DATABASE_URL"] = f"sqlite:///{tmp_path / 'served.db'}"
    env["WAGERKIT_JWT_SECRET"] = "test-secret-for-http-tests-0123456789abcdef"
    return env


def test_uvicorn_factory_import_string(tmp_path: Path, closed_port: int) -> None:
    cmd = [
        sys.executable, "-m", "uvicorn", "wagerkit_http.asgi:create_asgi", "--factory",
        "--host", "127.0.0.1", "--port", str(closed_port),
    ]  # fmt: skip
    proc = subprocess.Popen(
        cmd, env=_env(tmp_path), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        r = _wait_ready(f"http://127.0.0.1:{closed_port}", proc)
        assert r.json()["checks"]["schema"] == "at_head"  # the lifespan reached Sanic
    finally:
        code, err = _stop(proc)
    assert code == 0, err
    assert "Application startup complete" in err
    assert "Application shutdown complete" in err
    assert current(f"sqlite:///{tmp_path / 'served.db'}") in (head_revisions() or ())


def test_serve_run_with_two_workers(tmp_path: Path, closed_port: int) -> None:
    db = tmp_path / "workers.db"
    script = (
        "from wagerkit.config import Settings\n"
        "from wagerkit_http.serve import run\n"
        f"run(Settings(database_url={f'sqlite:///{db}'!r}, port={closed_port}, workers=2,"
        " log_level='info', _env_file=None))\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        env=_env(tmp_path),  # WAGERKIT_DATABASE_URL there points elsewhere: run() must win
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{closed_port}"
        _wait_ready(url, proc)
        assert httpx.get(f"{url}/health").json()["status"] == "ok"
        currencies = httpx.get(f"{url}/api/v1/currencies").json()["currencies"]
        assert currencies[0]["code"] == "COIN"
    finally:
        code, err = _stop(proc)
    assert "Started parent process" in err, err
    assert err.count("Application startup complete") == 2, err
    assert current(f"sqlite:///{db}") in (head_revisions() or ())
    assert not (tmp_path / "served.db").exists()
    assert code == 0, err


def test_settings_env_round_trips() -> None:
    s = Settings(  # type: ignore[call-arg]
        database_url="sqlite:///a.db", port=9001, workers=3, redis_url=None,
        jobs_in_server=False, jwt_secret="s" * 40, telegram_bot_token="1:tok",
        telegram_admin_ids="5,6", webhook_secrets={"acme": "w" * 20}, _env_file=None,
    )  # fmt: skip
    env = settings_env(s)
    assert env["WAGERKIT_JWT_SECRET"] == "s" * 40  # in clear: the workers need it
    assert env["WAGERKIT_DATABASE_URL"] == "sqlite:///a.db"
    assert env["WAGERKIT_JOBS_IN_SERVER"] == "false"
    assert env["REDIS_URL"] is None
    assert env["WAGERKIT_REDIS_URL"] is None
    saved = dict(os.environ)
    try:
        for k, v in env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        assert Settings(_env_file=None) == s  # type: ignore[call-arg]
    finally:
        os.environ.clear()
        os.environ.update(saved)


# -- forwarded headers: believed only from WAGERKIT_FORWARDED_ALLOW_IPS ---------------------


def _serve_cli(tmp_path: Path, port: int, **extra: str) -> subprocess.Popen[bytes]:
    """``wagerkit serve`` (the one serve path) as a real process, on a SQLite file."""
    env = _env(tmp_path) | extra
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "wagerkit"), "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _sign_in_codes(url: str) -> dict[str, list[int]]:
    """Each sign-in route hit one past its per-address limit, every request claiming another
    client address in ``X-Forwarded-For``."""
    codes: dict[str, list[int]] = {"login": [], "register": [], "telegram": []}
    tag = str(time.monotonic_ns())[-8:]
    with httpx.Client(base_url=f"{url}/api/v1/auth", timeout=30) as http:
        for i in range(11):  # login: 10 a minute per login name and address
            r = http.post(
                "/login",
                json={"login": "nobody", "password": "wrong password"},
                headers={"X-Forwarded-For": f"10.1.{i}.9"},
            )
            codes["login"].append(r.status_code)
        for i in range(11):  # register: 10 a minute per address
            body = {"username": f"u{tag}_{i}", "password": "correct horse", "display_name": "U"}
            r = http.post("/register", json=body, headers={"X-Forwarded-For": f"10.2.{i}.9"})
            codes["register"].append(r.status_code)
        for i in range(31):  # Telegram: 30 a minute per address (no bot token here: 503)
            widget = {"id": 1, "auth_date": 1, "hash": "0" * 64}
            r = http.post("/telegram", json=widget, headers={"X-Forwarded-For": f"10.3.{i}.9"})
            codes["telegram"].append(r.status_code)
    return codes


def test_forwarded_for_does_not_escape_the_sign_in_limits(tmp_path: Path, closed_port: int) -> None:
    """By default X-Forwarded-For is ignored: the peer address (loopback here) is what the
    limits count, however the header rotates."""
    proc = _serve_cli(tmp_path, closed_port)
    try:
        url = f"http://127.0.0.1:{closed_port}"
        _wait_ready(url, proc)
        codes = _sign_in_codes(url)
    finally:
        code, err = _stop(proc)
    assert codes == {
        "login": [401] * 10 + [429],
        "register": [201] * 10 + [429],
        "telegram": [503] * 30 + [429],
    }
    assert code == 0, err
    assert "Traceback" not in err, err


def test_forwarded_for_counts_from_a_configured_proxy(tmp_path: Path, closed_port: int) -> None:
    """Behind a proxy named in WAGERKIT_FORWARDED_ALLOW_IPS, each forwarded client address
    has limits of its own."""
    proc = _serve_cli(tmp_path, closed_port, WAGERKIT_FORWARDED_ALLOW_IPS="127.0.0.1")
    try:
        url = f"http://127.0.0.1:{closed_port}"
        _wait_ready(url, proc)
        codes = _sign_in_codes(url)
    finally:
        code, err = _stop(proc)
    assert codes == {"login": [401] * 11, "register": [201] * 11, "telegram": [503] * 31}
    assert code == 0, err
    assert "Traceback" not in err, err


_TOUCHUP_PROBE = r"""
import asyncio, gc, json, sys
from sanic import Sanic
from wagerkit_http.asgi import create_asgi

async def start(asgi):
    inbox, outbox = asyncio.Queue(), asyncio.Queue()
    await inbox.put({"type": "lifespan.startup"})
    asyncio.get_running_loop().create_task(
        asgi({"type": "lifespan", "asgi": {"version": "3.0"}}, inbox.get, outbox.put)
    )
    return (await outbox.get())["type"]

async def get(asgi, path):
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(),
             "query_string": b"", "root_path": "", "headers": [(b"host", b"t")],
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 8000)}
    sent = []
    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}
    async def send(message):
        sent.append(message)
    await asgi(scope, receive, send)
    return sent[0]["status"]

def counting(app):
    seen = []
    real = app.signal_router.dispatch
    def dispatch(event, *args, **kwargs):
        seen.append(event)
        return real(event, *args, **kwargs)
    app.signal_router.dispatch = dispatch
    return seen

async def main():
    out = {}
    for name, make in (("test app", lambda: create_asgi(touchup=False)),
                       ("factory", create_asgi), ("second factory", create_asgi)):
        asgi = make()
        seen = counting(asgi.other_asgi_app)
        started = await start(asgi)
        frozen = gc.get_freeze_count()
        seen.clear()
        statuses = [await get(asgi, "/health"), await get(asgi, "/nowhere")]
        out[name] = {"started": started, "statuses": statuses, "dispatches": len(seen),
                     "touched": bool(getattr(Sanic, "__touched__", False)),
                     "frozen": frozen}
    print(json.dumps(out))

asyncio.run(main())
"""


def test_the_server_factory_drops_unused_signal_dispatches(tmp_path: Path) -> None:
    """``create_asgi()`` as a server's factory lets Sanic's TouchUp take the dispatches of
    unused lifecycle signals out of the request path (fewer per request, same answers); a
    second app in the same process still starts (the rewrite runs once per process), and an
    app built for tests (``touchup=False``) first leaves Sanic as it is, and leaves the garbage
    collector alone, where the factory freezes start-up's objects. In a subprocess: the
    rewrite is of the ``Sanic`` class and would leak into this test process."""
    env = _env(tmp_path) | {"WAGERKIT_DATABASE_URL": "sqlite:///:memory:"}
    res = subprocess.run(
        [sys.executable, "-c", _TOUCHUP_PROBE],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    import json

    out = json.loads(res.stdout.strip().splitlines()[-1])
    plain, factory, second = out["test app"], out["factory"], out["second factory"]
    for app in (plain, factory, second):
        assert app["started"] == "lifespan.startup.complete", out
        assert app["statuses"] == [200, 404], out  # the 404 through the rewritten handler
    assert not plain["touched"]
    assert factory["touched"]
    assert factory["dispatches"] * 3 <= plain["dispatches"], out
    assert second["dispatches"] == factory["dispatches"], out
    # the server factory also freezes what start-up built out of the garbage collector's reach
    assert plain["frozen"] == 0, out
    assert factory["frozen"] > 50_000, out
