"""Start a private, throw-away PostgreSQL server for the test run and the benchmarks.

PostgreSQL refuses to run as root, so as root the server runs as the ``postgres`` system user
(``runuser``). Durability settings stay at their defaults (fsync and synchronous_commit on):
what we measure and test is the production behaviour. Set ``WAGERKIT_TEST_PG_URL`` to use an
existing server instead.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

PG_BIN = Path(os.environ.get("WAGERKIT_PG_BIN", "/usr/lib/postgresql/15/bin"))


class PgServer:
    def __init__(self, url: str, port: int, bin_dir: Path, datadir: Path | None) -> None:
        self.url = url
        self.port = port
        self.bin_dir = bin_dir
        self.datadir = datadir

    def tool(self, name: str) -> str:
        return str(self.bin_dir / name)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        # runuser lives in /usr/sbin, which a minimal PATH (a CI runner's) may leave out
        runuser = shutil.which("runuser") or shutil.which("runuser", path="/usr/sbin:/sbin")
        return [runuser or "runuser", "-u", "postgres", "--", *cmd]
    return cmd


def _run(cmd: list[str], **kw: object) -> None:
    res = subprocess.run(_as_postgres(cmd), capture_output=True, text=True, check=False, **kw)  # type: ignore[call-overload]
    if res.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd[:2])} failed ({res.returncode}): {res.stderr.strip()[-2000:]}"
        )


@contextlib.contextmanager
def postgres_server(max_connections: int = 200) -> Iterator[PgServer]:
    """A running server with an empty database ``wagerkit``; stopped and removed afterwards."""
    existing = os.environ.get("WAGERKIT_TEST_PG_URL")
    if existing:
        yield PgServer(existing, 0, PG_BIN, None)
        return
    if not (PG_BIN / "initdb").exists():
        raise RuntimeError(
            f"PostgreSQL binaries not found in {PG_BIN}; install postgresql-15 "
            "or set WAGERKIT_PG_BIN / WAGERKIT_TEST_PG_URL"
        )
    root = Path(tempfile.mkdtemp(prefix="wagerkit-pg-"))
    datadir = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    os.chmod(root, 0o755)
    port = _free_port()
    _run(
        [
            str(PG_BIN / "initdb"),
            "-D",
            str(datadir),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        ]
    )
    conf = (
        f"port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{root}'\n"
        f"max_connections = {max_connections}\nshared_buffers = 256MB\n"
        "fsync = on\nsynchronous_commit = on\n"
        # more settings, ';'-separated, e.g. to watch a benchmark's statements:
        # WAGERKIT_TEST_PG_CONF="shared_preload_libraries='pg_stat_statements'"
        + os.environ.get("WAGERKIT_TEST_PG_CONF", "").replace(";", "\n")
        + "\n"
    )
    _run(["sh", "-c", f"cat >> {datadir}/postgresql.conf <<'EOF'\n{conf}EOF"])
    _run(
        [
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(datadir),
            "-l",
            str(root / "log"),
            "-w",
            "-t",
            "60",
            "start",
        ]
    )
    try:
        _run(
            [
                str(PG_BIN / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                "postgres",
                "wagerkit",
            ]
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            time.sleep(0.1)
        yield PgServer(f"postgresql://postgres@127.0.0.1:{port}/wagerkit", port, PG_BIN, datadir)
    finally:
        subprocess.run(
            _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(datadir), "-m", "fast", "-w", "stop"]),
            capture_output=True,
            check=False,
        )
        shutil.rmtree(root, ignore_errors=True)


def create_database(server: PgServer, name: str) -> str:
    """A fresh, empty database on the server; returns its URL."""
    import psycopg

    admin = server.url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return server.url.rsplit("/", 1)[0] + f"/{name}"
