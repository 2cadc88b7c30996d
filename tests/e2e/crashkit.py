"""A harness for crash tests: a real server process killed with SIGKILL and restarted while
concurrent clients keep sending idempotent requests, and a record of what each request got.

* ``ServerProcess`` runs uvicorn (``wagerkit_http.asgi:create_asgi --factory``) in its own
  process group (so ``os.killpg`` also takes any worker processes), appends its output to one
  log file across restarts, waits for ``/health``, kills it with SIGKILL and starts another.
* ``Call`` is one logical request: its Idempotency-Key never changes, however often it is sent.
  Every attempt ends as an answer (status, body, content type) or a transport failure
  (connection refused or reset, timeout): an *unacknowledged* call, whose fate only a retry
  with the same key can tell.
* ``crash_load`` drives ``concurrency`` clients and a chaos loop that kills the server at a
  random moment ``kills`` times, restarting it each time; a share of the unacknowledged calls
  is retried (same key) while the chaos goes on, the rest are left for ``retry_until_answered``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

__all__ = [
    "Answer",
    "Call",
    "LoadReport",
    "ServerProcess",
    "crash_load",
    "problems_in",
    "retry_until_answered",
]

JSON_TYPES = ("application/json", "application/problem+json")
NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout)


# -- the server process ------------------------------------------------------------------
# Each server is a fresh interpreter running uvicorn's own command line (what `python -m
# uvicorn` runs). To keep ten restarts within the test's time, the next one is started while
# the current one serves: it imports uvicorn and the app's modules, then waits for "go" on
# stdin before running uvicorn. A restart therefore costs the server's own start-up (building
# the app, the lifespan, binding the port), not Python's imports.
LAUNCHER = """\
import sys
import uvicorn
import wagerkit_http.asgi  # noqa: F401 - the imports a cold start would do
if sys.stdin.readline().strip() != "go":
    sys.exit(0)
uvicorn.main(prog_name="uvicorn")
"""


class ServerProcess:
    """uvicorn serving the wagerkit ASGI factory on a fixed loopback port, each run in its own
    session (process group), restartable after a SIGKILL. Output of every run is appended to
    ``log_path``. With ``warm`` (the default) the next run is pre-started (see ``LAUNCHER``)."""

    def __init__(
        self,
        env: dict[str, str],
        port: int,
        log_path: Path,
        *,
        workers: int = 1,
        warm: bool = True,
    ) -> None:
        self.env = env
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self.workers = workers
        self.warm = warm
        self.proc: subprocess.Popen[bytes] | None = None
        self._standby: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.kills = 0
        self.start_seconds: list[float] = []
        self._started_at = 0.0

    def _command(self) -> list[str]:
        cmd = [
            sys.executable, "-c", LAUNCHER, "wagerkit_http.asgi:create_asgi", "--factory",
            "--host", "127.0.0.1", "--port", str(self.port),
            "--log-level", "info", "--no-access-log", "--timeout-graceful-shutdown", "5",
        ]  # fmt: skip
        if self.workers > 1:
            cmd += ["--workers", str(self.workers)]
        return cmd

    def _spawn(self) -> subprocess.Popen[bytes]:
        with self.log_path.open("ab") as log:
            return subprocess.Popen(
                self._command(),
                env=self.env,
                cwd=self.log_path.parent,
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: killpg takes the workers too
            )

    def start(self) -> None:
        """Run a server: the pre-started one if there is one, else a new one."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        proc, self._standby = self._standby or self._spawn(), None
        self.starts += 1
        with self.log_path.open("ab") as log:
            log.write(f"\n=== crashkit: start #{self.starts} (pid {proc.pid}) ===\n".encode())
        assert proc.stdin is not None
        proc.stdin.write(b"go\n")
        proc.stdin.close()
        self.proc = proc
        self._started_at = time.monotonic()
        if self.warm:
            self._standby = self._spawn()

    async def wait_healthy(self, within: float = 45.0) -> float:
        """Poll ``/health`` until it answers 200; the seconds since ``start``. Fails with the
        log's tail if the process exits or the time runs out."""
        assert self.proc is not None
        deadline = time.monotonic() + within
        async with httpx.AsyncClient(timeout=1.0) as http:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise AssertionError(
                        f"server exited with {self.proc.returncode}:\n{self.log_tail()}"
                    )
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get(f"{self.url}/health")).status_code == 200:
                        took = time.monotonic() - self._started_at
                        self.start_seconds.append(took)
                        return took
                await asyncio.sleep(0.02)
        raise AssertionError(f"server not healthy after {within}s:\n{self.log_tail()}")

    async def kill(self) -> None:
        """SIGKILL the server's whole process group, and reap the process."""
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        await asyncio.to_thread(self.proc.wait)
        self.kills += 1

    async def stop(self) -> None:
        """Shut the server down gracefully (SIGINT; SIGKILL after 20 s); end the standby."""
        standby, self._standby = self._standby, None
        if standby is not None:
            with contextlib.suppress(OSError):
                assert standby.stdin is not None
                standby.stdin.close()  # no "go": it exits
            try:
                await asyncio.wait_for(asyncio.to_thread(standby.wait), 20)
            except TimeoutError:
                os.killpg(standby.pid, signal.SIGKILL)
                await asyncio.to_thread(standby.wait)
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGINT)
        try:
            await asyncio.wait_for(asyncio.to_thread(self.proc.wait), 20)
        except TimeoutError:
            os.killpg(self.proc.pid, signal.SIGKILL)
            await asyncio.to_thread(self.proc.wait)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[ServerProcess]:
        """Started and healthy inside the block; stopped (or killed) after it."""
        try:
            self.start()
            await self.wait_healthy()
            yield self
        finally:
            await self.stop()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_text()[-chars:]


