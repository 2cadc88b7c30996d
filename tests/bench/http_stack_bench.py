"""Serving options side by side (``python tests/bench/run.py --only http-stack``).

Each option ("stack") is one server command serving the same database with ``SERVER_WORKERS``
processes, access log off, log level warning. For each, in one run of this script:

- ``GET /health`` with wrk at ``CONNECTIONS`` connections: requests/s, p50, p99;
- ``POST /api/v1/bets`` with bets.lua (as events_bench.py: hot event, and spread over
  ``EVENTS`` events): accepted bets/s, p50, p99, server CPU per bet;
- the libraries the workers really loaded (``/proc/<pid>/maps``: httptools, uvloop, granian);
- for stacks with Socket.IO, a second start with ``REDIS_URL`` (rooms shared between the
  worker processes): a python-socketio client connects over websocket with a token, joins
  the hot event and must receive ``event_update`` after each of several bets placed over
  fresh HTTP connections (so they land on either worker);
- graceful stop: SIGTERM, and the process tree must be gone within the deadline.

Every figure is a median of ``repeats`` runs, taken in rounds (each round starts every stack
once and runs each load once after a warm-up), so that a load from elsewhere on a shared
machine spreads over all stacks instead of one; ratios are against the first stack (today's)
measured in the same run. All stacks bet as the same bettors, wrk's offsets carrying on from
run to run (new (user, event) pairs first).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import events_bench as eb

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
Say = Callable[[str], None]

FACTORY = "wagerkit_http.asgi:create_asgi"


def _uvicorn(app: str, *extra: str) -> Callable[[int, int], list[str]]:
    def cmd(port: int, workers: int) -> list[str]:
        return [
            sys.executable, "-m", "uvicorn", app, "--factory", "--host", "127.0.0.1",
            "--port", str(port), "--workers", str(workers), "--no-access-log",
            "--log-level", "warning", *extra,
        ]  # fmt: skip

    return cmd


def _uvicorn_access_log(app: str) -> Callable[[int, int], list[str]]:
    """As ``wagerkit serve`` ran before: access log on, log level info (to the log file)."""

    def cmd(port: int, workers: int) -> list[str]:
        line = [c for c in _uvicorn(app)(port, workers) if c != "--no-access-log"]
        return [*line[:-2], "--log-level", "info"]

    return cmd


def _granian(app: str, *extra: str) -> Callable[[int, int], list[str]]:
    def cmd(port: int, workers: int) -> list[str]:
        return [
            sys.executable, "-m", "granian", "--interface", "asgi", "--factory", app,
            "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
            "--no-access-log", "--log-level", "warning", *extra,
        ]  # fmt: skip

    return cmd


def _sanic(app: str) -> Callable[[int, int], list[str]]:
    def cmd(port: int, workers: int) -> list[str]:
        return [
            sys.executable, "-m", "sanic", app, "--factory", "--host", "127.0.0.1",
            "--port", str(port), "--workers", str(workers), "--no-access-logs", "--no-motd",
        ]  # fmt: skip

    return cmd


@dataclass(frozen=True)
class Stack:
    name: str
    command: Callable[[int, int], list[str]]
    socketio: bool = True  # Socket.IO served (check it)
    bets: bool = True  # the wagerkit app (else a ping app: /health only)


PLAIN = "stack_apps:asgi_without_touchup"
STACKS: dict[str, Stack] = {
    s.name: s
    for s in (
        Stack("uvicorn, TouchUp off (before)", _uvicorn(PLAIN)),
        Stack("uvicorn, TouchUp on (now)", _uvicorn(FACTORY)),
        Stack("uvicorn, TouchUp off, access log on", _uvicorn_access_log(PLAIN)),
        Stack("uvicorn, TouchUp off, --http httptools --loop uvloop", _uvicorn(PLAIN, "--http", "httptools", "--loop", "uvloop")),
        Stack("granian, TouchUp off, loop auto", _granian(PLAIN)),
        Stack("granian, TouchUp off", _granian(PLAIN, "--loop", "uvloop")),
        Stack("granian, TouchUp on", _granian(FACTORY, "--loop", "uvloop")),
        Stack("uvicorn, Sanic alone (no sio)", _uvicorn("stack_apps:wagerkit_sanic"), socketio=False),
        Stack("Sanic server, wagerkit (no sio)", _sanic("stack_apps:wagerkit_sanic"), socketio=False),
        Stack("Sanic server, JSON ping", _sanic("stack_apps:ping"), socketio=False, bets=False),
    )
}  # fmt: skip
#: what ``run.py --only http-stack`` runs without ``--stack`` (the others: ``--stack NAME``;
#: an earlier run found access log on, explicit httptools/uvloop and granian's own loop
#: choice within the noise of, or behind, the defaults; docs/benchmarks.md)
DEFAULT = [
    "uvicorn, TouchUp off (before)",
    "uvicorn, TouchUp on (now)",
    "granian, TouchUp off",
    "granian, TouchUp on",
    "Sanic server, wagerkit (no sio)",
    "Sanic server, JSON ping",
]


# -- one server -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Served:
    base: str
    pid: int
    log: Path


def _env(url: str, secret: str, workers: int, redis_url: str | None) -> dict[str, str]:
    env = eb.server_env(url, secret, workers)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")]))
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def loaded(root: int) -> list[str]:
    """Which of the fast paths the server's processes have mapped (``/proc/<pid>/maps``)."""
    libs = {"httptools": "httptools", "uvloop": "uvloop", "granian": "_granian", "rloop": "rloop"}
    seen: set[str] = set()
    for pid in eb.process_tree(root):
        with contextlib.suppress(OSError):
            maps = Path(f"/proc/{pid}/maps").read_text()
            seen.update(name for name, so in libs.items() if f"/{so}" in maps)
    return sorted(seen)