# -- what the clients saw ----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    content_type: str
    text: str
    phase: str  # "load" (while the server was being killed) or "retry" (afterwards)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        import json

        return json.loads(self.text)


@dataclass(slots=True)
class Call:
    """One logical request; every attempt sends the same method, path, body and headers (so
    the same Idempotency-Key)."""

    key: str
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    user_id: int
    amount: int
    kind: str = ""  # what the test calls it ("bet", "adjust" …)
    method: str = "POST"
    attempts: int = 0
    failures: list[str] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    sent_ambiguously: bool = False  # a failure after the request may have reached the server

    @property
    def answered(self) -> bool:
        return bool(self.answers)

    @property
    def final(self) -> Answer:
        return self.answers[-1]

    @property
    def acked_at_once(self) -> bool:
        """Answered 2xx at its first attempt."""
        return self.attempts >= 1 and not self.failures and self.answered and self.final.ok

    @property
    def unacknowledged(self) -> bool:
        """At least one attempt ended without an answer."""
        return bool(self.failures)

    async def send(self, http: httpx.AsyncClient, phase: str) -> Answer | None:
        """One attempt: the answer, or None (recorded as a failure) when none came."""
        self.attempts += 1
        try:
            r = await http.request(self.method, self.path, json=self.body, headers=self.headers)
        except httpx.TransportError as exc:  # refused, reset, closed mid-response, timed out
            self.failures.append(type(exc).__name__)
            if not isinstance(exc, NEVER_SENT):
                self.sent_ambiguously = True
            return None
        except asyncio.CancelledError:  # the client was stopped mid-request: as unanswered
            self.failures.append("Cancelled")
            self.sent_ambiguously = True
            raise
        answer = Answer(
            r.status_code, r.headers.get("content-type", "").split(";")[0].strip(), r.text, phase
        )
        self.answers.append(answer)
        return answer


def problems_in(calls: Iterable[Call]) -> list[str]:
    """Answers that break the HTTP contract under crashes: anything but JSON or problem+json,
    a traceback in a body, a 5xx."""
    out: list[str] = []
    for c in calls:
        for a in c.answers:
            if a.content_type not in JSON_TYPES:
                out.append(f"{c.key}: {a.status} {a.content_type!r}: {a.text[:200]!r}")
            elif "Traceback" in a.text or 'File "' in a.text:
                out.append(f"{c.key}: {a.status} carries a traceback: {a.text[:300]!r}")
            elif a.status >= 500:
                out.append(f"{c.key}: {a.status}: {a.text[:300]!r}")
    return out


# -- load under chaos --------------------------------------------------------------------
@dataclass(slots=True)
class LoadReport:
    calls: list[Call]
    kills: int
    seconds: float
    start_seconds: list[float]

    @property
    def requests(self) -> int:
        return sum(c.attempts for c in self.calls)

    @property
    def acked_at_once(self) -> int:
        return sum(c.acked_at_once for c in self.calls)

    @property
    def unacknowledged(self) -> list[Call]:
        return [c for c in self.calls if c.unacknowledged]

    def summary(self) -> dict[str, Any]:
        unacked = self.unacknowledged
        return {
            "kills": self.kills,
            "seconds": round(self.seconds, 1),
            "restart_seconds_avg": round(sum(self.start_seconds) / len(self.start_seconds), 2)
            if self.start_seconds
            else None,
            "calls": len(self.calls),
            "requests": self.requests,
            "acked_at_once": self.acked_at_once,
            "unacknowledged": len(unacked),
            "unacknowledged_maybe_sent": sum(c.sent_ambiguously for c in unacked),
            "failures": _count(f for c in self.calls for f in c.failures),
            "statuses": _count(str(a.status) for c in self.calls for a in c.answers),
        }


def _count(items: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for i in items:
        out[i] = out.get(i, 0) + 1
    return dict(sorted(out.items()))


async def crash_load(
    server: ServerProcess,
    new_call: Callable[[random.Random], Call],
    *,
    kills: int,
    concurrency: int,
    rng: random.Random,
    up_seconds: tuple[float, float] = (0.3, 1.5),
    down_seconds: tuple[float, float] = (0.0, 0.2),
    retry_share: float = 0.5,
    tail_seconds: float = 0.5,
    request_seconds: float = 5.0,
) -> LoadReport:
    """With ``server`` healthy, run ``concurrency`` clients sending ``new_call(rng)`` calls
    while a chaos loop, ``kills`` times, waits a random ``up_seconds`` and SIGKILLs the server,
    leaves it dead for ``down_seconds`` and restarts it (waiting for ``/health``). A client
    whose call went unacknowledged retries that call (same key) after the restart with
    probability ``retry_share``, else moves on; a request without an answer after
    ``request_seconds`` counts as unacknowledged. Load goes on for ``tail_seconds`` after the
    last restart. The server is left running."""
    calls: list[Call] = []
    up = asyncio.Event()
    up.set()
    done = asyncio.Event()
    began = time.monotonic()

    async def client(http: httpx.AsyncClient, crng: random.Random) -> None:
        pending: Call | None = None
        while not done.is_set():
            await up.wait()
            if done.is_set():
                return
            call = pending
            if call is None:
                call = new_call(crng)
                calls.append(call)
            pending = None
            if await call.send(http, "load") is None:
                if crng.random() < retry_share:
                    pending = call
                if up.is_set():  # a failure while the server runs (a timeout): breathe
                    await asyncio.sleep(0.05)

    async def chaos() -> None:
        try:
            for _ in range(kills):
                await asyncio.sleep(rng.uniform(*up_seconds))
                up.clear()
                await server.kill()
                await asyncio.sleep(rng.uniform(*down_seconds))
                server.start()
                await server.wait_healthy()
                up.set()
            await asyncio.sleep(tail_seconds)
        finally:
            done.set()
            up.set()  # release the clients waiting for the server so they see `done`

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=server.url, timeout=request_seconds, limits=limits
    ) as http:
        workers = [
            asyncio.create_task(client(http, random.Random(rng.random())))
            for _ in range(concurrency)
        ]
        try:
            await chaos()
            await asyncio.gather(*workers)
        finally:
            for w in workers:
                w.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
    return LoadReport(calls, server.kills, time.monotonic() - began, list(server.start_seconds))


async def retry_until_answered(
    url: str, calls: Iterable[Call], *, concurrency: int = 16, deadline_seconds: float = 60.0
) -> None:
    """Send each unanswered call again, same key, until it gets an answer (any status)."""
    todo = [c for c in calls if not c.answered]
    queue: asyncio.Queue[Call] = asyncio.Queue()
    for c in todo:
        queue.put_nowait(c)
    deadline = time.monotonic() + deadline_seconds

    async def worker(http: httpx.AsyncClient) -> None:
        while True:
            try:
                c = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            while await c.send(http, "retry") is None:
                if time.monotonic() > deadline:
                    raise AssertionError(f"no answer for {c.key} after {c.attempts} attempts")
                await asyncio.sleep(0.1)

    async with httpx.AsyncClient(base_url=url, timeout=20.0) as http:
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