def _alive(pid: int) -> bool:
    """Running (not gone, not a zombie waiting for its parent to read its status)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


@dataclass
class Stopped:
    seconds: float
    clean: bool
    log_tail: str


@contextlib.contextmanager
def serve(
    stack: Stack, url: str, secret: str, work: Path, workers: int, redis_url: str | None = None
) -> Iterator[tuple[Served, list[Stopped]]]:
    """Run ``stack``; yield once ``/health`` (and ``/ready`` for the wagerkit app) answer;
    stop it with SIGTERM, recording how long the tree took to go (``stopped`` list)."""
    port = eb._free_port()
    log = work / f"server-{port}.log"
    out = log.open("w")
    proc = subprocess.Popen(
        stack.command(port, workers),
        env=_env(url, secret, workers, redis_url),
        stdout=out,
        stderr=subprocess.STDOUT,
        cwd=HERE,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    probe = "/ready" if stack.bets else "/health"
    stopped: list[Stopped] = []
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{stack.name} exited:\n{log.read_text()[-3000:]}")
            with contextlib.suppress(OSError):
                if eb._get(base + probe) == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{stack.name} not ready:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        time.sleep(0.5)  # every worker up
        yield Served(base, proc.pid, log), stopped
    finally:
        t0 = time.monotonic()
        clean = True
        if proc.poll() is None:
            tree = eb.process_tree(proc.pid)
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                clean = False
            if proc.returncode not in (0, -signal.SIGTERM):
                clean = False
            while any(_alive(pid) for pid in tree):  # the workers too
                if time.monotonic() - t0 > 20:
                    clean = False
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(10)
                    break
                time.sleep(0.05)
        out.close()
        stopped.append(Stopped(time.monotonic() - t0, clean, log.read_text()[-1500:]))


# -- plain GET load -------------------------------------------------------------------------
_UNIT = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def wrk_get(base: str, path: str, seconds: float) -> eb.WrkRun:
    exe = shutil.which("wrk")
    if exe is None:
        raise RuntimeError("wrk is not installed")
    cmd = [exe, "-t", str(eb.WRK_THREADS), "-c", str(eb.CONNECTIONS),
           "-d", f"{max(1, round(seconds))}s", "--timeout", "5s", "--latency", base + path]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout

    def lat(pct: str) -> float:
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        assert m, out
        return float(m.group(1)) * _UNIT[m.group(2)]

    reqs = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s)", out)
    assert reqs, out
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errs = re.search(r"Socket errors: (.*)", out)
    n = int(reqs.group(1))
    return eb.WrkRun(
        requests=n,
        ok=n - (int(bad.group(1)) if bad else 0),
        refused={"non-2xx": int(bad.group(1))} if bad else {},
        errors={"socket": 1} if errs else {},
        seconds=float(reqs.group(2)) * _UNIT[reqs.group(3)] / 1e3,
        p50_ms=lat("50"),
        p99_ms=lat("99"),
        mean_ms=0.0,
        sample=errs.group(1) if errs else "",
    )


# -- Socket.IO check ------------------------------------------------------------------------
async def _socketio_check(base: str, token: str, tokens: list[str], hot: tuple[int, ...]) -> str:
    """Connect over websocket with a token, join the hot event, place bets over fresh HTTP
    connections, expect one ``event_update`` per bet. Returns "ok" or what failed."""
    import httpx
    import socketio  # type: ignore[import-untyped]

    event_id, *outcomes = hot
    updates: asyncio.Queue[Any] = asyncio.Queue()
    sio = socketio.AsyncClient(reconnection=False)
    sio.on("event_update", updates.put_nowait)
    try:
        await sio.connect(base, transports=["websocket"], auth={"token": token}, wait_timeout=10)
        if sio.transport() != "websocket":
            return f"transport is {sio.transport()}"
        ack = await sio.call("join_event", {"event_id": event_id}, timeout=10)
        if "pool" not in ack:
            return f"join_event answered {ack}"
        for i, tok in enumerate(tokens):
            async with httpx.AsyncClient(base_url=base, timeout=10) as http:  # a new connection
                r = await http.post(
                    "/api/v1/bets",
                    json={"event_id": event_id, "outcome_id": outcomes[i % len(outcomes)],
                          "amount": 1},  # bets.lua: bettor k backs outcome k mod #outcomes
                    headers={"Authorization": f"Bearer {tok}"},
                )  # fmt: skip
            if r.status_code not in (200, 201):
                return f"bet {i}: {r.status_code} {r.text[:200]}"
            try:
                await asyncio.wait_for(updates.get(), 5)
            except TimeoutError:
                return f"no event_update after bet {i} of {len(tokens)}"
        return "ok"
    except Exception as exc:  # reported as the check's result
        return f"{type(exc).__name__}: {exc}"
    finally:
        with contextlib.suppress(Exception):
            await sio.disconnect()


# -- the run --------------------------------------------------------------------------------
@dataclass
class Figure:
    rate: float
    p50_ms: float
    p99_ms: float
    cpu_ms: float = 0.0  # server CPU per request


@dataclass
class StackResult:
    stack: Stack
    libs: list[str] = field(default_factory=list)
    health: Figure | None = None
    hot: Figure | None = None
    spread: Figure | None = None
    socketio: str = "-"
    stop_s: float = 0.0
    stop_clean: bool = True


def _median(runs: list[eb.WrkRun]) -> Figure:
    return Figure(
        statistics.median(r.rate for r in runs),
        statistics.median(r.p50_ms for r in runs),
        statistics.median(r.p99_ms for r in runs),
        statistics.median(r.server_cpu_s * 1000 / max(1, r.ok) for r in runs),
    )


def run(
    url: str,
    *,
    stacks: list[str] | None = None,
    seconds: float = 5.0,
    repeats: int = 3,
    warmup: float = 2.0,
    workers: int = eb.SERVER_WORKERS,
    redis_url: str | None = None,
    say: Say = eb._say,
) -> list[StackResult]:
    secret = secrets.token_urlsafe(48)
    eb.migrate(url)
    world = asyncio.run(eb.build_world(url, secret))
    results: list[StackResult] = []
    with tempfile.TemporaryDirectory(prefix="wagerkit-stack-") as tmp:
        work = Path(tmp)
        tokens = work / "tokens.txt"
        tokens.write_text("\n".join(world.tokens) + "\n")
        hot = work / "hot.txt"
        hot.write_text(" ".join(map(str, (world.hot[0], *world.hot[1]))) + "\n")
        spread = work / "spread.txt"
        spread.write_text("".join(" ".join(map(str, (e, *o))) + "\n" for e, o in world.spread))
        offsets = {hot: 0, spread: 0}
        tag = f"s{time.time_ns() % 10**12}"
        names = stacks or DEFAULT
        if importlib.util.find_spec("granian") is None:
            say("granian is not installed (pip install granian): its stacks are left out")
            names = [n for n in names if not n.startswith("granian")]
        runs: dict[tuple[str, str], list[eb.WrkRun]] = {}
        stops: dict[str, list[Stopped]] = {n: [] for n in names}
        libs: dict[str, list[str]] = {}
        for rnd in range(repeats):  # rounds: every stack once per round, so drift spreads
            for n, name in enumerate(names):
                stack = STACKS[name]
                with serve(stack, url, secret, work, workers) as (srv, stopped):
                    libs[name] = loaded(srv.pid)
                    wrk_get(srv.base, "/health", warmup)
                    cpu0 = eb.cpu_seconds(srv.pid)
                    r = wrk_get(srv.base, "/health", seconds)
                    r.server_cpu_s = eb.cpu_seconds(srv.pid) - cpu0
                    runs.setdefault((name, "health"), []).append(r)
                    for events, attr in ((hot, "hot"), (spread, "spread")) if stack.bets else ():

                        def once(secs: float, t: str, events: Path = events) -> eb.WrkRun:
                            cpu0 = eb.cpu_seconds(srv.pid)
                            r = eb.wrk(srv.base, tokens, events, secs, offsets[events], t)
                            r.server_cpu_s = eb.cpu_seconds(srv.pid) - cpu0
                            offsets[events] += r.requests + eb.CONNECTIONS
                            return r

                        once(warmup, f"{tag}{rnd}{n}{attr}w")
                        runs.setdefault((name, attr), []).append(
                            once(seconds, f"{tag}{rnd}{n}{attr}")
                        )
                stops[name] += stopped
                say(f"round {rnd + 1}: {name} done")
        for name in names:
            stack = STACKS[name]
            res = StackResult(stack, libs[name])
            for attr in ("health", "hot", "spread"):
                if (name, attr) in runs:
                    eb._check(f"{name} {attr}", runs[name, attr], say)
                    setattr(res, attr, _median(runs[name, attr]))
            res.stop_s = max(s.seconds for s in stops[name])
            res.stop_clean = all(s.clean for s in stops[name])
            for s in stops[name]:
                if "Traceback" in s.log_tail:
                    say(f"{name}: traceback in the server log:\n{s.log_tail}")
                    res.stop_clean = False
            if stack.socketio:
                if redis_url is None:
                    res.socketio = "not checked (no redis-server)"
                else:
                    with serve(stack, url, secret, work, workers, redis_url) as (srv, _):
                        res.socketio = asyncio.run(
                            _socketio_check(
                                srv.base,
                                world.tokens[-1],
                                world.tokens[:6],
                                (world.hot[0], *world.hot[1]),
                            )
                        )
            say(_line(res))
            results.append(res)
    return results


def _line(r: StackResult) -> str:
    def fig(f: Figure | None) -> str:
        if f is None:
            return "-"
        return f"{f.rate:,.0f}/s p50 {f.p50_ms:.1f} p99 {f.p99_ms:.1f} cpu {f.cpu_ms:.2f}ms"

    return (
        f"{r.stack.name}: loaded {','.join(r.libs) or '-'}; health {fig(r.health)}; hot "
        f"{fig(r.hot)}; spread {fig(r.spread)}; socket.io {r.socketio}; stop "
        f"{r.stop_s:.1f}s {'clean' if r.stop_clean else 'NOT CLEAN'}"
    )


if __name__ == "__main__":  # a quick look without PostgreSQL: SQLite in a temp dir
    sys.exit("run it through run.py: python tests/bench/run.py --only http-stack")
